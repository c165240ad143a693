import Redis from 'ioredis';
import request from 'supertest';
import { WebhookOutbox } from '../src/webhooks/delivery/webhook-outbox.service';
import { createAgency } from './support/fixtures';
import { Receiver } from './support/receiver';
import { waitFor } from './support/wait';
import { NodeProcess, spawnWorker } from './support/spawn';
import { startTestApp, TestApp } from './support/test-app';

// A Redis database of its own, so FLUSHDB here cannot touch the spec files running beside this one.
const REDIS_URL = `${process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/13`;
const EVENTS = 300;

describe('nothing lost: worker SIGKILL and Redis FLUSHDB mid-delivery, backlog parked at the endpoint cap (CONTRACT §6)', () => {
  let t: TestApp;
  let receiver: Receiver;
  let worker: NodeProcess | undefined;
  const startWorker = () =>
    spawnWorker(t.env, {
      WEBHOOK_DELIVERY_CONCURRENCY: '10',
      WEBHOOK_SWEEP_INTERVAL_MS: '500',
      WEBHOOK_TIMEOUT_MS: '1000',
    });

  beforeAll(async () => {
    receiver = await new Receiver().start();
    receiver.answer = () => ({ status: 204, delayMs: 15 });
    // A cap well under the backlog: most deliveries wait parked when the worker dies and Redis is flushed.
    t = await startTestApp({
      APP_ROLE: 'api',
      REDIS_URL,
      WEBHOOK_RETRY_DELAYS: '200ms,400ms,800ms',
      WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: '3',
      // Slots are leased for the timeout plus 30 s: short, so the second case's dead slots expire soon.
      WEBHOOK_TIMEOUT_MS: '1000',
    });
  });
  afterAll(async () => {
    await worker?.stop(2_000);
    await receiver.close();
    await t.close();
  });

  it('every delivery reaches the receiver at least once and ends succeeded', async () => {
    const agency = await createAgency(t);
    await request(t.url)
      .post('/api/v1/webhooks')
      .set('Authorization', agency.owner.auth)
      .send({ url: `${receiver.url}/hook`, events: ['call.completed'] })
      .expect(201);
    worker = startWorker();
    const outbox = t.app.get(WebhookOutbox);
    for (let i = 0; i < EVENTS; i++) {
      await outbox.transaction((_em, emit) =>
        emit(agency.agencyId, 'call.completed', { call_id: `call-${i}` }),
      );
    }
    await waitFor(() => receiver.received.length >= 30, 20_000, 'the first deliveries');
    expect(receiver.maxInFlight).toBeLessThanOrEqual(3);
    worker.child.kill('SIGKILL');
    await worker.exited;
    const redis = new Redis(REDIS_URL);
    await redis.flushdb();
    redis.disconnect();
    const receivedAtCrash = new Set(receiver.received.map((r) => r.headers['webhook-id'])).size;
    expect(receivedAtCrash).toBeLessThan(EVENTS);

    worker = startWorker();
    const unique = () => new Set(receiver.received.map((r) => JSON.parse(r.body).call_id as string));
    await waitFor(() => unique().size === EVENTS, 45_000, `all ${EVENTS} events at the receiver`);
    const { rows } = await waitFor(
      async () => {
        const result = await t.db.query(
          `SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status`,
        );
        return result.rows.length === 1 && result.rows[0].status === 'succeeded' && result;
      },
      20_000,
      'every delivery succeeded',
    );
    expect(rows).toEqual([{ status: 'succeeded', n: EVENTS }]);
    // Retries and replays reuse the event id, so receivers can dedupe.
    for (const r of receiver.received) {
      const body = JSON.parse(r.body) as { event_id: string };
      expect(r.headers['webhook-id']).toBe(body.event_id);
    }
  });

  it('a worker killed mid-attempt strands no parked backlog: once its slots expire, the rest drains', async () => {
    const stuck = await new Receiver().start();
    try {
      // The first attempts hang until the worker is gone; what comes after is answered at once.
      stuck.answer = () => ({ status: 204, hold: true });
      const agency = await createAgency(t);
      await request(t.url)
        .post('/api/v1/webhooks')
        .set('Authorization', agency.owner.auth)
        .send({ url: `${stuck.url}/hook`, events: ['call.completed'] })
        .expect(201);
      const outbox = t.app.get(WebhookOutbox);
      const count = 20;
      for (let i = 0; i < count; i++) {
        await outbox.emit(agency.agencyId, 'call.completed', { call_id: `stuck-${i}` });
      }
      await waitFor(() => stuck.inFlight === 3, 20_000, 'three attempts hanging at the cap');
      worker?.child.kill('SIGKILL');
      await worker?.exited;
      stuck.answer = () => ({ status: 204 });
      stuck.releaseHeld();
      worker = startWorker();
      // Parked deliveries have no job: nobody hands them the dead worker's slots but the sweeper.
      const unique = () => new Set(stuck.received.map((r) => JSON.parse(r.body).call_id as string));
      await waitFor(() => unique().size === count, 90_000, `all ${count} events at the receiver`);
      const { rows } = await waitFor(
        async () => {
          const result = await t.db.query(
            `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE agency_id = $1 GROUP BY status`,
            [agency.agencyId],
          );
          return result.rows.length === 1 && result.rows[0].status === 'succeeded' && result;
        },
        20_000,
        'every delivery succeeded',
      );
      expect(rows).toEqual([{ status: 'succeeded', n: count }]);
      expect(stuck.maxInFlight).toBeLessThanOrEqual(3);
    } finally {
      await stuck.close();
    }
  }, 150_000);
});
