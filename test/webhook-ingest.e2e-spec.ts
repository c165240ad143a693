import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AGENCY_SECRETS_TTL_MS } from '../src/agencies/agency-secrets';
import { startUltravoxSim, ultravoxSignatureHeader, UltravoxSim } from '../tools/ultravox-sim/server';
import { callingAgency, CallingAgency, subscribe, trigger } from './support/call-fixtures';
import { createAgency, TestAgency, ultravoxKey } from './support/fixtures';
import { Receiver } from './support/receiver';
import { callQuiet, ultravoxEventsProcessed } from './support/settled';
import { waitFor } from './support/wait';
import { childEnv, startServer } from './support/spawn';
import { startTestApp, TestApp } from './support/test-app';

/*
 * CONTRACT §5.2: POST /functions/v1/webhook-ingest/:agencyId/:webhookSecret, as Ultravox calls it.
 * Requests are built and signed here (reference/webhook-signing.md), with the signing secret that
 * Switchboard registered at the simulator for the agency's key.
 */

type Payload = Record<string, unknown> & { event: string; call_id: string };

interface Send {
  /** Secrets to sign with (one signature each, comma-separated); none → no signature header. */
  secrets?: string[];
  /** X-Ultravox-Webhook-Timestamp; default now. */
  timestamp?: string;
  /** The raw body; default JSON.stringify(body). */
  raw?: string;
}

describe('Ultravox webhook ingest (CONTRACT §5.2)', () => {
  let sim: UltravoxSim;
  let t: TestApp;

  beforeAll(async () => {
    sim = await startUltravoxSim({ timeScale: 0.02 });
    t = await startTestApp(
      { ULTRAVOX_API_BASE_URL: sim.url, CALLS_SWEEP_INTERVAL_MS: '500' },
      { reachable: true },
    );
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  /** The path part of the agency's ingest URL, as the integration page shows it. */
  async function ingestPath(agency: TestAgency): Promise<string> {
    const res = await request(t.url)
      .get('/api/v1/integrations/ultravox')
      .set('Authorization', agency.owner.auth)
      .expect(200);
    return new URL(res.body.data.webhook_url as string).pathname;
  }

  /** The secret the simulator signs this agency's webhooks with (Switchboard generated and registered it). */
  function signingSecret(agency: TestAgency, key: string): string {
    const account = sim.calls().accounts.find((a) => a.keyPrefix === key.slice(0, 8));
    const hook = account?.webhooks.find((h) => new URL(h.url).pathname.includes(agency.agencyId));
    expect(hook).toBeDefined();
    return hook!.secrets[0];
  }

  /** To the test app, or to `options.to` (another API process). */
  function post(path: string, body: unknown, options: Send & { to?: string } = {}) {
    const raw = options.raw ?? JSON.stringify(body);
    const timestamp = options.timestamp ?? new Date().toISOString();
    const req = request(options.to ?? t.url)
      .post(path)
      .set('Content-Type', 'application/json');
    if (options.secrets) {
      req
        .set('X-Ultravox-Webhook-Timestamp', timestamp)
        .set('X-Ultravox-Webhook-Signature', ultravoxSignatureHeader(options.secrets, raw, timestamp));
    }
    return req.send(raw);
  }

  /**
   * An Ultravox webhook body for a call Switchboard never placed; recorded (inbound) only when it ran on
   * `ultravoxAgentId`, one of the agency's agents (CONTRACT §7).
   */
  const webhook = (event: string, callId = randomUUID(), ultravoxAgentId?: string) => ({
    event,
    call: {
      callId,
      created: new Date().toISOString(),
      joined: null,
      ended: null,
      endReason: null,
      metadata: {},
      ...(ultravoxAgentId
        ? { agentId: ultravoxAgentId, agent: { agentId: ultravoxAgentId, name: 'Sales' } }
        : {}),
    },
  });

  const callsOf = async (agency: TestAgency) =>
    (await request(t.url).get('/api/v1/calls').set('Authorization', agency.owner.auth).expect(200)).body
      .data as Array<Record<string, unknown>>;

  const storedEvents = async (agencyId: string, ultravoxCallId: string, event?: string) =>
    (
      await t.db.query<{ event: string }>(
        `SELECT event FROM call_events WHERE agency_id = $1 AND ultravox_call_id = $2 AND source = 'ultravox'
         ${event ? 'AND event = $3' : ''}`,
        event ? [agencyId, ultravoxCallId, event] : [agencyId, ultravoxCallId],
      )
    ).rows;

  describe('with a registered signing secret', () => {
    let agency: CallingAgency;
    let path: string;
    let secret: string;

    beforeAll(async () => {
      agency = await callingAgency(t);
      path = await ingestPath(agency);
      secret = signingSecret(agency, agency.ultravoxKey);
    });

    it("a well-signed call.started for an unknown call on the agency's agent answers 204 (empty body) and records an inbound call", async () => {
      const callId = randomUUID();
      const res = await post(path, webhook('call.started', callId, agency.ultravoxAgentId), {
        secrets: [secret],
      });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(res.headers['content-length'] ?? '0').toBe('0');

      const call = await waitFor(
        async () => (await callsOf(agency)).find((c) => c.ultravox_call_id === callId),
        10_000,
        'the inbound call record',
      );
      expect(call).toMatchObject({ direction: 'inbound', ultravox_call_id: callId });
    });

    describe('unknown URL → 404, the same answer whichever part is wrong', () => {
      it('unknown agency uuid, non-uuid agency and wrong URL secret all answer the same 404', async () => {
        const urlSecret = path.split('/').pop()!;
        const body = webhook('call.started');
        const unknownAgency = await post(`/functions/v1/webhook-ingest/${randomUUID()}/${urlSecret}`, body, {
          secrets: [secret],
        });
        const notUuid = await post(`/functions/v1/webhook-ingest/not-a-uuid/${urlSecret}`, body, {
          secrets: [secret],
        });
        const wrongSecret = await post(`/functions/v1/webhook-ingest/${agency.agencyId}/wrong-secret`, body, {
          secrets: [secret],
        });
        for (const res of [unknownAgency, notUuid, wrongSecret]) {
          expect(res.status).toBe(404);
          expect(res.body).toEqual({
            success: false,
            error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
          });
        }
        // Nothing to learn by probing: an unknown agency and a wrong secret look alike.
        expect(wrongSecret.body).toEqual(unknownAgency.body);
        expect(notUuid.body).toEqual(unknownAgency.body);
        expect(await storedEvents(agency.agencyId, body.call.callId)).toHaveLength(0);
      });
    });

    describe('signature (X-Ultravox-Webhook-Signature) → 401 unless it verifies', () => {
      it.each<[string, (secret: string) => Send]>([
        ['signed with another secret', () => ({ secrets: ['not-the-registered-secret'] })],
        ['without the signature headers', () => ({})],
        [
          'with a stale timestamp (2 minutes old)',
          (secret) => ({ secrets: [secret], timestamp: new Date(Date.now() - 120_000).toISOString() }),
        ],
      ])('%s → 401', async (_, options) => {
        const body = webhook('call.started');
        const res = await post(path, body, options(secret));
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ success: false, error: { code: expect.any(String) } });
        expect(await storedEvents(agency.agencyId, body.call.callId)).toHaveLength(0);
      });

      it('a signature that verifies with the body only as sent: a changed byte → 401', async () => {
        const raw = JSON.stringify(webhook('call.started'));
        const timestamp = new Date().toISOString();
        const signature = ultravoxSignatureHeader([secret], raw, timestamp);
        const res = await request(t.url)
          .post(path)
          .set('Content-Type', 'application/json')
          .set('X-Ultravox-Webhook-Timestamp', timestamp)
          .set('X-Ultravox-Webhook-Signature', signature)
          .send(raw.replace('"call.started"', '"call.started" '));
        expect(res.status).toBe(401);
      });

      it.each<[string, () => string]>([
        [
          'in Ultravox’s own format (microseconds, +00:00)',
          () => new Date().toISOString().replace('Z', '417+00:00'),
        ],
        ['without a zone (read as UTC)', () => new Date().toISOString().replace('Z', '')],
      ])('a fresh timestamp %s → 204', async (_, timestamp) => {
        const body = webhook('call.started');
        const res = await post(path, body, { secrets: [secret], timestamp: timestamp() });
        expect(res.status).toBe(204);
      });

      it('a timestamp 2 minutes in the future → 401', async () => {
        const timestamp = new Date(Date.now() + 120_000).toISOString();
        const res = await post(path, webhook('call.started'), { secrets: [secret], timestamp });
        expect(res.status).toBe(401);
      });

      it('verified on the raw bytes: a pretty-printed body signed as sent → 204, stored as sent', async () => {
        const body = webhook('call.started');
        const call = { ...body.call, metadata: { note: 'Zoë said "ok" \\ 👍\n\ttab' } };
        const raw = JSON.stringify({ call, event: body.event }, null, 2).replace('👍', '\\ud83d\\udc4d');
        const res = await post(path, null, { secrets: [secret], raw });
        expect(res.status).toBe(204);
        const { rows } = await t.db.query<{ payload: string }>(
          `SELECT payload FROM call_events WHERE agency_id = $1 AND ultravox_call_id = $2`,
          [agency.agencyId, body.call.callId],
        );
        expect(rows).toEqual([{ payload: raw }]);
      });

      it('one valid signature among several comma-separated (secret rotation) → 204', async () => {
        const body = webhook('call.started');
        const res = await post(path, body, { secrets: ['old-secret-a', secret, 'old-secret-b'] });
        expect(res.status).toBe(204);
        expect(await storedEvents(agency.agencyId, body.call.callId)).toHaveLength(1);
      });
    });

    describe('malformed bodies → 400', () => {
      it('a body that is not JSON (Content-Type application/json) → 400', async () => {
        const res = await post(path, null, { secrets: [secret], raw: '{"event": "call.started", garbage' });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ success: false, error: { code: expect.any(String) } });
      });

      it.each([
        ['without event', { call: { callId: randomUUID() } }],
        ['without call', { event: 'call.started' }],
        ['without call.callId', { event: 'call.started', call: { created: new Date().toISOString() } }],
        ['with an empty event', { event: '', call: { callId: randomUUID() } }],
      ])('well-signed JSON %s → 400', async (_, body) => {
        const res = await post(path, body, { secrets: [secret] });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ success: false, error: { code: expect.any(String) } });
      });
    });

    it('an event Switchboard does not use is acknowledged (204) and nothing is stored', async () => {
      const callId = randomUUID();
      const res = await post(path, webhook('call.something', callId), { secrets: [secret] });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      // An event sent after it has been stored and processed into its inbound call: the pipeline ran.
      const marker = randomUUID();
      expect(
        (await post(path, webhook('call.started', marker, agency.ultravoxAgentId), { secrets: [secret] }))
          .status,
      ).toBe(204);
      await waitFor(
        async () =>
          (await t.db.query(`SELECT id FROM calls WHERE ultravox_call_id = $1`, [marker])).rowCount === 1,
        10_000,
        'the marker’s inbound call',
      );
      expect(await storedEvents(agency.agencyId, callId)).toHaveLength(0);
      const { rows } = await t.db.query(`SELECT id FROM calls WHERE ultravox_call_id = $1`, [callId]);
      expect(rows).toHaveLength(0);
    });

    it('the same (callId, event) twice: both 204, stored once', async () => {
      const callId = randomUUID();
      const body = webhook('call.started', callId, agency.ultravoxAgentId);
      // Ultravox signs each attempt afresh, so the retry carries another timestamp.
      const first = await post(path, body, { secrets: [secret] });
      const second = await post(path, body, {
        secrets: [secret],
        timestamp: new Date(Date.now() + 1).toISOString(),
      });
      expect([first.status, second.status]).toEqual([204, 204]);
      expect(await storedEvents(agency.agencyId, callId, 'call.started')).toHaveLength(1);
      await waitFor(
        async () =>
          (await t.db.query(`SELECT id FROM calls WHERE ultravox_call_id = $1`, [callId])).rowCount === 1,
        10_000,
        'the inbound call',
      );
      await ultravoxEventsProcessed(t, callId);
      const { rows } = await t.db.query(`SELECT id FROM calls WHERE ultravox_call_id = $1`, [callId]);
      expect(rows).toHaveLength(1);
    });
    it('the same (callId, event) arriving many times at once: all 204, stored once, one inbound call', async () => {
      const callId = randomUUID();
      const body = webhook('call.started', callId, agency.ultravoxAgentId);
      // Concurrent requests are stored together (one INSERT per event-loop turn): the copies share a batch.
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          post(path, body, { secrets: [secret], timestamp: new Date(Date.now() + i).toISOString() }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(12).fill(204));
      expect(await storedEvents(agency.agencyId, callId, 'call.started')).toHaveLength(1);
      await waitFor(
        async () => (await callsOf(agency)).some((c) => c.ultravox_call_id === callId),
        10_000,
        'the inbound call',
      );
      await ultravoxEventsProcessed(t, callId);
      expect((await callsOf(agency)).filter((c) => c.ultravox_call_id === callId)).toHaveLength(1);
    });

    it('distinct events and their copies sent together: each event stored exactly once', async () => {
      const callIds = [randomUUID(), randomUUID()];
      const bodies = callIds.flatMap((callId) =>
        ['call.started', 'call.joined', 'call.ended'].map((event) => webhook(event, callId)),
      );
      const responses = await Promise.all(
        [...bodies, ...bodies, ...bodies].map((body) => post(path, body, { secrets: [secret] })),
      );
      expect(responses.every((r) => r.status === 204)).toBe(true);
      for (const callId of callIds) {
        const stored = await storedEvents(agency.agencyId, callId);
        expect(stored.map((e) => e.event).sort()).toEqual(['call.ended', 'call.joined', 'call.started']);
      }
    });
  });

  describe('secrets are cached for a few seconds, yet a change is honoured at once', () => {
    const rotate = (agency: TestAgency) =>
      request(t.url)
        .post('/api/v1/integrations/ultravox/rotate-webhook-secret')
        .set('Authorization', agency.owner.auth)
        .expect(200);
    const save = (agency: TestAgency, body: Record<string, unknown>) =>
      request(t.url)
        .post('/functions/v1/save-ultravox-integration')
        .set('Authorization', agency.owner.auth)
        .send(body)
        .expect(200);

    it('a rotated URL secret: the new URL is accepted and the old one refused at once', async () => {
      const agency = await callingAgency(t);
      const secret = signingSecret(agency, agency.ultravoxKey);
      const oldPath = await ingestPath(agency);
      expect((await post(oldPath, webhook('call.started'), { secrets: [secret] })).status).toBe(204);

      await rotate(agency);
      const newPath = await ingestPath(agency);
      expect(newPath).not.toBe(oldPath);
      expect((await post(oldPath, webhook('call.started'), { secrets: [secret] })).status).toBe(404);
      const body = webhook('call.started');
      expect((await post(newPath, body, { secrets: [secret] })).status).toBe(204);
      expect(await storedEvents(agency.agencyId, body.call.callId)).toHaveLength(1);
    });

    it('a rotation made through one API process is honoured by the others well within the cache time', async () => {
      const other = await startServer(childEnv({ ...t.env, APP_ROLE: 'api' }));
      try {
        // A witness agency, cached by the other process just before the one that rotates.
        const witness = await callingAgency(t);
        const witnessPath = await ingestPath(witness);
        const toOtherAsWitness = { secrets: [signingSecret(witness, witness.ultravoxKey)], to: other.url };
        expect((await post(witnessPath, webhook('call.started'), toOtherAsWitness)).status).toBe(204);

        const agency = await callingAgency(t);
        const secret = signingSecret(agency, agency.ultravoxKey);
        const oldPath = await ingestPath(agency);
        const toOther = { secrets: [secret], to: other.url };
        // The other process now holds the agency's secrets in its cache (AGENCY_SECRETS_TTL_MS, 5 s).
        expect((await post(oldPath, webhook('call.started'), toOther)).status).toBe(204);
        await rotate(agency);
        await waitFor(
          async () => (await post(oldPath, webhook('call.started'), toOther)).status === 404,
          AGENCY_SECRETS_TTL_MS,
          'the other process to refuse the old ingest URL',
        );
        // Refused while its cache entry was still fresh, so because it was told, not because it expired:
        // the witness, cached earlier, is still served from the cache even with its stored secret broken
        // behind the cache's back (a re-read would fail).
        await t.db.query(`UPDATE agencies SET ingest_secret_encrypted = 'broken' WHERE id = $1`, [
          witness.agencyId,
        ]);
        expect((await post(witnessPath, webhook('call.started'), toOtherAsWitness)).status).toBe(204);
        const body = webhook('call.started');
        expect((await post(await ingestPath(agency), body, toOther)).status).toBe(204);
      } finally {
        await other.stop();
      }
    });

    it('a signing secret registered after unsigned events were accepted is required at once', async () => {
      const agency = await createAgency(t);
      const key = ultravoxKey();
      await save(agency, { api_key: key });
      const path = await ingestPath(agency);
      expect((await post(path, webhook('call.started'), { secrets: ['anything'] })).status).toBe(204);

      await save(agency, { api_key: key, register_webhook: true });
      expect((await post(path, webhook('call.started'), { secrets: ['anything'] })).status).toBe(401);
      expect((await post(path, webhook('call.started'))).status).toBe(401);
      const body = webhook('call.started');
      expect((await post(path, body, { secrets: [signingSecret(agency, key)] })).status).toBe(204);
      expect(await storedEvents(agency.agencyId, body.call.callId)).toHaveLength(1);
    });

    it('a signing secret removed with the integration stops being required at once', async () => {
      const agency = await callingAgency(t);
      const path = await ingestPath(agency);
      const secret = signingSecret(agency, agency.ultravoxKey);
      expect((await post(path, webhook('call.started'), { secrets: [secret] })).status).toBe(204);

      await request(t.url)
        .delete('/api/v1/integrations/ultravox')
        .set('Authorization', agency.owner.auth)
        .expect((res) => expect(res.status).toBeLessThan(300));
      const body = webhook('call.started');
      expect((await post(path, body)).status).toBe(204);
      expect(await storedEvents(agency.agencyId, body.call.callId)).toHaveLength(1);
    });
  });

  it('an agency that saved its key without register_webhook (no signing secret) accepts unsigned events', async () => {
    const agency = await createAgency(t);
    await request(t.url)
      .post('/functions/v1/save-ultravox-integration')
      .set('Authorization', agency.owner.auth)
      .send({ api_key: ultravoxKey() })
      .expect(200);
    const path = await ingestPath(agency);
    const callId = randomUUID();
    const res = await post(path, webhook('call.started', callId));
    expect(res.status).toBe(204);
    expect(await storedEvents(agency.agencyId, callId, 'call.started')).toHaveLength(1);
  });

  it('two agencies on one Ultravox account: a call id one agency recorded is still recorded for the other', async () => {
    // Both saved the same Ultravox key with register_webhook, so Ultravox sends every call of that
    // account to both ingest URLs. Each agency's records are its own (CONTRACT §3).
    const first = await callingAgency(t);
    const second = await createAgency(t);
    await request(t.url)
      .post('/functions/v1/save-ultravox-integration')
      .set('Authorization', second.owner.auth)
      .send({ api_key: first.ultravoxKey, register_webhook: true })
      .expect(200);
    // Both agencies have an agent for the same Ultravox agent.
    await request(t.url)
      .post('/api/v1/agents')
      .set('Authorization', second.owner.auth)
      .send({ name: 'Shared', ultravox_agent_id: first.ultravoxAgentId })
      .expect(201);
    const ultravoxCallId = randomUUID();
    const deliver = async (agency: TestAgency) => {
      const res = await post(
        await ingestPath(agency),
        webhook('call.started', ultravoxCallId, first.ultravoxAgentId),
        {
          secrets: [signingSecret(agency, first.ultravoxKey)],
        },
      );
      expect(res.status).toBe(204);
      return waitFor(
        async () => (await callsOf(agency)).find((c) => c.ultravox_call_id === ultravoxCallId),
        10_000,
        `the call in agency ${agency.agencyId}`,
      );
    };
    expect(await deliver(second)).toMatchObject({ direction: 'inbound' });
    expect(await deliver(first)).toMatchObject({ ultravox_call_id: ultravoxCallId });
  });

  describe('with real calls: duplicates and reordering emit one call.started and one terminal event', () => {
    let receiver: Receiver;

    beforeAll(async () => {
      receiver = await new Receiver().start();
    });
    afterAll(async () => {
      await receiver.close();
    });

    const eventsFor = (callId: string) =>
      receiver
        .events<Payload>()
        .filter((p) => p.call_id === callId)
        .map((p) => p.event);
    const completed = (callId: string) =>
      waitFor(() => eventsFor(callId).includes('call.completed'), 20_000, `call.completed of ${callId}`);
    const simCallFor = (callId: string) =>
      sim.calls().calls.find((c) => c.call.metadata.switchboard_call_id === callId)!;

    it('call.ended resent by Ultravox after the call completed: 204, stored once, still one call.completed', async () => {
      const agency = await callingAgency(t);
      await subscribe(t, agency, `${receiver.url}/resend`);
      const res = await trigger(t, agency.apiKey, { phone: '+15551230001' }).expect(200);
      const callId = res.body.call_id as string;
      await completed(callId);

      const ultravoxCallId = simCallFor(callId).call.callId;
      const resent = await sim.resend(ultravoxCallId, 'call.ended');
      expect(resent.map((d) => d.status)).toEqual([204]);
      await callQuiet(t, agency.agencyId, ultravoxCallId);

      expect(eventsFor(callId).sort()).toEqual(['call.completed', 'call.started']);
      expect(await storedEvents(agency.agencyId, ultravoxCallId, 'call.ended')).toHaveLength(1);
    });

    it('call.ended (joined set) delivered before call.joined: one call.started, one call.completed', async () => {
      const agency = await callingAgency(t);
      await subscribe(t, agency, `${receiver.url}/reorder`);
      const path = await ingestPath(agency);
      const secret = signingSecret(agency, agency.ultravoxKey);

      // Point the agency's Ultravox webhook at a holding receiver, so this test decides the order.
      const held = await new Receiver().start();
      try {
        const [hook] = sim
          .calls()
          .accounts.find((a) => a.keyPrefix === agency.ultravoxKey.slice(0, 8))!.webhooks;
        const patched = await fetch(`${sim.url}/api/webhooks/${hook.webhookId}`, {
          method: 'PATCH',
          headers: { 'X-API-Key': agency.ultravoxKey, 'Content-Type': 'application/json' },
          body: JSON.stringify({ url: `${held.url}/held` }),
        });
        expect(patched.status).toBe(200);

        const res = await trigger(t, agency.apiKey, { phone: '+15551230002' }).expect(200);
        const callId = res.body.call_id as string;
        const heldBody = (event: string) =>
          held.received.map((r) => r.body).find((b) => (JSON.parse(b) as { event: string }).event === event);
        const ended = await waitFor(() => heldBody('call.ended'), 20_000, 'the held call.ended');
        expect(JSON.parse(ended).call.joined).toEqual(expect.any(String));
        const joined = heldBody('call.joined')!;
        const started = heldBody('call.started')!;
        expect(joined).toBeDefined();

        // The very bytes Ultravox sent, re-signed at forwarding time: call.ended first, and fully
        // processed (call.completed out) before call.joined and call.started arrive.
        const forward = async (raw: string) =>
          expect((await post(path, null, { raw, secrets: [secret] })).status).toBe(204);
        await forward(ended);
        await completed(callId);
        await waitFor(() => eventsFor(callId).includes('call.started'), 5_000, 'call.started');
        await forward(joined);
        await forward(started);
        const ultravoxCallId = (JSON.parse(ended) as { call: { callId: string } }).call.callId;
        await waitFor(
          async () =>
            (
              await t.db.query(
                `SELECT id FROM call_events WHERE ultravox_call_id = $1 AND source = 'ultravox' AND processed_at IS NULL`,
                [ultravoxCallId],
              )
            ).rowCount === 0,
          10_000,
          'the late call.joined and call.started to be processed',
        );
        await callQuiet(t, agency.agencyId, ultravoxCallId);
        expect(eventsFor(callId).sort()).toEqual(['call.completed', 'call.started']);
        const call = (
          await request(t.url)
            .get(`/api/v1/calls/${callId}`)
            .set('Authorization', agency.owner.auth)
            .expect(200)
        ).body.data;
        expect(call).toMatchObject({ status: 'completed', started_at: expect.any(String) });
      } finally {
        await held.close();
      }
    });
  });
});
