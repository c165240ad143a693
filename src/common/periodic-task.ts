import { Inject, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { unreachableDependency } from './errors/dependency-outage';
import { FaultLog } from './fault-log';
import { RedisLease } from './redis/lease';
import { REDIS } from './redis/redis.token';

/**
 * The lease's time to live while a pass runs, renewed every third of it: a worker killed mid-pass
 * holds up the others for at most this long.
 */
const PASS_LEASE_MS = 5_000;

/**
 * Runs `runOnce` about every `intervalMs`, once across all the workers that share the Redis prefix:
 * a pass first takes the task's lease (src/common/redis/lease.ts), and keeps it for the rest of the
 * interval, so the other workers' timers find it taken; a worker that dies loses it by expiry. Never
 * two passes at once in one process; a failure is logged and never stops the next pass; shutdown
 * waits for a pass in progress. `runOnce` should do a bounded amount of work and catch each item's
 * failure itself, so one bad item never stops the others.
 */
export abstract class PeriodicTask implements OnApplicationBootstrap, OnModuleDestroy {
  protected abstract readonly logger: Logger;
  /** Property-injected, so that subclasses keep their own constructors (`super()` takes nothing). */
  @Inject(REDIS) private readonly redis!: Redis;
  private lease?: RedisLease;
  /** An outage is one warn line and one on recovery, not one per pass. */
  private faults?: FaultLog;
  /** Set when an item of the pass under way failed because Postgres or Redis is unreachable. */
  private outageInPass = false;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  /** Set at shutdown: a long pass may stop early between items. */
  protected stopping = false;

  protected abstract intervalMs(): number;
  protected abstract runOnce(): Promise<void>;

  onApplicationBootstrap(): void {
    // The timer skips a turn while a pass is still running; it never queues passes up.
    this.timer = setInterval(() => void (this.pass ? undefined : this.sweep()), this.intervalMs());
    this.timer.unref();
  }

  /** Waits for a pass in progress, then gives the lease up so that another worker takes the next pass. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.pass;
    await this.lease?.release().catch((err: unknown) => this.warn(err));
  }

  /**
   * One pass now (also what tests call), unless another worker holds the lease. A pass already under
   * way in this process is waited for first, so what is due when this is called is looked at.
   */
  async sweep(): Promise<void> {
    while (this.pass) await this.pass;
    if (this.stopping) return;
    this.pass = this.leasedPass().finally(() => (this.pass = undefined));
    await this.pass;
  }

  private async leasedPass(): Promise<void> {
    this.lease ??= new RedisLease(this.redis, `periodic-task:${this.constructor.name}`);
    const lease = this.lease;
    const started = Date.now();
    try {
      if (!(await lease.acquire(Math.max(this.intervalMs(), PASS_LEASE_MS)))) return;
    } catch (err) {
      this.warn(err);
      return;
    }
    const renew = setInterval(
      () => void lease.extend(PASS_LEASE_MS).catch(() => undefined),
      PASS_LEASE_MS / 3,
    );
    renew.unref();
    this.outageInPass = false;
    try {
      await this.runOnce();
      if (!this.outageInPass) this.faultLog().recovered(this.constructor.name);
    } catch (err) {
      this.warn(err);
    } finally {
      clearInterval(renew);
      // Kept for the rest of the interval: the other workers' timers find it taken until then.
      const rest = this.stopping ? 0 : this.intervalMs() - (Date.now() - started);
      await lease.release(rest).catch((err: unknown) => this.warn(err));
    }
  }

  /**
   * Runs one item's (or one part's) work of a pass: its failure is logged as one line naming it and the
   * error, and the pass goes on with the others. Resolves false when it failed.
   */
  protected async isolated(
    what: string,
    ids: Record<string, string>,
    work: () => Promise<unknown>,
  ): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (err) {
      if (unreachableDependency(err)) {
        // Every item fails alike during an outage: one line for the task, not one per item and pass.
        this.outageInPass = true;
        this.warn(err);
      } else {
        this.logger.warn({ msg: `${what} failed; the pass goes on`, ...ids, err: (err as Error).message });
      }
      return false;
    }
  }

  private warn(err: unknown): void {
    this.faultLog().failed(this.constructor.name, err);
  }

  private faultLog(): FaultLog {
    return (this.faults ??= new FaultLog(this.logger));
  }
}
