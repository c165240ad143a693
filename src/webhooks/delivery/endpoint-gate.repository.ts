import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS } from '../../common/redis/redis.token';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { batchPerTick } from '../../database/batch-per-tick';
import type { DeliveryResult } from './delivery-http.client';

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
 * A retry parked with its own job (by `acquire`) wakes after about this long to ask for a slot again,
 * should the release that hands it one be lost (a worker killed between the two). Long, so parked
 * retries cost the queue next to nothing, and spread (±50 %, parkedWakeMs) so that retries parked at
 * once do not wake at once in front of other endpoints' deliveries.
 */
export const PARKED_WAKE_MS = 120_000;

export function parkedWakeMs(): number {
  return Math.round(PARKED_WAKE_MS * (0.5 + Math.random()));
}

/** Attempts in a row that failed as an unreachable endpoint fails (timeout, connection, 5xx) before it is paused. */
export const FAILURES_BEFORE_PAUSE = 5;

/** How an attempt went, as far as the endpoint's health goes. */
export type AttemptVerdict =
  /** Not attempted (nothing to claim): says nothing about the endpoint. */
  | 'none'
  /** The receiver answered (2xx, or a 3xx/4xx: it is up, it just did not take this one). */
  | 'answered'
  /** Timeout, connection error, 5xx or 429: the endpoint is down or overwhelmed. */
  | 'unreachable';

export function verdictOf(result: DeliveryResult | null): AttemptVerdict {
  if (!result) return 'none';
  const status = result.statusCode;
  return status === null || status >= 500 || status === 429 ? 'unreachable' : 'answered';
}

/**
 * A parked delivery the gate just handed a slot of its endpoint (or chose as its probe). Most parked
 * deliveries have no job (the gate's parked set is their only place in Redis): one is to be queued for
 * them. A retry parked by `acquire`, and the probe chosen at admission, wait as delayed jobs of their
 * own (`hasJob`): those are to be woken.
 */
export interface Handed {
  ref: DeliveryRef;
  hasJob: boolean;
}

/** What an attempt's end did to its endpoint, beside handing its slot over. */
export interface Release {
  /** Parked deliveries that now hold the endpoint's free slots. */
  next: Handed[];
  /** `paused`: the endpoint was just paused until `pausedUntil`; `recovered`: a probe succeeded. */
  change: 'paused' | 'recovered' | null;
  pausedUntil: Date | null;
  /** While paused: the parked delivery to run as the probe when the pause ends. */
  probe: Handed | null;
}

// Keys per endpoint: `…:inflight` (zset: delivery id → lease expiry, ms), `…:parked` (zset: delivery id
// → order of arrival), `…:held` (set: the parked deliveries that wait as delayed jobs of their own; the
// others have no job until they are handed a slot) and `…:breaker` (hash: failures in a row;
// paused_until and pauses, while the endpoint is paused or half-open; probe and probe_until, the one
// delivery let through to test it). Times come from Redis itself, so workers' clocks do not matter.
// A handed delivery comes back as '+id' (queue a job for it) or '^id' (wake its own job).
const PRELUDE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
-- 'closed', 'open' (paused: nothing goes) or 'half' (the pause is over: one probe at a time).
local function breaker(key, id)
  local pausedUntil = tonumber(redis.call('HGET', key, 'paused_until') or '0')
  if pausedUntil == 0 then return 'closed' end
  if pausedUntil > now then return 'open' end
  local probe = redis.call('HGET', key, 'probe')
  if probe and probe ~= id and tonumber(redis.call('HGET', key, 'probe_until') or '0') > now then return 'open' end
  return 'half'
end
local function take(inflight, breakerKey, id, lease, state)
  redis.call('ZADD', inflight, now + lease, id)
  if state == 'half' then redis.call('HSET', breakerKey, 'probe', id, 'probe_until', now + lease) end
end
local function handed(held, id)
  if redis.call('SREM', held, id) == 1 then return '^' .. id end
  return '+' .. id
end
-- The longest-parked deliveries, as many as the endpoint has free slots (none while it is paused).
local function handOut(inflight, parked, brk, held, cap, lease)
  local ids = {}
  if breaker(brk, '') == 'closed' then
    redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
    local free = cap - redis.call('ZCARD', inflight)
    if free > 0 then
      local next = redis.call('ZPOPMIN', parked, free)
      for i = 1, #next, 2 do
        redis.call('ZADD', inflight, now + lease, next[i])
        ids[#ids + 1] = handed(held, next[i])
      end
    end
  end
  return ids
end
`;

/**
 * ADMIT: newly due deliveries, four keys each (inflight, parked, breaker, held). A delivery runs when
 * its endpoint is not paused, has a free slot and nothing parked ahead of it (a slot is reserved for
 * it); otherwise it is parked, with no job, until a release (or the sweeper's kick) hands it a slot.
 * Returns, per delivery, 0 (run), -1 (parked) or, for the first one parked behind a pause (the probe),
 * how long its job is to wait: until the pause ends (it is queued delayed, so it is marked held).
 * ARGV: cap, lease ms, then the ids.
 */
const ADMIT = `${PRELUDE}
local cap, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS, 4 do
  local inflight, parked, brk, held, id = KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], ARGV[2 + (i + 3) / 4]
  redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
  local state = breaker(brk, id)
  if state ~= 'open' and redis.call('ZSCORE', inflight, id) then
    out[#out + 1] = 0
  elseif state ~= 'open' and redis.call('ZCARD', inflight) < cap and redis.call('ZCARD', parked) == 0 then
    take(inflight, brk, id, lease, state)
    out[#out + 1] = 0
  else
    redis.call('ZADD', parked, 'NX', now, id)
    local pausedUntil = tonumber(redis.call('HGET', brk, 'paused_until') or '0')
    if state == 'open' and pausedUntil > now and redis.call('HSETNX', brk, 'probe_waker', id) == 1 then
      redis.call('SADD', held, id)
      out[#out + 1] = pausedUntil - now
    else
      out[#out + 1] = -1
    end
  end
end
return out`;

/**
 * ACQUIRE: a job about to attempt its delivery. Already reserved (admitted, or handed a slot by a
 * release) or a free slot (a retry whose backoff ended goes before the parked backlog: it has waited
 * already): it runs, if the endpoint's throttle has a token (otherwise it keeps its slot and waits for
 * the next token). While the endpoint is paused it parks, giving a reserved slot back; when the pause
 * is over it runs only as the one probe. KEYS: inflight, parked, breaker, throttle, held. ARGV: cap, lease
 * ms, id, attempts per second (0: no throttle). Returns 0 (run), -1 (parked) or the ms to wait (for a
 * token, keeping the slot; or, parked, until the pause ends when it is to be the probe). A job parked
 * here waits as a delayed job of its own (it keeps its attempts), so it is marked held.
 */
const ACQUIRE = `${PRELUDE}
local cap, lease, id, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local state = breaker(KEYS[3], id)
if state ~= 'open' and (redis.call('ZSCORE', KEYS[1], id) or redis.call('ZCARD', KEYS[1]) < cap) then
  if rate > 0 then
    -- Token bucket: up to one second's worth of attempts at once, then \`rate\` a second.
    local tokens = tonumber(redis.call('HGET', KEYS[4], 'tokens') or tostring(rate))
    local at = tonumber(redis.call('HGET', KEYS[4], 'at') or tostring(now))
    tokens = math.min(rate, tokens + (now - at) * rate / 1000)
    if tokens < 1 then
      redis.call('HSET', KEYS[4], 'tokens', tokens, 'at', now)
      redis.call('PEXPIRE', KEYS[4], 60000)
      redis.call('ZADD', KEYS[1], now + lease, id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('SREM', KEYS[5], id)
      return math.max(1, math.ceil((1 - tokens) * 1000 / rate))
    end
    redis.call('HSET', KEYS[4], 'tokens', tokens - 1, 'at', now)
    redis.call('PEXPIRE', KEYS[4], 60000)
  end
  take(KEYS[1], KEYS[3], id, lease, state)
  redis.call('ZREM', KEYS[2], id)
  redis.call('SREM', KEYS[5], id)
  return 0
end
redis.call('ZREM', KEYS[1], id)
redis.call('ZADD', KEYS[2], 'NX', now, id)
redis.call('SADD', KEYS[5], id)
-- Parked behind a pause with no probe scheduled yet: this one wakes when the pause ends, as the probe.
local pausedUntil = tonumber(redis.call('HGET', KEYS[3], 'paused_until') or '0')
if pausedUntil > now and redis.call('HSETNX', KEYS[3], 'probe_waker', id) == 1 then return pausedUntil - now end
return -1`;

/**
 * RELEASE: the attempt is over. Its verdict moves the breaker: an answer closes it (and resets the
 * count), an unreachable endpoint counts up and, at the threshold or when the probe failed, is paused
 * for the next of the growing pause delays. Then the slot goes to the longest-parked deliveries (unless
 * paused). Several attempts at once: KEYS: inflight, parked, breaker, held per attempt. ARGV: cap,
 * lease ms, threshold, pause delays (ms, comma-separated), then id and verdict per attempt. Returns, per
 * attempt, {change, paused_until, probe, handed ids...}.
 */
const RELEASE = `${PRELUDE}
local cap, lease, threshold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local delays = {}
for d in string.gmatch(ARGV[4], '[^,]+') do delays[#delays + 1] = tonumber(d) end
local function release(inflight, parked, brk, held, id, verdict)
  redis.call('ZREM', inflight, id)
  local change, pausedUntil, probe = '', 0, ''
  local wasPaused = tonumber(redis.call('HGET', brk, 'paused_until') or '0') > 0
  local wasProbe = redis.call('HGET', brk, 'probe') == id
  if verdict == 'answered' then
    if wasPaused then change = 'recovered' end
    redis.call('DEL', brk)
  elseif verdict == 'unreachable' then
    local failures = redis.call('HINCRBY', brk, 'failures', 1)
    -- Failures in a row: a count nobody added to for an hour is forgotten (unless paused).
    if not wasPaused then redis.call('PEXPIRE', brk, 3600000) end
    local paused = tonumber(redis.call('HGET', brk, 'paused_until') or '0') > now
    if not paused and (wasProbe or (not wasPaused and failures >= threshold)) then
      local pauses = redis.call('HINCRBY', brk, 'pauses', 1)
      pausedUntil = now + delays[math.min(pauses, #delays)]
      redis.call('HSET', brk, 'paused_until', pausedUntil)
      redis.call('HDEL', brk, 'probe', 'probe_until', 'probe_waker')
      change = 'paused'
      redis.call('PERSIST', brk)
      local first = redis.call('ZRANGE', parked, 0, 0)[1]
      if first then
        redis.call('HSET', brk, 'probe_waker', first)
        -- It stays parked, waiting as a delayed job (of its own, or one queued for it now).
        if redis.call('SADD', held, first) == 1 then probe = '+' .. first else probe = '^' .. first end
      end
    end
  end
  return {change, tostring(pausedUntil), probe, unpack(handOut(inflight, parked, brk, held, cap, lease))}
end
local out = {}
for i = 1, #KEYS, 4 do
  local item = (i + 3) / 4
  out[#out + 1] = release(KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3], ARGV[3 + item * 2], ARGV[4 + item * 2])
end
return out`;

/**
 * KICK: endpoints whose parked deliveries nobody may be handing slots to (the sweeper found them
 * parked while due: the worker that held the slots was killed, or its hand-over failed). Gives each
 * endpoint's free slots to its longest-parked deliveries, or, when its pause is over and no probe is
 * under way, lets the first one through as the probe. KEYS: inflight, parked, breaker, held per
 * endpoint. ARGV: cap, lease ms. Returns, per endpoint, the handed ids.
 */
const KICK = `${PRELUDE}
local cap, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS, 4 do
  local inflight, parked, brk, held = KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3]
  local state = breaker(brk, '')
  if state == 'half' then
    local first = redis.call('ZPOPMIN', parked)[1]
    if first then
      take(inflight, brk, first, lease, state)
      out[#out + 1] = {handed(held, first)}
    else
      out[#out + 1] = {}
    end
  else
    out[#out + 1] = handOut(inflight, parked, brk, held, cap, lease)
  end
end
return out`;

type GateRedis = Redis & {
  gateAdmit(...args: (string | number)[]): Promise<number[]>;
  gateAcquire(...args: (string | number)[]): Promise<number>;
  gateRelease(...args: (string | number)[]): Promise<string[][]>;
  gateKick(...args: (string | number)[]): Promise<string[][]>;
};

/** '+id' (no job yet) or '^id' (its own delayed job), as the scripts hand deliveries out. */
function handedOf(endpointId: string, marked: string): Handed {
  return { ref: { deliveryId: marked.slice(1), endpointId }, hasJob: marked.startsWith('^') };
}

/**
 * Isolation between endpoints (CONTRACT §6), in Redis, across all workers:
 * - each endpoint has at most WEBHOOK_ENDPOINT_MAX_IN_FLIGHT attempts under way. A delivery over the
 *   cap is parked — it waits in the gate's parked set, with no job, using no worker slot and no
 *   attempt — and is handed the next free slot of its endpoint, in order of arrival, when an attempt
 *   ends (its job is queued then, holding the slot);
 * - an endpoint whose last FAILURES_BEFORE_PAUSE attempts found it unreachable is paused for the next
 *   of WEBHOOK_PAUSE_DELAYS (growing); its deliveries are parked meanwhile, not attempted. When the
 *   pause is over one probe goes through: an answer resumes the endpoint (its backlog drains at the
 *   cap), another failure pauses it for longer.
 * So a slow or dead endpoint's backlog never stands in the queue in front of another endpoint's
 * deliveries, and costs the queue nothing. Redis holds only the fast path: slots expire on their own,
 * the delivery sweeper kicks endpoints whose parked deliveries nobody hands slots to (a worker killed
 * between an attempt and its hand-over) and re-enqueues from Postgres whatever Redis lost.
 */
@Injectable()
export class EndpointGate {
  private readonly redis: GateRedis;
  private readonly admitBatched: (ref: DeliveryRef) => Promise<number>;
  private readonly releaseBatched: (item: { ref: DeliveryRef; verdict: AttemptVerdict }) => Promise<Release>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) redis: Redis,
  ) {
    redis.defineCommand('gateAdmit', { lua: ADMIT });
    redis.defineCommand('gateAcquire', { numberOfKeys: 5, lua: ACQUIRE });
    redis.defineCommand('gateRelease', { lua: RELEASE });
    redis.defineCommand('gateKick', { lua: KICK });
    this.redis = redis as GateRedis;
    this.admitBatched = batchPerTick((refs: readonly DeliveryRef[]) => this.admitMany(refs));
    this.releaseBatched = batchPerTick((items: readonly { ref: DeliveryRef; verdict: AttemptVerdict }[]) =>
      this.releaseMany(items),
    );
  }

  private get cap(): number {
    return this.config.webhooks.endpointMaxInFlight;
  }

  private get leaseMs(): number {
    return this.config.webhooks.timeoutMs + LEASE_MARGIN_MS;
  }

  /**
   * Newly due deliveries: those that may run now (a slot is reserved for each), and the probes — the
   * first delivery parked behind a pause, whose job is to wait until the pause ends. The others are
   * parked: they need no job until a slot is handed to them. The admissions of one event-loop turn
   * share one script run.
   */
  async admit(
    deliveries: readonly DeliveryRef[],
  ): Promise<{ run: DeliveryRef[]; probes: { ref: DeliveryRef; wakeInMs: number }[] }> {
    const waits = await Promise.all(deliveries.map((ref) => this.admitBatched(ref)));
    return {
      run: deliveries.filter((_, i) => waits[i] === 0),
      probes: deliveries.flatMap((ref, i) => (waits[i] > 0 ? [{ ref, wakeInMs: waits[i] }] : [])),
    };
  }

  private admitMany(deliveries: readonly DeliveryRef[]): Promise<number[]> {
    const keys = deliveries.flatMap((d) => keysOf(d.endpointId));
    return this.redis.gateAdmit(
      keys.length,
      ...keys,
      this.cap,
      this.leaseMs,
      ...deliveries.map((d) => d.deliveryId),
    );
  }

  /**
   * Before an attempt: `run` (the delivery holds a slot of its endpoint), `parked` (over the cap or
   * paused: its job waits to be handed a slot), or `wait` ms: for a throttle token (slot kept), or until
   * the pause ends when this one is to be the probe.
   */
  async acquire(
    { deliveryId, endpointId }: DeliveryRef,
    ratePerSecond: number | null,
  ): Promise<{ run: true } | { run: false; waitMs: number | null }> {
    const [inflight, parked, breakerKey, held] = keysOf(endpointId);
    const verdict = await this.redis.gateAcquire(
      inflight,
      parked,
      breakerKey,
      `endpoint:${endpointId}:throttle`,
      held,
      this.cap,
      this.leaseMs,
      deliveryId,
      ratePerSecond ?? 0,
    );
    if (verdict === 0) return { run: true };
    return { run: false, waitMs: verdict > 0 ? verdict : null };
  }

  /** Gives the slot back after an attempt that went as `verdict`; see Release. */
  release(ref: DeliveryRef, verdict: AttemptVerdict): Promise<Release> {
    return this.releaseBatched({ ref, verdict });
  }

  /** The releases of one event-loop turn in one script run. */
  private async releaseMany(
    items: readonly { ref: DeliveryRef; verdict: AttemptVerdict }[],
  ): Promise<Release[]> {
    const replies = await this.redis.gateRelease(
      items.length * 4,
      ...items.flatMap(({ ref }) => keysOf(ref.endpointId)),
      this.cap,
      this.leaseMs,
      FAILURES_BEFORE_PAUSE,
      this.config.webhooks.pauseDelaysMs.join(','),
      ...items.flatMap(({ ref, verdict }) => [ref.deliveryId, verdict]),
    );
    return replies.map(([change, pausedUntil, probe, ...next], i) => {
      const { endpointId } = items[i].ref;
      return {
        next: next.map((marked) => handedOf(endpointId, marked)),
        change: change === 'paused' || change === 'recovered' ? change : null,
        pausedUntil: change === 'paused' ? new Date(Number(pausedUntil)) : null,
        probe: probe ? handedOf(endpointId, probe) : null,
      };
    });
  }

  /**
   * Hands these endpoints' free slots (or, after a pause, the probe's) to their longest-parked
   * deliveries: for the sweeper, when it finds due deliveries parked that nobody may be handing slots to.
   */
  async kick(endpointIds: readonly string[]): Promise<Handed[]> {
    if (endpointIds.length === 0) return [];
    const replies = await this.redis.gateKick(
      endpointIds.length * 4,
      ...endpointIds.flatMap((id) => keysOf(id)),
      this.cap,
      this.leaseMs,
    );
    return replies.flatMap((marked, i) => marked.map((m) => handedOf(endpointIds[i], m)));
  }

  /** Which of these deliveries wait parked in the gate (they have no job, and need none yet). */
  async parkedAmong(refs: readonly DeliveryRef[]): Promise<boolean[]> {
    return this.scoresAmong(refs, 1);
  }

  /**
   * Which of these deliveries hold a slot already: a release can hand a parked delivery its slot
   * between the parking and its job's delay being set, and then nobody would wake the job.
   */
  async reservedAmong(refs: readonly DeliveryRef[]): Promise<boolean[]> {
    return this.scoresAmong(refs, 0);
  }

  private async scoresAmong(refs: readonly DeliveryRef[], key: 0 | 1): Promise<boolean[]> {
    if (refs.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const { deliveryId, endpointId } of refs) pipeline.zscore(keysOf(endpointId)[key], deliveryId);
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, score]) => !err && score !== null);
  }

  /** Forgets the endpoint's failures and pause (it was re-enabled by hand). */
  async reset(endpointId: string): Promise<void> {
    await this.redis.del(keysOf(endpointId)[2]);
  }
}

function keysOf(endpointId: string): [string, string, string, string] {
  const base = `endpoint:${endpointId}`;
  return [`${base}:inflight`, `${base}:parked`, `${base}:breaker`, `${base}:held`];
}
