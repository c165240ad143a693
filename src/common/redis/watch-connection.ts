import type Redis from 'ioredis';
import type { FaultLog } from '../fault-log';

/**
 * Gives an ioredis client the 'error' listener it must have (without one, ioredis prints "Unhandled
 * error event" and a stack trace outside the JSON log): its connection errors are logged once per
 * outage, and its recovery once (FaultLog). A connection that closes without an error (Redis shutting
 * down cleanly, back before the next attempt fails) is an outage too: ioredis says 'reconnecting'.
 */
export function watchConnection(redis: Redis, source: string, log: FaultLog): void {
  redis.on('error', (err: Error) => log.failed(source, err));
  redis.on('reconnecting', () => log.lost(source, 'the connection to Redis closed'));
  redis.on('ready', () => log.recovered(source));
}
