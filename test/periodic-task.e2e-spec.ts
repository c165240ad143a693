import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { PeriodicTask } from '../src/common/periodic-task';
import { TEST_REDIS_URL } from './support/env';
import { waitFor } from './support/wait';
import { clearRedisPrefix } from './support/spawn';

/**
 * PeriodicTask against a real Redis: what several workers sharing one prefix do. Each "worker" is an
 * instance with its own connection, as separate processes would have; passes are started by hand.
 */
class CountingTask extends PeriodicTask {
  protected readonly logger = new Logger('CountingTask');
  passes = 0;
  /** While set, a pass waits for it: a pass in progress the test can hold open. */
  hold?: Promise<void>;

  constructor(private readonly everyMs: number) {
    super();
  }

  protected intervalMs(): number {
    return this.everyMs;
  }

  protected async runOnce(): Promise<void> {
    this.passes += 1;
    await this.hold;
  }
}

describe('PeriodicTask across workers', () => {
  const prefix = `sbtest:${randomBytes(4).toString('hex')}`;
  const connections: Redis[] = [];

  function worker(intervalMs: number): CountingTask {
    const redis = new Redis(TEST_REDIS_URL, { keyPrefix: `${prefix}:` });
    connections.push(redis);
    const task = new CountingTask(intervalMs);
    // What Nest's property injection does in the app.
    Object.assign(task, { redis });
    return task;
  }

  afterAll(async () => {
    for (const redis of connections) redis.disconnect();
    await clearRedisPrefix(prefix);
  });

  it('one pass per interval across workers: the others find the lease taken until the interval ends', async () => {
    const [a, b, c] = [worker(60_000), worker(60_000), worker(60_000)];
    await Promise.all([a.sweep(), b.sweep(), c.sweep()]);
    expect(a.passes + b.passes + c.passes).toBe(1);
    const holder = [a, b, c].find((w) => w.passes === 1)!;
    await holder.sweep();
    expect(holder.passes).toBe(2);
    for (const other of [a, b, c].filter((w) => w !== holder)) {
      await other.sweep();
      expect(other.passes).toBe(0);
    }
    await Promise.all([a, b, c].map((w) => w.onModuleDestroy()));
  });

  it('a worker that stops gives the lease up, and another takes the next pass', async () => {
    const [a, b] = [worker(60_000), worker(60_000)];
    await a.sweep();
    expect(a.passes).toBe(1);
    await b.sweep();
    expect(b.passes).toBe(0);
    await a.onModuleDestroy();
    await b.sweep();
    expect(b.passes).toBe(1);
    await b.onModuleDestroy();
  });

  it('a sweep called during a pass waits for it and then makes its own', async () => {
    const a = worker(60_000);
    let release!: () => void;
    a.hold = new Promise<void>((resolve) => (release = resolve));
    const first = a.sweep();
    await waitFor(() => a.passes === 1, 5_000, 'the first pass to start');
    const second = a.sweep();
    release();
    await Promise.all([first, second]);
    expect(a.passes).toBe(2);
    await a.onModuleDestroy();
  });

  it('shutdown waits for the pass in progress', async () => {
    const a = worker(60_000);
    let release!: () => void;
    a.hold = new Promise<void>((resolve) => (release = resolve));
    const pass = a.sweep();
    await waitFor(() => a.passes === 1, 5_000, 'the pass to start');
    let stopped = false;
    const stopping = a.onModuleDestroy().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    await pass;
    expect(stopped).toBe(true);
  });
});
