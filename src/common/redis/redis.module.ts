import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { FaultLog } from '../fault-log';
import { watchConnection } from './watch-connection';
import { CacheInvalidation } from './cache-invalidation';
import { REDIS } from './redis.token';

export { REDIS };

/**
 * One shared ioredis connection for the app's own keys (health, rate limits, locks), and the
 * cross-process cache invalidation that rides on it.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        // Fail fast (CONTRACT §4): no offline queue, a bound on connecting and on each command.
        const redis = new Redis(config.redisUrl, {
          keyPrefix: `${config.redisPrefix}:`,
          maxRetriesPerRequest: 2,
          enableOfflineQueue: false,
          connectTimeout: config.timeouts.redisMs,
          commandTimeout: config.timeouts.redisMs,
        });
        watchConnection(redis, 'redis client', new FaultLog(new Logger(RedisModule.name)));
        return redis;
      },
    },
    CacheInvalidation,
  ],
  exports: [REDIS, CacheInvalidation],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
