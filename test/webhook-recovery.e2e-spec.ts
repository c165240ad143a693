import { createHmac } from 'node:crypto';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { WebhookOutbox } from '../src/webhooks/delivery/webhook-outbox.service';
import { createAgency, generateApiKey, TestAgency } from './support/fixtures';
import { Answer, Received, Receiver, standardWebhookHeaders } from './support/receiver';
import { startTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * How the receivers fail: a 4xx answer fails the delivery but shows the endpoint is up, so the circuit
 * breaker (which pauses endpoints that time out or answer 5xx) stays out of these tests.
 */
const REJECTED = 422;
/** An endpoint's in-flight cap, small so that a recovery has to queue behind it. */
const CAP = 2;
const DAY_MS = 24 * 3600 * 1000;

interface LoggedDelivery {
  id: string;
  event_id: string;
  status: string;
  attempt_count: number;
  failed_at: string | null;
  attempts: { attempt: number; status_code: number | null }[];
}

const callIdOf = (r: Received) => (JSON.parse(r.body) as { call_id: string }).call_id;
const countOf = (receiver: Receiver, callId: string) =>
  receiver.received.filter((r) => callIdOf(r) === callId).length;

describe('bulk recovery of failed deliveries (POST /api/v1/webhooks/:id/recover)', () => {
  let t: TestApp;
  let agency: TestAgency;
  let apiKey: string;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      // One retry, soon: a failing delivery is failed for good after two attempts.
      WEBHOOK_RETRY_DELAYS: '50ms',
      // Longer than the test: a held request stays in flight (its delivery pending) until let go.
      WEBHOOK_TIMEOUT_MS: '30000',
      WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: String(CAP),
    });
    agency = await createAgency(t);
    apiKey = `Bearer ${await generateApiKey(t, agency.owner)}`;
  });
  afterAll(async () => {
    for (const receiver of receivers) receiver.releaseHeld();
    await t.close();
    for (const receiver of receivers) await receiver.close();
  });

  async function receiverAnswering(answer: (r: Received) => Answer): Promise<Receiver> {
    const receiver = await new Receiver().start();
    receiver.answer = answer;
    receivers.push(receiver);
    return receiver;
  }

  async function endpoint(of: TestAgency, url: string): Promise<{ webhookId: string; secret: string }> {
    const res = await request(t.url)
      .post('/api/v1/webhooks')
      .set('Authorization', of.owner.auth)
      .send({ url, events: ['call.completed'] })
      .expect(201);
    return res.body.data as { webhookId: string; secret: string };
  }

  const emit = (of: TestAgency, callId: string) =>
    t.app.get(WebhookOutbox).emit(of.agencyId, 'call.completed', { call_id: callId });

  async function log(path: string, auth = agency.member.auth): Promise<Map<string, LoggedDelivery>> {
    const res = await request(t.url).get(`${path}?limit=100`).set('Authorization', auth).expect(200);
    const byCall = new Map<string, LoggedDelivery>();
    const events = await t.db.query<{ id: string; payload: string }>(
      'SELECT id, payload FROM webhook_events',
    );
    const callOf = new Map(
      events.rows.map((e) => [e.id, (JSON.parse(e.payload) as { call_id: string }).call_id]),
    );
    for (const d of res.body.data as LoggedDelivery[]) byCall.set(callOf.get(d.event_id)!, d);
    return byCall;
  }

  /** Waits until the log shows each of these calls' deliveries in `status`; returns the log. */
  const logShows = (path: string, callIds: string[], status: string, auth?: string) =>
    waitFor(
      async () => {
        const entries = await log(path, auth);
        return callIds.every((id) => entries.get(id)?.status === status) && entries;
      },
      20_000,
      `${callIds.join(', ')} to be ${status}`,
    );

  const recover = (path: string, body: object, auth = agency.owner.auth) =>
    request(t.url).post(path).set('Authorization', auth).send(body);

  it('re-sends exactly the endpoint’s deliveries that failed in the range, each once, with their webhook-id, within the cap', async () => {
    let recovered = false;
    const receiver = await receiverAnswering((r) => {
      const callId = callIdOf(r);
      if (callId === 'held') return { status: 204, hold: true };
      if (recovered) return { status: 204, delayMs: 50 };
      return { status: callId === 'ok' ? 204 : REJECTED };
    });
    const other = await receiverAnswering(() => ({ status: REJECTED }));
    const { webhookId, secret } = await endpoint(agency, `${receiver.url}/a`);
    const { webhookId: otherId } = await endpoint(agency, `${other.url}/b`);
    const path = `/api/v1/webhooks/${webhookId}/deliveries`;
    const otherPath = `/api/v1/webhooks/${otherId}/deliveries`;

    // One event at a time, each settled at both endpoints before the next: only the recovery below
    // meets the endpoint's cap.
    const settle = async (callId: string, status: string) => {
      await emit(agency, callId);
      await logShows(otherPath, [callId], 'failed');
      return (await logShows(path, [callId], status)).get(callId)!;
    };
    const before = await settle('before', 'failed');
    const since = new Date(Date.parse(before.failed_at!) + 1);
    const inRange = ['f1', 'f2', 'f3', 'f4', 'f5'];
    for (const id of inRange) await settle(id, 'failed');
    await settle('ok', 'succeeded');
    await emit(agency, 'held');
    await logShows(otherPath, ['held'], 'failed');
    await waitFor(() => countOf(receiver, 'held') === 1, 10_000, 'the held request');
    const until = new Date();
    const afterFailed = await settle('after', 'failed');

    const firstTries = new Map(
      receiver.received.filter((r) => inRange.includes(callIdOf(r))).map((r) => [callIdOf(r), r]),
    );
    const otherSent = other.received.length;
    recovered = true;
    receiver.maxInFlight = receiver.inFlight;
    const body = { since: since.toISOString(), until: until.toISOString() };
    const first = await recover(`/api/v1/webhooks/${webhookId}/recover`, body, apiKey).expect(202);
    expect(first.body).toEqual({ success: true, queued: inRange.length });
    // Taken once: they are pending now (or already delivered), no longer failed.
    const second = await recover(`/api/v1/webhooks/${webhookId}/recover`, body, agency.admin.auth).expect(
      202,
    );
    expect(second.body).toEqual({ success: true, queued: 0 });

    const entries = await logShows(path, inRange, 'succeeded');
    for (const id of inRange) {
      const resent = receiver.received.filter((r) => callIdOf(r) === id).slice(2);
      expect(resent).toHaveLength(1);
      expect(resent[0].headers['webhook-id']).toBe(firstTries.get(id)!.headers['webhook-id']);
      expect(new Webhook(secret).verify(resent[0].body, standardWebhookHeaders(resent[0]))).toMatchObject({
        call_id: id,
      });
      // Every attempt stays in the log, numbered on from the earlier ones.
      expect(entries.get(id)).toMatchObject({ attempt_count: 3, failed_at: null });
      expect(entries.get(id)!.attempts.map((a) => [a.attempt, a.status_code])).toEqual([
        [1, REJECTED],
        [2, REJECTED],
        [3, 204],
      ]);
    }
    // What failed outside the range, succeeded, is still pending, or went to another endpoint: untouched.
    expect(entries.get('before')).toMatchObject({
      status: 'failed',
      attempt_count: 2,
      failed_at: before.failed_at,
    });
    expect(entries.get('after')).toMatchObject({
      status: 'failed',
      attempt_count: 2,
      failed_at: afterFailed.failed_at,
    });
    expect(entries.get('ok')).toMatchObject({ status: 'succeeded', attempt_count: 1 });
    expect(entries.get('held')).toMatchObject({ status: 'pending', attempt_count: 1 });
    expect(['before', 'after', 'ok', 'held'].map((id) => countOf(receiver, id))).toEqual([2, 2, 1, 1]);
    expect(other.received).toHaveLength(otherSent);
    expect([...(await log(otherPath)).values()].every((d) => d.status === 'failed')).toBe(true);
    // The recovery queued behind the endpoint's cap (one slot taken by the held request).
    expect(receiver.maxInFlight).toBeLessThanOrEqual(CAP);
  });

  it('a recovered delivery gets the whole retry schedule again, and can be recovered again when it fails again', async () => {
    let answer = REJECTED;
    const receiver = await receiverAnswering(() => ({ status: answer }));
    const { webhookId } = await endpoint(agency, `${receiver.url}/again`);
    const path = `/api/v1/webhooks/${webhookId}/deliveries`;
    const route = `/api/v1/webhooks/${webhookId}/recover`;
    const since = new Date(Date.now() - 60_000).toISOString();
    await emit(agency, 'again');
    await logShows(path, ['again'], 'failed');

    await recover(route, { since }).expect(202, { success: true, queued: 1 });
    const refailed = await waitFor(
      async () => {
        const d = (await log(path)).get('again')!;
        return d.status === 'failed' && d.attempts.length === 4 && d;
      },
      20_000,
      'the recovered delivery to fail again after its retry',
    );
    expect(refailed.attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, REJECTED],
      [2, REJECTED],
      [3, REJECTED],
      [4, REJECTED],
    ]);

    answer = 204;
    await recover(route, { since }).expect(202, { success: true, queued: 1 });
    const delivered = (await logShows(path, ['again'], 'succeeded')).get('again')!;
    expect(delivered.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(receiver.received).toHaveLength(5);
  });

  it('recovers the integration page’s webhook_url through its own route, signed with the API key', async () => {
    const integration = await createAgency(t, 'Integration');
    const key = await generateApiKey(t, integration.owner);
    let answer = REJECTED;
    const receiver = await receiverAnswering(() => ({ status: answer }));
    const custom = await receiverAnswering(() => ({ status: REJECTED }));
    await request(t.url)
      .patch('/api/v1/integrations/api')
      .set('Authorization', integration.owner.auth)
      .send({ webhook_url: `${receiver.url}/integration` })
      .expect(200);
    const { webhookId } = await endpoint(integration, `${custom.url}/custom`);
    const path = '/api/v1/integrations/api/deliveries';
    await emit(integration, 'int-1');
    await logShows(path, ['int-1'], 'failed', integration.member.auth);
    await logShows(`/api/v1/webhooks/${webhookId}/deliveries`, ['int-1'], 'failed', integration.member.auth);
    const customSent = custom.received.length;
    const firstTry = receiver.received[0];

    answer = 204;
    const since = new Date(Date.now() - DAY_MS).toISOString();
    const res = await recover(`${path}/recover`, { since }, `Bearer ${key}`).expect(202);
    expect(res.body).toEqual({ success: true, queued: 1 });
    await logShows(path, ['int-1'], 'succeeded', integration.member.auth);
    expect(receiver.received).toHaveLength(3);
    const resent = receiver.received[2];
    expect(resent.headers['webhook-id']).toBe(firstTry.headers['webhook-id']);
    expect(resent.headers['x-signature']).toBe(createHmac('sha256', key).update(resent.body).digest('hex'));
    // The agency's own endpoint is not the integration's: its failed delivery stays as it was.
    expect(custom.received).toHaveLength(customSent);
  });

  describe('refusals', () => {
    let webhookId: string;
    const route = () => `/api/v1/webhooks/${webhookId}/recover`;
    const recent = () => new Date(Date.now() - 3600_000).toISOString();

    beforeAll(async () => {
      ({ webhookId } = await endpoint(agency, 'http://127.0.0.1:9/refusals'));
    });

    it('a range reaching more than 14 days back answers 400 naming since', async () => {
      const since = new Date(Date.now() - 15 * DAY_MS).toISOString();
      for (const path of [route(), '/api/v1/integrations/api/deliveries/recover']) {
        const res = await recover(path, { since }).expect(400);
        expect(res.body.error.code).toBe('validation_failed');
        expect(res.body.error.details).toEqual([
          { field: 'since', message: expect.stringMatching(/14 days/) },
        ]);
      }
    });

    it('until before since, a malformed or impossible date, or a missing since answers 400', async () => {
      const cases: [object, string][] = [
        [{ since: recent(), until: new Date(Date.now() - 7200_000).toISOString() }, 'until'],
        [{ since: '2026-02-30T00:00:00Z' }, 'since'],
        [{ since: recent().slice(0, 10) }, 'since'],
        [{ since: recent().replace('Z', '') }, 'since'],
        [{ since: 'yesterday' }, 'since'],
        [{}, 'since'],
        [{ since: recent(), until: 12 }, 'until'],
        [{ since: recent(), extra: true }, 'extra'],
      ];
      for (const [body, field] of cases) {
        const res = await recover(route(), body).expect(400);
        expect({
          body,
          code: res.body.error.code,
          fields: res.body.error.details.map((d: { field: string }) => d.field),
        }).toEqual({
          body,
          code: 'validation_failed',
          fields: [field],
        });
      }
    });

    it('an until later than now, or a since in the future, is an ordinary (here empty) range', async () => {
      const future = new Date(Date.now() + DAY_MS).toISOString();
      await recover(route(), { since: recent(), until: future }).expect(202, { success: true, queued: 0 });
      await recover(route(), { since: future }).expect(202, { success: true, queued: 0 });
    });

    it('members cannot recover (403)', async () => {
      for (const path of [route(), '/api/v1/integrations/api/deliveries/recover']) {
        const res = await recover(path, { since: recent() }, agency.member.auth).expect(403);
        expect(res.body.error.code).toBe('insufficient_role');
      }
    });

    it('another agency’s endpoint, or one that does not exist, answers 404', async () => {
      const stranger = await createAgency(t, 'Stranger');
      for (const auth of [stranger.owner.auth, `Bearer ${await generateApiKey(t, stranger.owner)}`]) {
        const res = await recover(route(), { since: recent() }, auth).expect(404);
        expect(res.body.error.code).toBe('webhook_not_found');
      }
      await recover('/api/v1/webhooks/00000000-0000-4000-8000-000000000000/recover', {
        since: recent(),
      }).expect(404);
    });

    it('a disabled endpoint, or an integration without webhook_url, answers 409 saying how to re-enable it', async () => {
      await request(t.url)
        .patch(`/api/v1/webhooks/${webhookId}`)
        .set('Authorization', agency.owner.auth)
        .send({ active: false })
        .expect(200);
      const disabled = await recover(route(), { since: recent() }).expect(409);
      expect(disabled.body.error).toMatchObject({
        code: 'webhook_disabled',
        hint: expect.stringContaining('"active": true'),
      });

      const bare = await createAgency(t, 'No webhook_url');
      const none = await recover(
        '/api/v1/integrations/api/deliveries/recover',
        { since: recent() },
        bare.owner.auth,
      ).expect(409);
      expect(none.body.error).toMatchObject({
        code: 'webhook_disabled',
        hint: expect.stringContaining('PATCH /api/v1/integrations/api'),
      });
    });
  });
});
