import type { LoggerService } from '@nestjs/common';
import { unreachableDependency } from './errors/dependency-outage';

/**
 * Logs the failures of long-lived things (a Redis client, a queue, a worker, a periodic task) without
 * flooding during an outage: the first "cannot reach Postgres/Redis" error of a source is one warn line,
 * the ones after it (each reconnect attempt, each pass) are only counted until `recovered(source)`,
 * which writes one line saying how many were left out. Any other error is logged every time. Lines are
 * objects for the JSON logger, the error as its message: never a stack trace.
 */
export class FaultLog {
  private readonly down = new Map<string, { since: number; repeats: number }>();

  constructor(private readonly logger: Pick<LoggerService, 'warn' | 'log'>) {}

  failed(source: string, err: unknown, fields: Record<string, unknown> = {}): void {
    const message = err instanceof Error ? err.message : String(err);
    if (!unreachableDependency(err)) {
      this.logger.warn({ msg: `${source} failed`, source, err: message, ...fields });
      return;
    }
    this.lost(source, message, fields);
  }

  /**
   * The source's connection is gone, whatever the error (or none: a server that shut down cleanly
   * closes it without one): the outage's one warn line, or one more repeat of it.
   */
  lost(source: string, reason: string, fields: Record<string, unknown> = {}): void {
    const outage = this.down.get(source);
    if (outage) {
      outage.repeats++;
      return;
    }
    this.down.set(source, { since: Date.now(), repeats: 0 });
    this.logger.warn({
      msg: `${source}: connection lost; retrying (repeats are not logged until it recovers)`,
      source,
      err: reason,
      ...fields,
    });
  }

  recovered(source: string): void {
    const outage = this.down.get(source);
    if (!outage) return;
    this.down.delete(source);
    this.logger.log({
      msg: `${source}: reachable again`,
      source,
      down_ms: Date.now() - outage.since,
      errors_not_logged: outage.repeats,
    });
  }
}
