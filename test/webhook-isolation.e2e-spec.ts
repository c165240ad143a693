import request from 'supertest';
import { DeliverySweeper } from '../src/webhooks/delivery/delivery-sweeper';
import { FAILURES_BEFORE_PAUSE } from '../src/webhooks/delivery/endpoint-gate.repository';
import { WebhookOutbox } from '../src/webhooks/delivery/webhook-outbox.service';
import { subscribe } from './support/call-fixtures';
import { createAgency, TestAgency } from './support/fixtures';
import { Receiver } from './support/receiver';
import { startTestApp, TestApp } from './support/test-app';
import { waitFor } from './support/wait';

const CAP = 3;
const BACKLOG = 40;

describe('webhook isolation: one endpoint never delays another', () => {
  let t: TestApp;
  let slowAgency: TestAgency;
  let healthyAgency: TestAgency;
  const hanging = new Receiver();
  const healthy = new Receiver();
  const flaky = new Receiver();

  beforeAll(async () => {
    t = await startTestApp({
      WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: String(CAP),
      // Longer than the test: a hanging receiver holds its slots until it is let go.
      WEBHOOK_TIMEOUT_MS: '60000',
      WEBHOOK_RETRY_DELAYS: '1s,1s,1s,1s,1s',
      WEBHOOK_PAUSE_DELAYS: '1s',
    });
    await hanging.start();
    await healthy.start();
    await flaky.start();
    slowAgency = await createAgency(t, 'Slow CRM');
    healthyAgency = await createAgency(t, 'Healthy CRM');
    await subscribe(t, slowAgency, `${hanging.url}/slow`, ['call.completed']);
    await subscribe(t, healthyAgency, `${healthy.url}/healthy`, ['call.completed']);
  });
  afterAll(async () => {
    hanging.releaseHeld();
    await t.close();
    await hanging.close();
    await healthy.close();
    await flaky.close();
  });

  const deliveriesOf = async (agency: TestAgency) =>
    (
      await t.db.query<{ status: string; attempt_count: number }>(
        'SELECT status, attempt_count FROM webhook_deliveries WHERE agency_id = $1',
        [agency.agencyId],
      )
    ).rows;

  it('a hanging endpoint with a backlog holds only its own slots; the other agency is served meanwhile, and the backlog drains at the cap', async () => {
    hanging.answer = () => ({ status: 204, hold: true });
    const outbox = t.app.get(WebhookOutbox);
    await Promise.all(
      Array.from({ length: BACKLOG }, (_, i) =>
        outbox.emit(slowAgency.agencyId, 'call.completed', { call_id: `slow-${i}` }),
      ),
    );
    // The hanging endpoint has its cap of attempts open...
    await waitFor(() => hanging.received.length >= CAP);

    await outbox.emit(healthyAgency.agencyId, 'call.completed', { call_id: 'healthy-1' });
    const [delivered] = await waitFor(() => healthy.received.length > 0 && healthy.received);
    expect(JSON.parse(delivered.body)).toMatchObject({ event: 'call.completed', call_id: 'healthy-1' });

    // ...and still only those: the other agency's event went past its backlog.
    expect(hanging.received).toHaveLength(CAP);
    expect(hanging.inFlight).toBe(CAP);
    const parked = (await deliveriesOf(slowAgency)).filter((d) => d.attempt_count === 0);
    expect(parked).toHaveLength(BACKLOG - CAP);
    expect(parked.every((d) => d.status === 'pending')).toBe(true);

    // The receiver recovers: the backlog arrives, never more than CAP at once, each delivery once.
    hanging.answer = () => ({ status: 204 });
    hanging.releaseHeld();
    const all = await waitFor(() => hanging.received.length >= BACKLOG && hanging.received);
    expect(new Set(all.map((r) => JSON.parse(r.body).call_id as string)).size).toBe(BACKLOG);
    expect(hanging.maxInFlight).toBe(CAP);
    const settled = await waitFor(async () => {
      const rows = await deliveriesOf(slowAgency);
      return rows.every((d) => d.status === 'succeeded') && rows;
    });
    // Waiting parked used up no attempt of the retry schedule.
    expect(settled.map((d) => d.attempt_count)).toEqual(Array(BACKLOG).fill(1));
    expect(hanging.received).toHaveLength(BACKLOG);
  });

  describe('an endpoint that keeps failing', () => {
    let agency: TestAgency;
    let webhookId: string;
    const api = () => request(t.url);
    const endpoint = async () =>
      (await api().get(`/api/v1/webhooks/${webhookId}`).set('Authorization', agency.owner.auth).expect(200))
        .body.data as Record<string, unknown>;

    beforeAll(async () => {
      agency = await createAgency(t, 'Flaky CRM');
      const created = await api()
        .post('/api/v1/webhooks')
        .set('Authorization', agency.owner.auth)
        .send({ url: `${flaky.url}/flaky`, events: ['call.completed'] })
        .expect(201);
      webhookId = created.body.data.webhookId as string;
      expect(await endpoint()).toMatchObject({ state: 'healthy', failing_since: null });
    });

    it('is paused after a few failures, gets one probe at a time without using up its deliveries, and drains its backlog once a probe succeeds', async () => {
      flaky.answer = () => ({ status: 503 });
      const outbox = t.app.get(WebhookOutbox);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          outbox.emit(agency.agencyId, 'call.completed', { call_id: `flaky-${i}` }),
        ),
      );
      const failing = await waitFor(async () => {
        const state = await endpoint();
        return state.state === 'failing' && state;
      });
      expect(Date.parse(failing.failing_since as string)).toBeGreaterThan(0);
      const log = await api()
        .get(`/api/v1/webhooks/${webhookId}/deliveries`)
        .set('Authorization', agency.owner.auth)
        .expect(200);
      expect(log.body.data.map((d: { endpoint_state: string }) => d.endpoint_state)).toEqual(
        Array(20).fill('failing'),
      );
      // Only the attempts that found it failing were made; the rest of the backlog waits unattempted.
      const beforeProbes = flaky.received.length;
      expect(beforeProbes).toBeLessThanOrEqual(FAILURES_BEFORE_PAUSE + CAP);

      // While paused, one probe at a time, each pause's end.
      flaky.maxInFlight = flaky.inFlight;
      await waitFor(() => flaky.received.length >= beforeProbes + 2);
      expect(flaky.maxInFlight).toBe(1);
      const untouched = (await deliveriesOf(agency)).filter((d) => d.attempt_count === 0);
      expect(untouched.length).toBeGreaterThanOrEqual(20 - beforeProbes - 2);

      // The receiver is back: the next probe succeeds and the backlog drains at the cap, each once.
      flaky.answer = () => ({ status: 204 });
      const delivered = await waitFor(async () => {
        const rows = await deliveriesOf(agency);
        return rows.every((d) => d.status === 'succeeded') && rows;
      });
      expect(delivered).toHaveLength(20);
      expect(flaky.maxInFlight).toBeLessThanOrEqual(CAP);
      const answered = flaky.received.slice(-20).map((r) => JSON.parse(r.body).call_id as string);
      expect(new Set(answered).size).toBe(20);
      expect(await endpoint()).toMatchObject({ state: 'healthy', failing_since: null });
    });

    it('is disabled after failing for WEBHOOK_DISABLE_AFTER, and PATCH active: true resumes it', async () => {
      await t.db.query(
        "UPDATE webhook_endpoints SET failing_since = now() - interval '6 days' WHERE id = $1",
        [webhookId],
      );
      await t.app.get(DeliverySweeper).sweep();
      const disabled = await endpoint();
      expect(disabled).toMatchObject({ state: 'disabled', active: false });
      expect(disabled.disabled_reason).toMatch(/unreachable since .* \(more than 5d\); PATCH active: true/);

      // While disabled it is sent nothing.
      flaky.answer = () => ({ status: 204 });
      const received = flaky.received.length;
      const { deliveries } = await t.app
        .get(WebhookOutbox)
        .emit(agency.agencyId, 'call.completed', { call_id: 'while-disabled' });
      expect(deliveries).toHaveLength(0);

      const resumed = await api()
        .patch(`/api/v1/webhooks/${webhookId}`)
        .set('Authorization', agency.owner.auth)
        .send({ active: true })
        .expect(200);
      expect(resumed.body.data).toMatchObject({
        state: 'healthy',
        failing_since: null,
        disabled_reason: null,
      });
      await t.app.get(WebhookOutbox).emit(agency.agencyId, 'call.completed', { call_id: 'resumed' });
      const [last] = await waitFor(() => flaky.received.length > received && flaky.received.slice(received));
      expect(JSON.parse(last.body).call_id).toBe('resumed');
    });
  });

  it('spaces deliveries to a throttled endpoint (rate_limit_per_second), also for the integration webhook_url', async () => {
    const throttled = await new Receiver().start();
    try {
      const agency = await createAgency(t, 'Slow-to-take CRM');
      const created = await request(t.url)
        .post('/api/v1/webhooks')
        .set('Authorization', agency.owner.auth)
        .send({ url: `${throttled.url}/t`, events: ['call.completed'], rate_limit_per_second: 2 })
        .expect(201);
      expect(created.body.data.rate_limit_per_second).toBe(2);
      const outbox = t.app.get(WebhookOutbox);
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          outbox.emit(agency.agencyId, 'call.completed', { call_id: `t-${i}` }),
        ),
      );
      const got = await waitFor(() => throttled.received.length >= 6 && throttled.received);
      // A burst of at most one second's worth (2), then one every 500 ms: the sixth came 2 s after the first.
      const span = got[5].at - got[0].at;
      expect(span).toBeGreaterThanOrEqual(1_900);
      expect(new Set(got.map((r) => JSON.parse(r.body).call_id as string)).size).toBe(6);

      const patched = await request(t.url)
        .patch('/api/v1/integrations/api')
        .set('Authorization', agency.owner.auth)
        .send({ webhook_url: `${throttled.url}/integration`, webhook_rate_limit_per_second: 5 })
        .expect(200);
      expect(patched.body.data).toMatchObject({
        webhook_state: 'healthy',
        webhook_failing_since: null,
        webhook_rate_limit_per_second: 5,
      });
      const cleared = await request(t.url)
        .patch(`/api/v1/webhooks/${created.body.data.webhookId}`)
        .set('Authorization', agency.owner.auth)
        .send({ rate_limit_per_second: null })
        .expect(200);
      expect(cleared.body.data.rate_limit_per_second).toBeNull();
    } finally {
      await throttled.close();
    }
  });
});
