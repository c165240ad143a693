import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds at which the current window ends. */
  resetAt: number;
}

const WINDOW_MS = 60_000;

/** Fixed one-minute windows counted in Redis, so every API replica shares the same budget. */
@Injectable()
export class RateLimiter {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async hit(subject: string, limitPerMinute: number, now = Date.now()): Promise<RateLimitResult> {
    const window = Math.floor(now / WINDOW_MS);
    const key = `ratelimit:${subject}:${window}`;
    const [[, count]] = (await this.redis
      .multi()
      .incr(key)
      .pexpire(key, WINDOW_MS * 2)
      .exec()) as [[null, number]];
    return {
      allowed: count <= limitPerMinute,
      limit: limitPerMinute,
      remaining: Math.max(0, limitPerMinute - count),
      resetAt: Math.ceil(((window + 1) * WINDOW_MS) / 1000),
    };
  }
}

export function rateLimitHeaders(result: RateLimitResult): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(result.limit),
    'X-RateLimit-Remaining': String(result.remaining),
    'X-RateLimit-Reset': String(result.resetAt),
  };
}
