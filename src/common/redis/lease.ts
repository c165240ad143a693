import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';

/** Takes the key when it is free, or extends it when this holder has it already. */
const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** Sets the key's remaining time (or deletes it at 0) only while this holder has it. */
const SHORTEN = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) <= 0 then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

/**
 * A lease on one Redis key: a random token per holder, so only the holder can extend or give it up, and
 * a time to live, so a holder that dies (SIGKILL) loses it without anyone's help.
 */
export class RedisLease {
  private readonly token = randomUUID();

  constructor(
    private readonly redis: Redis,
    readonly key: string,
  ) {}

  /** True when this holder has the lease for the next `ttlMs` (taken now, or extended). */
  async acquire(ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(ACQUIRE, 1, this.key, this.token, Math.ceil(ttlMs))) === 1;
  }

  /** Keeps the lease for `ttlMs` more; false when it was lost meanwhile. */
  extend(ttlMs: number): Promise<boolean> {
    return this.acquire(ttlMs);
  }

  /** Lets the lease lapse in `remainingMs` (at once when ≤ 0), if this holder still has it. */
  async release(remainingMs = 0): Promise<void> {
    await this.redis.eval(SHORTEN, 1, this.key, this.token, Math.ceil(remainingMs));
  }
}
