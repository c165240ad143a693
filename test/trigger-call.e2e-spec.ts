import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { startUltravoxSim, UltravoxSim } from '../tools/ultravox-sim/server';
import { errorBody, expectValidationFailed } from './support/errors';
import { callingAgency, CallingAgency, simCreateCalls, trigger } from './support/call-fixtures';
import { createAgency, generateApiKey, TestAgency, ultravoxKey } from './support/fixtures';
import { dialParked, dialsSettled } from './support/settled';
import { waitFor } from './support/wait';
import { startTestApp, TestApp } from './support/test-app';

// POST /api/trigger-call (CONTRACT §5.3) and the calls API (§5.6), against the real app, Postgres,
// Redis and the Ultravox simulator.

type Json = Record<string, unknown>;
/** What Switchboard sends Ultravox to create a call (the parts these tests read). */
interface DialBody {
  metadata: { switchboard_call_id: string; switchboard_agency_id: string };
}
interface CallRow extends Json {
  id: string;
  status: string;
  phone_number: string;
  agent_id: string;
  created_at: string;
}

/** A calling window that is closed now: one hour, three days from today (UTC). Calls with it are `scheduled`. */
function closedWindow() {
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  return { timezone: 'UTC', days: [days[(new Date().getUTCDay() + 3) % 7]], start: '10:00', end: '11:00' };
}

describe('POST /api/trigger-call and the calls API (CONTRACT §5.3, §5.6)', () => {
  let sim: UltravoxSim;
  let t: TestApp;
  /** Shared by tests whose requests are all refused: it must never get a call. */
  let refused: CallingAgency;

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.02 });
    t = await startTestApp(
      { ULTRAVOX_API_BASE_URL: sim.url, CALLS_SWEEP_INTERVAL_MS: '500' },
      { reachable: true },
    );
    refused = await callingAgency(t);
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  const api = () => request(t.url);

  function listCalls(auth: string, query: Json = {}) {
    return api().get('/api/v1/calls').query(query).set('Authorization', auth);
  }

  function getCall(auth: string, id: string) {
    return api().get(`/api/v1/calls/${id}`).set('Authorization', auth);
  }

  /** Nothing stored (the agency's calls list is empty) and nothing dialed (the simulator saw no call). */
  async function expectNothingPlaced(agency: TestAgency, ultravoxApiKey: string | null): Promise<void> {
    const res = await listCalls(agency.owner.auth).expect(200);
    expect(res.body.data).toEqual([]);
    const { rows } = await t.db.query('SELECT count(*)::int AS n FROM calls WHERE agency_id = $1', [
      agency.agencyId,
    ]);
    expect(rows[0].n).toBe(0);
    if (ultravoxApiKey) expect(simCreateCalls(sim, ultravoxApiKey)).toHaveLength(0);
  }

  /**
   * Waits until the simulator saw `n` create-calls for the key and every call of that agency was dialed
   * for good (nothing left that could dial again), then checks that there were exactly `n`.
   */
  async function expectSimCalls(key: string, n: number) {
    const [first] = await waitFor(
      () => simCreateCalls(sim, key).length >= n && simCreateCalls(sim, key),
      15_000,
      `${n} create-call(s) at the sim`,
    );
    await dialsSettled(t, (first.body as unknown as DialBody).metadata.switchboard_agency_id);
    const calls = simCreateCalls(sim, key);
    expect(calls).toHaveLength(n);
    return calls;
  }

  /** An agent created through the API by the agency's owner. */
  async function createAgent(agency: TestAgency, body: Json = {}): Promise<string> {
    const res = await api()
      .post('/api/v1/agents')
      .set('Authorization', agency.owner.auth)
      .send({ name: 'Agent', ultravox_agent_id: randomUUID(), phone_number: '+15550002222', ...body })
      .expect(201);
    return res.body.data.id as string;
  }

  async function setDefaultAgent(agency: TestAgency, agentId: string | null) {
    await api()
      .patch('/api/v1/integrations/api')
      .set('Authorization', agency.owner.auth)
      .send({ default_agent_id: agentId })
      .expect(200);
  }

  async function saveUltravoxKey(agency: TestAgency, key: string) {
    await api()
      .post('/functions/v1/save-ultravox-integration')
      .set('Authorization', agency.owner.auth)
      .send({ api_key: key, register_webhook: true })
      .expect(200);
  }

  async function waitForStatus(agency: TestAgency, callId: string, status: string): Promise<Json> {
    return waitFor(
      async () => {
        const res = await getCall(agency.owner.auth, callId).expect(200);
        return res.body.data.status === status ? (res.body.data as Json) : null;
      },
      20_000,
      `call ${callId} to be ${status}`,
    );
  }

  describe('success', () => {
    it('answers 200 {success, call_id, status: "queued"} and the simulator receives exactly one create-call', async () => {
      const agency = await callingAgency(t);
      const res = await trigger(t, agency.apiKey, {
        phone: '+15551234567',
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        metadata: { crm_id: 'lead-1' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        success: true,
        call_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        status: 'queued',
        missing_variables: [],
      });
      expect(res.headers['idempotent-replayed']).toBeUndefined();

      const [created] = await expectSimCalls(agency.ultravoxKey, 1);
      expect(created.path).toBe(`/api/agents/${agency.ultravoxAgentId}/calls`);
      expect(created.body).toMatchObject({
        medium: { twilio: { outgoing: { to: '+15551234567', from: agency.callerId } } },
        metadata: { switchboard_call_id: res.body.call_id },
      });
      const list = await listCalls(agency.owner.auth).expect(200);
      expect(list.body.data.map((c: CallRow) => c.id)).toEqual([res.body.call_id]);
    });

    it('outside the agent calling window answers status "scheduled" with scheduled_for, and dials nothing yet', async () => {
      const agency = await callingAgency(t);
      const agentId = await createAgent(agency, { calling_window: closedWindow() });
      const res = await trigger(t, agency.apiKey, { phone: '+15551234001', agent_id: agentId }).expect(200);
      expect(res.body).toEqual({
        success: true,
        call_id: expect.any(String),
        status: 'scheduled',
        scheduled_for: expect.any(String),
        missing_variables: [],
      });
      const opensIn = Date.parse(res.body.scheduled_for) - t.clock.now().getTime();
      expect(opensIn).toBeGreaterThan(24 * 3600_000);
      expect(opensIn).toBeLessThan(4 * 24 * 3600_000);
      await dialParked(t, res.body.call_id);
      expect(simCreateCalls(sim, agency.ultravoxKey)).toHaveLength(0);
    });
  });

  describe('refusals (every row of the §5.3 table); nothing is stored or dialed', () => {
    describe('400 validation_failed', () => {
      it.each([
        ['without a plus', '15551234567'],
        ['formatted (CONTRACT §5.3: E.164 only)', '+1 (555) 123-4572'],
        ['with a trailing newline', '+15551234572\n'],
        ['with letters', '+1555CALLNOW'],
        ['too short', '+1555'],
        ['empty', ''],
        ['a number instead of a string', 15551234567],
      ])('phone not E.164 (%s)', async (_, phone) => {
        const res = await trigger(t, refused.apiKey, { phone });
        expectValidationFailed(res, 'phone');
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });

      it('phone missing', async () => {
        const res = await trigger(t, refused.apiKey, { name: 'No Number' });
        expectValidationFailed(res, 'phone');
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });

      it('bad email', async () => {
        const res = await trigger(t, refused.apiKey, { phone: '+15551234567', email: 'not-an-email' });
        expectValidationFailed(res, 'email');
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });

      it('agent_id not a uuid', async () => {
        const res = await trigger(t, refused.apiKey, { phone: '+15551234567', agent_id: 'agent-1' });
        expectValidationFailed(res, 'agent_id');
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });

      it.each([
        ['an array', [{ crm_id: 1 }]],
        ['a string', '{"crm_id": 1}'],
        ['a number', 42],
        ['larger than 16 KB', { note: 'x'.repeat(16 * 1024) }],
      ])('metadata %s', async (_, metadata) => {
        const res = await trigger(t, refused.apiKey, { phone: '+15551234567', metadata });
        expectValidationFailed(res, 'metadata');
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });

      it('metadata of exactly 16 KB of JSON is accepted, one byte more is not', async () => {
        const agency = await callingAgency(t);
        const fits = { n: 'x'.repeat(16 * 1024 - '{"n":""}'.length) };
        expect(Buffer.byteLength(JSON.stringify(fits))).toBe(16 * 1024);
        const over = await trigger(t, agency.apiKey, {
          phone: '+15551234567',
          metadata: { ...fits, n: `${fits.n}x` },
        });
        expectValidationFailed(over, 'metadata');
        await expectNothingPlaced(agency, agency.ultravoxKey);
        const ok = await trigger(t, agency.apiKey, { phone: '+15551234567', metadata: fits }).expect(200);
        const call = (await getCall(agency.owner.auth, ok.body.call_id).expect(200)).body.data;
        expect(call.metadata).toEqual(fits);
      });

      it('an unknown body field', async () => {
        const res = await trigger(t, refused.apiKey, { phone: '+15551234567', callback_url: 'x' });
        expectValidationFailed(res, 'callback_url');
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });

      it('several bad fields at once: one details entry per field', async () => {
        const res = await trigger(t, refused.apiKey, {
          phone: 'call me',
          email: 'nope',
          agent_id: 'x',
          metadata: [],
        });
        expectValidationFailed(res, 'phone', 'email', 'agent_id', 'metadata');
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });
    });

    it('400 no_agent: no agent_id and the agency has no default agent (passing agent_id then works)', async () => {
      const agency = await createAgency(t, 'No default agent agency');
      const key = ultravoxKey();
      await saveUltravoxKey(agency, key);
      const apiKey = await generateApiKey(t, agency.owner);

      const res = await trigger(t, apiKey, { phone: '+15551234567' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('no_agent'));
      await expectNothingPlaced(agency, key);

      const agentId = await createAgent(agency);
      await trigger(t, apiKey, { phone: '+15551234567', agent_id: agentId }).expect(200);
      await expectSimCalls(key, 1);
    });

    describe('401 unauthorized', () => {
      it('no Authorization header', async () => {
        const res = await api().post('/api/trigger-call').send({ phone: '+15551234567' });
        expect(res.status).toBe(401);
        expect(res.body).toEqual(errorBody('unauthorized'));
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });

      it('an unknown API key', async () => {
        const res = await trigger(t, `sb_live_${randomBytes(32).toString('base64url')}`, {
          phone: '+15551234567',
        });
        expect(res.status).toBe(401);
        expect(res.body).toEqual(errorBody('unauthorized'));
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });

      it('a revoked API key (a new one was generated)', async () => {
        const agency = await callingAgency(t);
        await generateApiKey(t, agency.owner);
        const res = await trigger(t, agency.apiKey, { phone: '+15551234567' });
        expect(res.status).toBe(401);
        expect(res.body).toEqual(errorBody('unauthorized'));
        await expectNothingPlaced(agency, agency.ultravoxKey);
      });

      it('a dashboard JWT (trigger-call is for agency API keys)', async () => {
        const res = await api()
          .post('/api/trigger-call')
          .set('Authorization', refused.owner.auth)
          .send({ phone: '+15551234567' });
        expect(res.status).toBe(401);
        expect(res.body).toEqual(errorBody('unauthorized'));
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });
    });

    it('403 api_disabled while API access is disabled; enabling it again restores calling', async () => {
      const agency = await callingAgency(t);
      await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', agency.owner.auth)
        .send({ enabled: false })
        .expect(200);
      const res = await trigger(t, agency.apiKey, { phone: '+15551234567' });
      expect(res.status).toBe(403);
      expect(res.body).toEqual(errorBody('api_disabled'));
      await expectNothingPlaced(agency, agency.ultravoxKey);

      await api()
        .patch('/api/v1/integrations/api')
        .set('Authorization', agency.owner.auth)
        .send({ enabled: true })
        .expect(200);
      await trigger(t, agency.apiKey, { phone: '+15551234567' }).expect(200);
    });

    describe('404 agent_not_found', () => {
      it('a random agent uuid', async () => {
        const res = await trigger(t, refused.apiKey, { phone: '+15551234567', agent_id: randomUUID() });
        expect(res.status).toBe(404);
        expect(res.body).toEqual(errorBody('agent_not_found'));
        await expectNothingPlaced(refused, refused.ultravoxKey);
      });

      it("another agency's agent", async () => {
        const other = await callingAgency(t);
        const res = await trigger(t, refused.apiKey, { phone: '+15551234567', agent_id: other.agentId });
        expect(res.status).toBe(404);
        expect(res.body).toEqual(errorBody('agent_not_found'));
        expect(JSON.stringify(res.body)).not.toContain('Sales Agent');
        await expectNothingPlaced(refused, refused.ultravoxKey);
        await expectNothingPlaced(other, other.ultravoxKey);
      });

      it('a default agent that was deleted', async () => {
        const agency = await callingAgency(t);
        const spare = await createAgent(agency);
        await setDefaultAgent(agency, spare);
        await api()
          .delete(`/api/v1/agents/${spare}`)
          .set('Authorization', agency.owner.auth)
          .expect((r) => expect(r.status).toBeLessThan(300));
        const res = await trigger(t, agency.apiKey, { phone: '+15551234567' });
        // Deleting the agent clears the default: the agency has no default agent any more.
        expect(res.status).toBe(400);
        expect(res.body).toEqual(errorBody('no_agent'));
        await expectNothingPlaced(agency, agency.ultravoxKey);
      });
    });

    it('422 agent_has_no_phone_number: an explicit agent, and a default agent, without a caller id', async () => {
      const agency = await callingAgency(t);
      const silent = await createAgent(agency, { phone_number: undefined, name: 'No number' });

      const explicit = await trigger(t, agency.apiKey, { phone: '+15551234567', agent_id: silent });
      expect(explicit.status).toBe(422);
      expect(explicit.body).toEqual(errorBody('agent_has_no_phone_number'));

      await setDefaultAgent(agency, silent);
      const byDefault = await trigger(t, agency.apiKey, { phone: '+15551234567' });
      expect(byDefault.status).toBe(422);
      expect(byDefault.body).toEqual(errorBody('agent_has_no_phone_number'));
      await expectNothingPlaced(agency, agency.ultravoxKey);
    });

    describe('422 ultravox_not_configured', () => {
      it('the agency never saved an Ultravox key', async () => {
        const agency = await createAgency(t, 'No Ultravox agency');
        await setDefaultAgent(agency, await createAgent(agency));
        const apiKey = await generateApiKey(t, agency.owner);
        const res = await trigger(t, apiKey, { phone: '+15551234567' });
        expect(res.status).toBe(422);
        expect(res.body).toEqual(errorBody('ultravox_not_configured'));
        await expectNothingPlaced(agency, null);
      });

      it('the agency DELETEd its Ultravox key', async () => {
        const agency = await callingAgency(t);
        await api()
          .delete('/api/v1/integrations/ultravox')
          .set('Authorization', agency.owner.auth)
          .expect(200);
        const res = await trigger(t, agency.apiKey, { phone: '+15551234567' });
        expect(res.status).toBe(422);
        expect(res.body).toEqual(errorBody('ultravox_not_configured'));
        await expectNothingPlaced(agency, agency.ultravoxKey);
      });
    });
  });

  describe('Idempotency-Key', () => {
    it('the same key and body answer the same call_id with Idempotent-Replayed: true; one call is placed', async () => {
      const agency = await callingAgency(t);
      const body = { phone: '+15551234567', name: 'Ada', metadata: { crm_id: 'lead-7' } };
      const first = await trigger(t, agency.apiKey, body, 'order-7').expect(200);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const replay = await trigger(t, agency.apiKey, body, 'order-7').expect(200);
      expect(replay.body).toEqual(first.body);
      expect(replay.headers['idempotent-replayed']).toBe('true');

      await expectSimCalls(agency.ultravoxKey, 1);
      const list = await listCalls(agency.owner.auth).expect(200);
      expect(list.body.data.map((c: CallRow) => c.id)).toEqual([first.body.call_id]);
    });

    it('the same body with its keys in another order counts as the same request', async () => {
      const agency = await callingAgency(t);
      const first = await trigger(
        t,
        agency.apiKey,
        { phone: '+15551234567', name: 'Ada', metadata: { a: 1, b: { c: 2, d: 3 } } },
        'reordered',
      ).expect(200);
      const replay = await trigger(
        t,
        agency.apiKey,
        { metadata: { b: { d: 3, c: 2 }, a: 1 }, name: 'Ada', phone: '+15551234567' },
        'reordered',
      ).expect(200);
      expect(replay.body.call_id).toBe(first.body.call_id);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      await expectSimCalls(agency.ultravoxKey, 1);
    });

    it('the same key with another body answers 422 idempotency_key_reused and places nothing more', async () => {
      const agency = await callingAgency(t);
      const first = await trigger(t, agency.apiKey, { phone: '+15551234567' }, 'reused').expect(200);
      const other = await trigger(t, agency.apiKey, { phone: '+15557654321' }, 'reused');
      expect(other.status).toBe(422);
      expect(other.body).toEqual(errorBody('idempotency_key_reused'));

      await expectSimCalls(agency.ultravoxKey, 1);
      const list = await listCalls(agency.owner.auth).expect(200);
      expect(list.body.data.map((c: CallRow) => c.id)).toEqual([first.body.call_id]);
    });

    it('10 concurrent requests with one key answer one call_id (or 409 idempotency_key_in_progress); one call is placed', async () => {
      const agency = await callingAgency(t);
      const body = { phone: '+15551234567', metadata: { burst: true } };
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => trigger(t, agency.apiKey, body, 'burst-1')),
      );
      const ok = answers.filter((r) => r.status === 200);
      const busy = answers.filter((r) => r.status !== 200);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      for (const r of busy) {
        expect(r.status).toBe(409);
        expect(r.body).toEqual(errorBody('idempotency_key_in_progress'));
      }
      const callIds = new Set(ok.map((r) => r.body.call_id as string));
      expect(callIds.size).toBe(1);
      expect(ok.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);

      await expectSimCalls(agency.ultravoxKey, 1);
      const list = await listCalls(agency.owner.auth).expect(200);
      expect(list.body.data.map((c: CallRow) => c.id)).toEqual([...callIds]);
    });

    it('a key of 256 characters answers 400 validation_failed; 255 characters are accepted', async () => {
      const agency = await callingAgency(t);
      const res = await trigger(t, agency.apiKey, { phone: '+15551234567' }, 'k'.repeat(256));
      expectValidationFailed(res, 'Idempotency-Key');
      await expectNothingPlaced(agency, agency.ultravoxKey);

      await trigger(t, agency.apiKey, { phone: '+15551234567' }, 'k'.repeat(255)).expect(200);
    });

    it('a request that failed does not use up its key: retried after the fix it answers 200', async () => {
      const agency = await callingAgency(t);
      const wrong = await trigger(
        t,
        agency.apiKey,
        { phone: '+15551234567', agent_id: randomUUID() },
        'fix-then-retry',
      );
      expect(wrong.status).toBe(404);
      expect(wrong.body).toEqual(errorBody('agent_not_found'));

      const fixed = await trigger(
        t,
        agency.apiKey,
        { phone: '+15551234567', agent_id: agency.agentId },
        'fix-then-retry',
      );
      expect(fixed.status).toBe(200);
      expect(fixed.body).toEqual({
        success: true,
        call_id: expect.any(String),
        status: 'queued',
        missing_variables: [],
      });
      expect(fixed.headers['idempotent-replayed']).toBeUndefined();
      await expectSimCalls(agency.ultravoxKey, 1);
    });

    it('the same body refused for the state of the agency succeeds with the same key once the state is fixed', async () => {
      const agency = await callingAgency(t);
      await api().delete('/api/v1/integrations/ultravox').set('Authorization', agency.owner.auth).expect(200);
      const body = { phone: '+15551234567' };
      const refusedOnce = await trigger(t, agency.apiKey, body, 'after-setup');
      expect(refusedOnce.status).toBe(422);
      expect(refusedOnce.body).toEqual(errorBody('ultravox_not_configured'));

      const key = ultravoxKey();
      await saveUltravoxKey(agency, key);
      const retried = await trigger(t, agency.apiKey, body, 'after-setup').expect(200);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      await expectSimCalls(key, 1);
    });

    it('after 24 h a key is forgotten: reusing it places a new call', async () => {
      const agency = await callingAgency(t);
      const first = await trigger(t, agency.apiKey, { phone: '+15551234567' }, 'daily').expect(200);
      // Age the stored key instead of waiting a day.
      await t.db.query(
        `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE agency_id = $1`,
        [agency.agencyId],
      );
      const next = await trigger(t, agency.apiKey, { phone: '+15557654321' }, 'daily').expect(200);
      expect(next.body.call_id).not.toBe(first.body.call_id);
      expect(next.headers['idempotent-replayed']).toBeUndefined();
      await expectSimCalls(agency.ultravoxKey, 2);
    });

    it("keys are per agency: agency B may use agency A's key string for its own call", async () => {
      const a = await callingAgency(t);
      const b = await callingAgency(t);
      const fromA = await trigger(t, a.apiKey, { phone: '+15551234567' }, 'shared-key').expect(200);
      const fromB = await trigger(t, b.apiKey, { phone: '+15557654321' }, 'shared-key').expect(200);
      expect(fromB.body.call_id).not.toBe(fromA.body.call_id);
      expect(fromB.headers['idempotent-replayed']).toBeUndefined();
      // And B replaying the same body it sent gets its own call back.
      const replayB = await trigger(t, b.apiKey, { phone: '+15557654321' }, 'shared-key').expect(200);
      expect(replayB.body.call_id).toBe(fromB.body.call_id);
      await expectSimCalls(a.ultravoxKey, 1);
      await expectSimCalls(b.ultravoxKey, 1);
    });
  });

  describe('tenancy', () => {
    it("agency B's API key never sees A's calls", async () => {
      const a = await callingAgency(t);
      const b = await callingAgency(t);
      const call = await trigger(t, a.apiKey, { phone: '+15551234567', name: 'Secret Lead' }).expect(200);
      const keyOfA = `Bearer ${a.apiKey}`;
      const keyOfB = `Bearer ${b.apiKey}`;

      expect((await listCalls(keyOfA).expect(200)).body.data.map((c: CallRow) => c.id)).toEqual([
        call.body.call_id,
      ]);
      await getCall(keyOfA, call.body.call_id).expect(200);

      const list = await listCalls(keyOfB).expect(200);
      expect(list.body).toEqual({ success: true, data: [], next_cursor: null });
      const one = await getCall(keyOfB, call.body.call_id);
      expect(one.status).toBe(404);
      expect(one.body).toEqual(errorBody('call_not_found'));
      expect(JSON.stringify(one.body)).not.toContain('Secret Lead');
      // Filtering by A's agent from B finds nothing either.
      expect((await listCalls(keyOfB, { agent_id: a.agentId }).expect(200)).body.data).toEqual([]);
    });

    it('an unknown call id answers 404 call_not_found', async () => {
      const res = await getCall(`Bearer ${refused.apiKey}`, randomUUID());
      expect(res.status).toBe(404);
      expect(res.body).toEqual(errorBody('call_not_found'));
    });
  });

  describe('calls API (§5.6)', () => {
    it('lists newest first and filters by status, agent_id and phone', async () => {
      const agency = await callingAgency(t);
      const later = await createAgent(agency, { name: 'Later', calling_window: closedWindow() });
      const auth = `Bearer ${agency.apiKey}`;

      const answered = await trigger(t, agency.apiKey, { phone: '+15551230001' }).expect(200);
      const busy = await trigger(t, agency.apiKey, { phone: '+15557770486' }).expect(200);
      const scheduled = await trigger(t, agency.apiKey, {
        phone: '+15551230001',
        agent_id: later,
      }).expect(200);
      expect(scheduled.body.status).toBe('scheduled');
      await waitForStatus(agency, answered.body.call_id, 'completed');
      await waitForStatus(agency, busy.body.call_id, 'failed');

      const ids = async (query: Json) =>
        ((await listCalls(auth, query).expect(200)).body.data as CallRow[]).map((c) => c.id);

      const all = (await listCalls(auth).expect(200)).body;
      expect(all.success).toBe(true);
      expect(all.next_cursor).toBeNull();
      expect(all.data.map((c: CallRow) => c.id)).toEqual([
        scheduled.body.call_id,
        busy.body.call_id,
        answered.body.call_id,
      ]);
      const created = all.data.map((c: CallRow) => Date.parse(c.created_at));
      expect([...created].sort((x, y) => y - x)).toEqual(created);

      expect(await ids({ status: 'completed' })).toEqual([answered.body.call_id]);
      expect(await ids({ status: 'failed' })).toEqual([busy.body.call_id]);
      expect(await ids({ status: 'scheduled' })).toEqual([scheduled.body.call_id]);
      expect(await ids({ status: 'queued' })).toEqual([]);
      expect(await ids({ agent_id: later })).toEqual([scheduled.body.call_id]);
      expect(await ids({ agent_id: agency.agentId })).toEqual([busy.body.call_id, answered.body.call_id]);
      expect(await ids({ phone: '+15551230001' })).toEqual([scheduled.body.call_id, answered.body.call_id]);
      expect(await ids({ phone: '+15551230001', status: 'completed' })).toEqual([answered.body.call_id]);
      expect(await ids({ phone: '+15550009999' })).toEqual([]);

      const failed = (await listCalls(auth, { status: 'failed' }).expect(200)).body.data[0];
      expect(failed).toMatchObject({ status: 'failed', failure_reason: 'busy' });
    });

    it('filters by billing_status and by creation time (from inclusive, to exclusive)', async () => {
      const agency = await callingAgency(t);
      const auth = `Bearer ${agency.apiKey}`;
      const answered = (await trigger(t, agency.apiKey, { phone: '+15551230001' }).expect(200)).body
        .call_id as string;
      const busy = (await trigger(t, agency.apiKey, { phone: '+15557770486' }).expect(200)).body
        .call_id as string;
      // Both billed by Ultravox's call.billed (the simulator sends it after the end).
      const billingOf = (id: string) =>
        waitFor(
          async () => {
            const call = (await getCall(auth, id).expect(200)).body.data as Json;
            return call.billing_status && call.billing_status !== 'pending' ? call : null;
          },
          20_000,
          `call ${id} to be billed`,
        );
      const [a, b] = [await billingOf(answered), await billingOf(busy)];
      expect(a.billing_status).toBe('billed');
      expect(b.billing_status).toBe('free_zero_effective_duration');

      const ids = async (query: Json) =>
        ((await listCalls(auth, query).expect(200)).body.data as CallRow[]).map((c) => c.id);
      expect(await ids({ billing_status: 'billed' })).toEqual([answered]);
      expect(await ids({ billing_status: 'free_zero_effective_duration' })).toEqual([busy]);
      expect(await ids({ billing_status: 'pending' })).toEqual([]);

      // The busy call was created after the answered one.
      const busyCreated = b.created_at as string;
      expect(Date.parse(busyCreated)).toBeGreaterThan(Date.parse(a.created_at as string));
      expect(await ids({ from: busyCreated })).toEqual([busy]);
      expect(await ids({ to: busyCreated })).toEqual([answered]);
      expect(await ids({ from: a.created_at, to: busyCreated })).toEqual([answered]);
      expect(await ids({ from: busyCreated, billing_status: 'billed' })).toEqual([]);
    });

    it('rejects bad filters with 400 validation_failed', async () => {
      const auth = `Bearer ${refused.apiKey}`;
      expectValidationFailed(await listCalls(auth, { status: 'ringing' }), 'status');
      expectValidationFailed(await listCalls(auth, { agent_id: 'abc' }), 'agent_id');
      expectValidationFailed(await listCalls(auth, { phone: '5551234567' }), 'phone');
      expectValidationFailed(await listCalls(auth, { billing_status: 'paid' }), 'billing_status');
      expectValidationFailed(await listCalls(auth, { from: 'yesterday' }), 'from');
      expectValidationFailed(
        await listCalls(auth, { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }),
        'to',
      );
    });

    it('paginates with limit and next_cursor; limit=101 answers 400', async () => {
      const agency = await callingAgency(t);
      // Scheduled calls are never dialed during the test, so the list is stable.
      const later = await createAgent(agency, { calling_window: closedWindow() });
      const placed: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await trigger(t, agency.apiKey, { phone: `+1555123100${i}`, agent_id: later }).expect(
          200,
        );
        placed.unshift(res.body.call_id);
      }
      const auth = `Bearer ${agency.apiKey}`;

      const seen: string[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null | undefined;
      do {
        const page = (await listCalls(auth, cursor ? { limit: 2, cursor } : { limit: 2 }).expect(200)).body;
        pageSizes.push(page.data.length);
        seen.push(...page.data.map((c: CallRow) => c.id));
        cursor = page.next_cursor;
      } while (cursor && pageSizes.length < 10);
      expect(pageSizes).toEqual([2, 2, 1]);
      expect(seen).toEqual(placed);

      const exact = (await listCalls(auth, { limit: 5 }).expect(200)).body;
      expect(exact.data).toHaveLength(5);
      expect(exact.next_cursor).toBeNull();
      expect((await listCalls(auth, { limit: 100 }).expect(200)).body.data).toHaveLength(5);

      expectValidationFailed(await listCalls(auth, { limit: 101 }), 'limit');
      expectValidationFailed(await listCalls(auth, { limit: 0 }), 'limit');
      const forged = await listCalls(auth, { cursor: 'not-a-cursor' });
      expect(forged.status).toBe(400);
    });

    it('GET /api/v1/calls/:id shows every §5.6 field and the timeline', async () => {
      const agency = await callingAgency(t);
      const metadata = { crm_id: 'lead-9', tags: ['vip'] };
      const res = await trigger(t, agency.apiKey, {
        phone: '+15551239000',
        name: 'Grace Hopper',
        email: 'grace@example.com',
        metadata,
      }).expect(200);
      const callId = res.body.call_id as string;

      const queued = (await getCall(`Bearer ${agency.apiKey}`, callId).expect(200)).body;
      expect(queued.success).toBe(true);
      expect(queued.data.timeline[0]).toEqual({
        source: 'switchboard',
        event: 'queued',
        detail: null,
        at: expect.any(String),
      });

      await waitForStatus(agency, callId, 'completed');
      // Ultravox bills the call after it ended (call.billed): wait for that too, so that this read and
      // the list's below see the call settled.
      const body = await waitFor(
        async () => {
          const read = (await getCall(`Bearer ${agency.apiKey}`, callId).expect(200)).body;
          return read.data.billing_status === 'billed' && read;
        },
        20_000,
        'the call billed',
      );
      expect(body.success).toBe(true);
      const call = body.data;
      for (const field of [
        'id',
        'status',
        'failure_reason',
        'agent_id',
        'direction',
        'phone_number',
        'name',
        'email',
        'metadata',
        'ultravox_call_id',
        'scheduled_for',
        'created_at',
        'started_at',
        'ended_at',
        'duration_seconds',
        'summary',
        'sentiment',
        'transcript',
        'recording_url',
        'billing_status',
        'billed_duration_seconds',
        'timeline',
      ]) {
        expect(call).toHaveProperty(field);
      }
      expect(call).toMatchObject({
        id: callId,
        status: 'completed',
        failure_reason: null,
        agent_id: agency.agentId,
        direction: 'outbound',
        phone_number: '+15551239000',
        name: 'Grace Hopper',
        email: 'grace@example.com',
        metadata,
        ultravox_call_id: expect.any(String),
        scheduled_for: null,
        created_at: expect.any(String),
        started_at: expect.any(String),
        ended_at: expect.any(String),
        duration_seconds: expect.any(Number),
        summary: expect.any(String),
        sentiment: 'positive',
        transcript: expect.arrayContaining([
          expect.objectContaining({ role: 'agent', content: expect.any(String) }),
          expect.objectContaining({ role: 'human', content: expect.any(String) }),
        ]),
        recording_url: null,
        billing_status: 'billed',
        billed_duration_seconds: expect.any(Number),
      });
      const simCall = sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === callId);
      expect(call.ultravox_call_id).toBe(simCall?.call.callId);
      expect(Date.parse(call.created_at)).toBeLessThanOrEqual(Date.parse(call.started_at));
      expect(Date.parse(call.started_at)).toBeLessThanOrEqual(Date.parse(call.ended_at));

      const events = (call.timeline as { event: string; at: string }[]).map((e) => e.event);
      expect(events[0]).toBe('queued');
      expect(events).toEqual(expect.arrayContaining(['queued', 'dialing', 'call.started', 'call.completed']));
      const times = (call.timeline as { at: string }[]).map((e) => Date.parse(e.at));
      expect([...times].sort((x, y) => x - y)).toEqual(times);

      // The list shows the same call, without the timeline.
      const listed = (await listCalls(`Bearer ${agency.apiKey}`).expect(200)).body.data[0];
      const { timeline: _timeline, ...withoutTimeline } = call;
      expect(listed).toEqual(expect.objectContaining(withoutTimeline));
    });

    it('a scheduled call shows scheduled_for and has not started', async () => {
      const agency = await callingAgency(t);
      const later = await createAgent(agency, { calling_window: closedWindow() });
      const res = await trigger(t, agency.apiKey, { phone: '+15551239001', agent_id: later }).expect(200);
      const call = (await getCall(agency.member.auth, res.body.call_id).expect(200)).body.data;
      expect(call).toMatchObject({
        status: 'scheduled',
        scheduled_for: res.body.scheduled_for,
        started_at: null,
        ended_at: null,
        ultravox_call_id: null,
        transcript: null,
        agent_id: later,
      });
      expect(call.timeline.map((e: { event: string }) => e.event)).toEqual(['scheduled']);
    });
  });
});

describe('API_RATE_LIMIT_PER_MINUTE (CONTRACT §2, §5.3 429 rate_limited)', () => {
  let sim: UltravoxSim;

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.02 });
  });
  afterAll(() => sim.close());

  async function withApp(limit: string, run: (t: TestApp) => Promise<void>) {
    const t = await startTestApp(
      { ULTRAVOX_API_BASE_URL: sim.url, API_RATE_LIMIT_PER_MINUTE: limit },
      { reachable: true },
    );
    try {
      await run(t);
    } finally {
      await t.close();
    }
  }

  it('3 per minute: 3 calls with a decreasing X-RateLimit-Remaining, then 429 with Retry-After; nothing placed for it', async () => {
    await withApp('3', async (t) => {
      const agency = await callingAgency(t);
      const other = await callingAgency(t);
      // Fixed one-minute windows: the app's clock stands still 10 s into a minute for the burst.
      const frozen = t.clock.freeze(Math.floor(Date.now() / 60_000) * 60_000 + 10_000);

      const ok = [];
      for (const phone of ['+15551231001', '+15551231002', '+15551231003']) {
        ok.push(await trigger(t, agency.apiKey, { phone }).expect(200));
      }
      expect(ok.map((r) => r.headers['x-ratelimit-limit'])).toEqual(['3', '3', '3']);
      expect(ok.map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0']);
      const reset = Number(ok[0].headers['x-ratelimit-reset']);
      const now = Math.floor(frozen.getTime() / 1000);
      expect(reset).toBeGreaterThan(now - 1);
      expect(reset).toBeLessThanOrEqual(now + 61);
      expect(ok.map((r) => Number(r.headers['x-ratelimit-reset']))).toEqual([reset, reset, reset]);

      const limited = await trigger(t, agency.apiKey, { phone: '+15551231004' });
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual(errorBody('rate_limited'));
      const retryAfter = Number(limited.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.headers['x-ratelimit-limit']).toBe('3');
      expect(limited.headers['x-ratelimit-remaining']).toBe('0');
      expect(Number(limited.headers['x-ratelimit-reset'])).toBe(reset);

      // Every request with that key is limited, reads included; the dashboard and other keys are not.
      const read = await request(t.url).get('/api/v1/calls').set('Authorization', `Bearer ${agency.apiKey}`);
      expect(read.status).toBe(429);
      expect(read.body).toEqual(errorBody('rate_limited'));
      await trigger(t, other.apiKey, { phone: '+15551231005' }).expect(200);

      const list = await request(t.url)
        .get('/api/v1/calls')
        .set('Authorization', agency.owner.auth)
        .expect(200);
      expect(list.body.data.map((c: CallRow) => c.phone_number).sort()).toEqual([
        '+15551231001',
        '+15551231002',
        '+15551231003',
      ]);
      await waitFor(() => simCreateCalls(sim, agency.ultravoxKey).length >= 3, 15_000, '3 dialed calls');
      await dialsSettled(t, agency.agencyId);
      const dialed = simCreateCalls(sim, agency.ultravoxKey).map(
        (r) => (r.body as { medium: { twilio: { outgoing: { to: string } } } }).medium.twilio.outgoing.to,
      );
      expect(dialed.sort()).toEqual(['+15551231001', '+15551231002', '+15551231003']);
    });
  });

  it('0 disables the limit: no 429 after many requests', async () => {
    await withApp('0', async (t) => {
      const agency = await callingAgency(t);
      const auth = `Bearer ${agency.apiKey}`;
      const reads = await Promise.all(
        Array.from({ length: 120 }, () => request(t.url).get('/api/v1/calls').set('Authorization', auth)),
      );
      expect(reads.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
      for (let i = 0; i < 5; i++) {
        await trigger(t, agency.apiKey, { phone: `+1555123200${i}` }).expect(200);
      }
    });
  });
});
