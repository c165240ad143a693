import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/**
 * Runs `runOnce` every `intervalMs` in each worker process, never two runs at once in one process,
 * and never letting a failure stop the next run. Subclasses must be safe to run in every worker at
 * the same time (they are: jobs are keyed by domain ids).
 */
export abstract class PeriodicTask implements OnApplicationBootstrap, OnModuleDestroy {
  protected abstract readonly logger: Logger;
  private timer?: NodeJS.Timeout;
  private running = false;

  protected abstract intervalMs(): number;
  protected abstract runOnce(): Promise<void>;

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs());
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass now (also what tests call); a pass already under way makes this a no-op. */
  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.runOnce();
    } catch (err) {
      this.logger.warn({
        msg: `${this.constructor.name} failed; will try again`,
        err: (err as Error).message,
      });
    } finally {
      this.running = false;
    }
  }
}
