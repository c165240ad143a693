import { createHmac } from 'node:crypto';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import type { Job } from 'bullmq';
import { DeliverJob } from '../src/common/queues';
import { deliveryBackoff, DeliveryProcessor } from '../src/webhooks/delivery/delivery.processor';
import { WebhookOutbox } from '../src/webhooks/delivery/webhook-outbox.service';
import { createAgency, generateApiKey, TestAgency } from './support/fixtures';
import { Receiver, standardWebhookHeaders } from './support/receiver';
import { deliveriesSettled } from './support/settled';
import { waitFor } from './support/wait';
import { startTestApp, TestApp } from './support/test-app';

const DELAYS = [200, 400, 800];
const hex = (key: string, body: string) => createHmac('sha256', key).update(body).digest('hex');

describe('webhook delivery (CONTRACT §6)', () => {
  let t: TestApp;
  let agency: TestAgency;
  let receiver: Receiver;

  beforeAll(async () => {
    t = await startTestApp({
      WEBHOOK_RETRY_DELAYS: DELAYS.map((d) => `${d}ms`).join(','),
      WEBHOOK_TIMEOUT_MS: '500',
    });
  });
  beforeEach(async () => {
    agency = await createAgency(t);
    receiver = await new Receiver().start();
  });
  afterEach(() => receiver.close());
  afterAll(() => t.close());

  async function endpoint(url = receiver.url + '/hook', events = ['call.completed']) {
    const res = await request(t.url)
      .post('/api/v1/webhooks')
      .set('Authorization', agency.owner.auth)
      .send({ url, events })
      .expect(201);
    return res.body.data as { webhookId: string; secret: string };
  }
  const sendTest = async (webhookId: string) =>
    (
      await request(t.url)
        .post(`/api/v1/webhooks/${webhookId}/test`)
        .set('Authorization', agency.owner.auth)
        .expect(202)
    ).body as {
      delivery_id: string;
      event_id: string;
    };
  const deliveries = async (webhookId: string) =>
    (
      await request(t.url)
        .get(`/api/v1/webhooks/${webhookId}/deliveries`)
        .set('Authorization', agency.member.auth)
        .expect(200)
    ).body.data;
  const settled = (webhookId: string, status: string) =>
    waitFor(
      async () => (await deliveries(webhookId)).find((d: { status: string }) => d.status === status),
      15_000,
      status,
    );

  it('delivers a test event that verifies with standardwebhooks and X-Signature', async () => {
    const { webhookId, secret } = await endpoint();
    const { event_id } = await sendTest(webhookId);
    const [got] = await waitFor(() => receiver.received.length === 1 && receiver.received);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toMatch(/^Switchboard-Webhooks\/\d+\.\d+\.\d+/);
    expect(got.headers['webhook-id']).toBe(event_id);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(10);
    const payload = new Webhook(secret).verify(got.body, standardWebhookHeaders(got)) as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({
      event: 'webhook.test',
      event_id,
      webhook_id: webhookId,
      timestamp: expect.any(String),
    });
    expect(got.headers['x-signature']).toBe(hex(secret, got.body));
    expect(got.body).toBe(JSON.stringify(JSON.parse(got.body)));

    const delivery = await settled(webhookId, 'succeeded');
    expect(delivery).toMatchObject({
      webhook_id: webhookId,
      endpoint_state: 'healthy',
      event_id,
      event: 'webhook.test',
      attempt_count: 1,
      next_attempt_at: null,
    });
    expect(delivery.attempts).toEqual([
      {
        attempt: 1,
        at: expect.any(String),
        status_code: 204,
        duration_ms: expect.any(Number),
        error: null,
        response_excerpt: null,
      },
    ]);
  });

  it('signs the integration page webhook_url with the agency API key, for call.completed', async () => {
    const key = await generateApiKey(t, agency.owner);
    await request(t.url)
      .patch('/api/v1/integrations/api')
      .set('Authorization', agency.owner.auth)
      .send({ webhook_url: receiver.url + '/integration' })
      .expect(200);
    const outbox = t.app.get(WebhookOutbox);
    await outbox.transaction((_em, emit) => emit(agency.agencyId, 'call.completed', { call_id: 'c-1' }));
    await outbox.transaction((_em, emit) => emit(agency.agencyId, 'call.started', { call_id: 'c-1' }));
    const [got] = await waitFor(() => receiver.received.length >= 1 && receiver.received);
    expect(got.path).toBe('/integration');
    expect(JSON.parse(got.body)).toMatchObject({ event: 'call.completed', call_id: 'c-1' });
    expect(got.headers['x-signature']).toBe(hex(key, got.body));
    const log = await waitFor(async () => {
      const res = await request(t.url)
        .get('/api/v1/integrations/api/deliveries')
        .set('Authorization', agency.owner.auth)
        .expect(200);
      return res.body.data.length === 1 && res.body.data[0].status === 'succeeded' && res.body.data;
    });
    expect(log[0].event).toBe('call.completed');
    await deliveriesSettled(t, agency.agencyId);
    expect(receiver.received).toHaveLength(1);
  });

  it('delivers events emitted on their own in the same turn to exactly their endpoints; one that cannot be stored fails alone', async () => {
    const completed = await endpoint(receiver.url + '/completed', ['call.completed']);
    const started = await endpoint(receiver.url + '/started', ['call.started']);
    const outbox = t.app.get(WebhookOutbox);
    // Emitted in one turn of the event loop: written by one statement, split when it fails.
    const results = await Promise.allSettled([
      outbox.emit(agency.agencyId, 'call.completed', { call_id: 'a' }),
      outbox.emit(agency.agencyId, 'call.started', { call_id: 'b' }),
      outbox.emit('00000000-0000-4000-8000-000000000000', 'call.completed', { call_id: 'gone' }),
      outbox.emit(agency.agencyId, 'call.completed', { call_id: 'c' }),
      outbox.emit(agency.agencyId, 'webhook.test', { webhook_id: started.webhookId }, started.webhookId),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    for (const r of results) if (r.status === 'fulfilled') expect(r.value.deliveries).toHaveLength(1);
    const got = await waitFor(() => receiver.received.length >= 4 && receiver.received);
    const seen = got.map((r) => `${r.path} ${JSON.parse(r.body).event} ${JSON.parse(r.body).call_id ?? '-'}`);
    expect(seen.sort()).toEqual([
      '/completed call.completed a',
      '/completed call.completed c',
      '/started call.started b',
      '/started webhook.test -',
    ]);
    for (const r of got) {
      const secret = r.path === '/completed' ? completed.secret : started.secret;
      expect(new Webhook(secret).verify(r.body, standardWebhookHeaders(r))).toBeTruthy();
    }
    await deliveriesSettled(t, agency.agencyId);
    expect(receiver.received).toHaveLength(4);
  });

  it('retries a failing receiver exactly 1 + len(WEBHOOK_RETRY_DELAYS) times at the configured spacing, then fails', async () => {
    receiver.answer = () => ({ status: 500, body: 'boom' });
    // The delay BullMQ is given after each failed attempt, as its worker computes it.
    const worker = t.app.get(DeliveryProcessor).worker;
    const spacing: { deliveryId: string; ms: number }[] = [];
    const onFailed = (job: Job<DeliverJob> | undefined, err: Error) => {
      if (job)
        spacing.push({
          deliveryId: job.data.deliveryId,
          ms: deliveryBackoff(job.attemptsMade, 'custom', err),
        });
    };
    worker.on('failed', onFailed);
    const { webhookId, secret } = await endpoint();
    const { delivery_id } = await sendTest(webhookId);
    const failed = await settled(webhookId, 'failed');
    worker.off('failed', onFailed);
    expect(receiver.received).toHaveLength(1 + DELAYS.length);
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    receiver.received.forEach((r) =>
      expect(() => new Webhook(secret).verify(r.body, standardWebhookHeaders(r))).not.toThrow(),
    );
    const gaps = receiver.received.slice(1).map((r, i) => r.at - receiver.received[i].at);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(DELAYS[i] - 20));
    // Each retry was scheduled exactly WEBHOOK_RETRY_DELAYS later (no wall-clock upper bound).
    const scheduled = spacing.filter((f) => f.deliveryId === delivery_id).map((f) => f.ms);
    expect(scheduled.slice(0, DELAYS.length)).toEqual(DELAYS);
    expect(failed).toMatchObject({ attempt_count: 4, next_attempt_at: null });
    expect(
      failed.attempts.map(
        (a: { attempt: number; status_code: number; response_excerpt: string; error: string }) => [
          a.attempt,
          a.status_code,
          a.response_excerpt,
          a.error,
        ],
      ),
    ).toEqual([
      [1, 500, 'boom', 'receiver answered 500'],
      [2, 500, 'boom', 'receiver answered 500'],
      [3, 500, 'boom', 'receiver answered 500'],
      [4, 500, 'boom', 'receiver answered 500'],
    ]);

    await deliveriesSettled(t, agency.agencyId);
    expect(receiver.received).toHaveLength(4);
    receiver.answer = () => ({ status: 200 });
    await request(t.url)
      .post(`/api/v1/webhook-deliveries/${delivery_id}/retry`)
      .set('Authorization', agency.admin.auth)
      .expect(202);
    const retried = await settled(webhookId, 'succeeded');
    expect(retried.attempt_count).toBe(5);
    expect(retried.attempts.at(-1)).toMatchObject({ attempt: 5, status_code: 200 });
    expect(receiver.received.at(-1)!.headers['webhook-id']).toBe(receiver.received[0].headers['webhook-id']);
  });

  it('a by-hand retry racing a scheduled attempt is recorded under its own attempt number', async () => {
    receiver.answer = () => ({ status: 200, delayMs: 300 });
    const { webhookId } = await endpoint();
    const { delivery_id } = await sendTest(webhookId);
    await request(t.url)
      .post(`/api/v1/webhook-deliveries/${delivery_id}/retry`)
      .set('Authorization', agency.admin.auth)
      .expect(202);
    const both = await waitFor(
      async () => {
        // The list reads a delivery and its attempts one after the other: wait for both to be settled.
        const [delivery] = await deliveries(webhookId);
        return delivery?.attempts.length === 2 && delivery.status !== 'pending' && delivery;
      },
      15_000,
      'two attempts, settled',
    );
    expect(both.attempts.map((a: { attempt: number }) => a.attempt).sort()).toEqual([1, 2]);
    expect(both).toMatchObject({ status: 'succeeded', attempt_count: 2 });
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('does not follow a 3xx and counts it as a failure', async () => {
    receiver.answer = (r) =>
      r.path === '/hook'
        ? { status: 302, headers: { location: receiver.url + '/elsewhere' } }
        : { status: 200 };
    const { webhookId } = await endpoint();
    await sendTest(webhookId);
    const failed = await settled(webhookId, 'failed');
    expect(receiver.received.every((r) => r.path === '/hook')).toBe(true);
    expect(failed.attempts[0]).toMatchObject({
      status_code: 302,
      error: expect.stringContaining('redirects are not followed'),
    });
  });

  it('records a timeout with no status code', async () => {
    receiver.answer = () => ({ status: 200, delayMs: 1_500 });
    const { webhookId } = await endpoint();
    await sendTest(webhookId);
    const failed = await settled(webhookId, 'failed');
    expect(failed.attempts[0]).toMatchObject({ status_code: null, error: 'timed out after 500 ms' });
    expect(failed.attempts[0].duration_ms).toBeGreaterThanOrEqual(450);
  });

  it('records a refused connection', async () => {
    const closed = await new Receiver().start();
    const url = closed.url + '/gone';
    await closed.close();
    const { webhookId } = await endpoint(url);
    await sendTest(webhookId);
    const failed = await settled(webhookId, 'failed');
    expect(failed.attempts).toHaveLength(4);
    expect(failed.attempts[0]).toMatchObject({ status_code: null, error: 'connection refused' });
  });

  it('disables the endpoint on 410 Gone without retrying', async () => {
    receiver.answer = () => ({ status: 410 });
    const { webhookId } = await endpoint();
    await sendTest(webhookId);
    const failed = await settled(webhookId, 'failed');
    expect(failed.attempts).toHaveLength(1);
    const { body } = await request(t.url)
      .get(`/api/v1/webhooks/${webhookId}`)
      .set('Authorization', agency.owner.auth)
      .expect(200);
    expect(body.data).toMatchObject({ active: false, disabled_reason: expect.stringContaining('410') });
    await t.app
      .get(WebhookOutbox)
      .transaction((_em, emit) => emit(agency.agencyId, 'call.completed', { call_id: 'x' }));
    await deliveriesSettled(t, agency.agencyId);
    expect(receiver.received).toHaveLength(1);
  });

  it('keeps at most 1 KB of the receiver’s answer', async () => {
    receiver.answer = () => ({ status: 500, body: 'x'.repeat(5000) });
    const { webhookId } = await endpoint();
    await sendTest(webhookId);
    const failed = await settled(webhookId, 'failed');
    expect(failed.attempts[0].response_excerpt).toHaveLength(1024);
  });

  it('during rotation signs with both secrets, so a receiver holding either verifies', async () => {
    const { webhookId, secret: oldSecret } = await endpoint();
    const rotated = await request(t.url)
      .post(`/api/v1/webhooks/${webhookId}/rotate-secret`)
      .set('Authorization', agency.owner.auth)
      .expect(200);
    const newSecret = rotated.body.data.secret as string;
    await sendTest(webhookId);
    const [got] = await waitFor(() => receiver.received.length === 1 && receiver.received);
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret]) {
      expect(new Webhook(secret).verify(got.body, standardWebhookHeaders(got))).toMatchObject({
        event: 'webhook.test',
      });
    }
    expect(got.headers['x-signature']).toBe(hex(newSecret, got.body));
  });

  it('another agency cannot see or retry a delivery', async () => {
    const { webhookId } = await endpoint();
    const { delivery_id } = await sendTest(webhookId);
    const other = await createAgency(t, 'Other');
    await request(t.url)
      .post(`/api/v1/webhook-deliveries/${delivery_id}/retry`)
      .set('Authorization', other.owner.auth)
      .expect(404);
    await request(t.url)
      .get(`/api/v1/webhook-deliveries/${delivery_id}`)
      .set('Authorization', other.owner.auth)
      .expect(404);
    await request(t.url)
      .get('/api/v1/integrations/api/deliveries')
      .set('Authorization', other.owner.auth)
      .expect(200, {
        success: true,
        data: [],
        next_cursor: null,
      });
  });
});
