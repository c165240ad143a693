import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { FaultLog } from '../fault-log';
import { watchConnection } from './watch-connection';
import { REDIS } from './redis.token';

type Listener = (key: string) => void;

/** What processes keep in memory and announce changes of: a topic's publishers and listeners agree on it. */
export type CacheTopic = 'agency-secrets';

/**
 * Tells every process that something it may keep in memory changed: `publish(topic, key)` reaches this
 * process's listeners at once and the other processes' through Redis pub/sub (one channel per
 * REDIS_PREFIX). A message lost while Redis is unreachable is not replayed, so a cache that listens
 * must still expire its entries on its own.
 */
@Injectable()
export class CacheInvalidation implements OnApplicationShutdown {
  private readonly logger = new Logger(CacheInvalidation.name);
  private readonly channel: string;
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Opened on the first `on`: a process that keeps nothing in memory holds no extra connection. */
  private subscriber?: Redis;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    this.channel = `${config.redisPrefix}:cache-invalidation`;
  }

  /** Calls `listener` with each key of `topic` published by any process, this one included. */
  on(topic: CacheTopic, listener: Listener): void {
    const listeners = this.listeners.get(topic) ?? new Set<Listener>();
    listeners.add(listener);
    this.listeners.set(topic, listeners);
    this.subscribe();
  }

  /** Never throws: when Redis is unreachable the other processes rely on their caches' expiry. */
  async publish(topic: CacheTopic, key: string): Promise<void> {
    this.deliver(topic, key);
    try {
      await this.redis.publish(this.channel, JSON.stringify([topic, key]));
    } catch (err) {
      this.logger.warn({ msg: 'cache invalidation not published', topic, err: (err as Error).message });
    }
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }

  private subscribe(): void {
    if (this.subscriber) return;
    // ioredis subscribes again by itself after a reconnect.
    const subscriber = new Redis(this.config.redisUrl, {
      maxRetriesPerRequest: null,
      connectTimeout: this.config.timeouts.redisMs,
    });
    watchConnection(subscriber, 'cache invalidation subscriber', new FaultLog(this.logger));
    subscriber.on('message', (_channel: string, message: string) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        return;
      }
      if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string')
        this.deliver(parsed[0], parsed[1]);
    });
    void subscriber
      .subscribe(this.channel)
      .catch((err: Error) =>
        this.logger.warn({ msg: 'cache invalidation not subscribed', err: err.message }),
      );
    this.subscriber = subscriber;
  }

  private deliver(topic: string, key: string): void {
    for (const listener of this.listeners.get(topic) ?? []) listener(key);
  }
}
