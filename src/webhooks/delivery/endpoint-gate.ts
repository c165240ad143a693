import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS } from '../../common/redis/redis.token';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

/** A delivery and the endpoint it goes to: what the gate needs to know. */
export interface DeliveryRef {
  deliveryId: string;
  endpointId: string;
}

/**
 * A slot is held at most this long past the attempt's own timeout: a worker killed mid-attempt
 * (SIGKILL) frees its slots by themselves.
 */
const LEASE_MARGIN_MS = 30_000;

/**
 * A parked job wakes after this to ask for a slot again, should the release that hands it one be
 * lost (a worker killed between the two). Long, so a parked backlog costs the queue next to nothing.
 */
export const PARKED_WAKE_MS = 120_000;

// Keys per endpoint: `…:inflight` (zset: delivery id → lease expiry, ms) and `…:parked` (zset:
// delivery id → order of arrival). Times come from Redis itself, so workers' clocks do not matter.
const NOW = `local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

/**
 * ADMIT: for each (inflight, parked) key pair and its delivery id, reserve a slot when the endpoint has
 * a free one and nothing parked ahead of it; park it otherwise. Returns 1 (run) or 0 (parked) per id.
 * ARGV: cap, lease ms, then the ids in KEYS order (two keys per id).
 */
const ADMIT = `${NOW}
local cap, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS, 2 do
  local inflight, parked, id = KEYS[i], KEYS[i + 1], ARGV[2 + (i + 1) / 2]
  redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
  if redis.call('ZSCORE', inflight, id) then
    out[#out + 1] = 1
  elseif redis.call('ZCARD', inflight) < cap and redis.call('ZCARD', parked) == 0 then
    redis.call('ZADD', inflight, now + lease, id)
    out[#out + 1] = 1
  else
    redis.call('ZADD', parked, 'NX', now, id)
    out[#out + 1] = 0
  end
end
return out`;

/**
 * ACQUIRE: a job about to attempt its delivery. Already reserved (admitted, or handed over by a
 * release): keep it. Otherwise take a free slot (a retry whose backoff ended goes before the parked
 * backlog: it has waited already), or park. KEYS: inflight, parked. ARGV: cap, lease ms, id.
 */
const ACQUIRE = `${NOW}
local cap, lease, id = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], id) or redis.call('ZCARD', KEYS[1]) < cap then
  redis.call('ZADD', KEYS[1], now + lease, id)
  redis.call('ZREM', KEYS[2], id)
  return 1
end
redis.call('ZADD', KEYS[2], 'NX', now, id)
return 0`;

/**
 * RELEASE: the attempt is over; its slot goes to the longest-parked deliveries (reserved for them
 * here, so no other job takes it first). Returns their ids. KEYS: inflight, parked. ARGV: cap, lease ms, id.
 */
const RELEASE = `${NOW}
local cap, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local free = cap - redis.call('ZCARD', KEYS[1])
if free <= 0 then return {} end
local next = redis.call('ZPOPMIN', KEYS[2], free)
local ids = {}
for i = 1, #next, 2 do
  redis.call('ZADD', KEYS[1], now + lease, next[i])
  ids[#ids + 1] = next[i]
end
return ids`;

type GateRedis = Redis & {
  gateAdmit(...args: (string | number)[]): Promise<number[]>;
  gateAcquire(inflight: string, parked: string, cap: number, lease: number, id: string): Promise<number>;
  gateRelease(inflight: string, parked: string, cap: number, lease: number, id: string): Promise<string[]>;
};

/**
 * Isolation between endpoints (CONTRACT §6): each endpoint has at most WEBHOOK_ENDPOINT_MAX_IN_FLIGHT
 * attempts under way across all workers. A delivery over the cap is parked — its job waits in the
 * queue's delayed set, using no worker slot and no attempt — and is handed the next free slot of its
 * endpoint, in order of arrival, when an attempt ends. So a slow or dead endpoint's backlog never
 * stands in the queue in front of another endpoint's deliveries.
 *
 * Redis holds only the fast path: slots expire on their own, parked jobs wake after a while to ask
 * again, and the delivery sweeper re-enqueues from Postgres whatever Redis lost.
 */
@Injectable()
export class EndpointGate {
  private readonly redis: GateRedis;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) redis: Redis,
  ) {
    redis.defineCommand('gateAdmit', { lua: ADMIT });
    redis.defineCommand('gateAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand('gateRelease', { numberOfKeys: 2, lua: RELEASE });
    this.redis = redis as GateRedis;
  }

  private get cap(): number {
    return this.config.webhooks.endpointMaxInFlight;
  }

  private get leaseMs(): number {
    return this.config.webhooks.timeoutMs + LEASE_MARGIN_MS;
  }

  /** Newly due deliveries: which may run now (a slot is reserved for each) and which are parked. */
  async admit(deliveries: readonly DeliveryRef[]): Promise<{ run: DeliveryRef[]; parked: DeliveryRef[] }> {
    if (deliveries.length === 0) return { run: [], parked: [] };
    const keys = deliveries.flatMap((d) => keysOf(d.endpointId));
    const verdicts = await this.redis.gateAdmit(
      keys.length,
      ...keys,
      this.cap,
      this.leaseMs,
      ...deliveries.map((d) => d.deliveryId),
    );
    return {
      run: deliveries.filter((_, i) => verdicts[i] === 1),
      parked: deliveries.filter((_, i) => verdicts[i] !== 1),
    };
  }

  /** True when the delivery holds a slot of its endpoint for its attempt; false: it is parked. */
  async acquire({ deliveryId, endpointId }: DeliveryRef): Promise<boolean> {
    const [inflight, parked] = keysOf(endpointId);
    return (await this.redis.gateAcquire(inflight, parked, this.cap, this.leaseMs, deliveryId)) === 1;
  }

  /** Gives the slot back; returns the parked deliveries that now hold the endpoint's free slots. */
  release({ deliveryId, endpointId }: DeliveryRef): Promise<string[]> {
    const [inflight, parked] = keysOf(endpointId);
    return this.redis.gateRelease(inflight, parked, this.cap, this.leaseMs, deliveryId);
  }
}

function keysOf(endpointId: string): [string, string] {
  return [`endpoint:${endpointId}:inflight`, `endpoint:${endpointId}:parked`];
}
