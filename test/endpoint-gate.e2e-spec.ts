import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../src/config/app-config';
import { EndpointGate, FAILURES_BEFORE_PAUSE } from '../src/webhooks/delivery/endpoint-gate.repository';
import { TEST_REDIS_URL } from './support/env';
import { waitFor } from './support/wait';

/**
 * The gate's scripts on a real Redis, for what the e2e specs cannot provoke on purpose: a parked
 * backlog that nobody hands slots to any more (the worker that would have was killed between an
 * attempt and its hand-over) is moved on by the sweeper's kick.
 */
describe('EndpointGate: parked deliveries have no job until handed a slot; the kick moves a stranded backlog', () => {
  let redis: Redis;
  let gate: EndpointGate;
  const config = {
    webhooks: { endpointMaxInFlight: 2, timeoutMs: 1_000, pauseDelaysMs: [300] },
  } as unknown as AppConfig;
  const ref = (endpointId: string, n: number) => ({ deliveryId: `d-${n}`, endpointId });

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: `gate-spec-${randomUUID()}:` });
    gate = new EndpointGate(config, redis);
  });
  afterAll(async () => {
    // KEYS takes the prefix on its pattern, not off its answers.
    const keys = await redis.keys('*');
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(redis.options.keyPrefix!.length)));
    redis.disconnect();
  });

  it('admits up to the cap, parks the rest in order, and each release hands its slot to the next one to queue', async () => {
    const endpoint = randomUUID();
    const { run, probes } = await gate.admit([1, 2, 3, 4].map((n) => ref(endpoint, n)));
    expect(run.map((r) => r.deliveryId)).toEqual(['d-1', 'd-2']);
    expect(probes).toEqual([]);
    expect(await gate.parkedAmong([3, 4].map((n) => ref(endpoint, n)))).toEqual([true, true]);
    const release = await gate.release(ref(endpoint, 1), 'answered');
    expect(release.next).toEqual([{ ref: ref(endpoint, 3), hasJob: false }]);
    expect(await gate.reservedAmong([ref(endpoint, 3)])).toEqual([true]);
    expect(await gate.parkedAmong([ref(endpoint, 3), ref(endpoint, 4)])).toEqual([false, true]);
  });

  it('a retry parked with its own job is woken, not queued again, when it is handed a slot', async () => {
    const endpoint = randomUUID();
    await gate.admit([1, 2].map((n) => ref(endpoint, n)));
    expect(await gate.acquire(ref(endpoint, 9), null)).toEqual({ run: false, waitMs: null });
    const release = await gate.release(ref(endpoint, 1), 'answered');
    expect(release.next).toEqual([{ ref: ref(endpoint, 9), hasJob: true }]);
  });

  it('after a pause whose probe was lost, the kick lets exactly one probe through, then the backlog at the cap', async () => {
    const endpoint = randomUUID();
    await gate.admit([1, 2, 3, 4, 5, 6, 7, 8].map((n) => ref(endpoint, n)));
    // Unreachable attempts in a row (each slot handed on to the next parked one) pause the endpoint;
    // the first one still parked is chosen as its probe.
    const handed: string[] = [];
    let paused: Awaited<ReturnType<EndpointGate['release']>> | null = null;
    expect(FAILURES_BEFORE_PAUSE).toBe(5);
    for (const n of [1, 2, 3, 4, 5]) {
      const release = await gate.release(ref(endpoint, n), 'unreachable');
      handed.push(...release.next.map((h) => h.ref.deliveryId));
      if (release.change === 'paused') paused = release;
    }
    expect(handed).toEqual(['d-3', 'd-4', 'd-5', 'd-6']);
    expect(paused?.probe).toEqual({ ref: ref(endpoint, 7), hasJob: false });
    expect(await gate.kick([endpoint])).toEqual([]);
    // The probe's delayed job is lost; once the pause is over the kick hands it out as the one probe.
    const probe = await waitFor(
      async () => {
        const out = await gate.kick([endpoint]);
        return out.length > 0 && out;
      },
      5_000,
      'the pause to end',
    );
    expect(probe).toEqual([{ ref: ref(endpoint, 7), hasJob: true }]);
    expect(await gate.kick([endpoint])).toEqual([]);
    // The probe answers: the endpoint resumes, and its free slot (d-6 still holds the other) goes on.
    const recovered = await gate.release(ref(endpoint, 7), 'answered');
    expect(recovered.change).toBe('recovered');
    expect(recovered.next).toEqual([{ ref: ref(endpoint, 8), hasJob: false }]);
  });
});
