import { Inject, Injectable, Logger } from '@nestjs/common';
import { PeriodicTask } from '../common/periodic-task';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { RetainedKind, RetentionRepository } from './retention.repository';

const DAY_MS = 86_400_000;
/** Idempotency keys answer retries for 24 h (CONTRACT §5). */
const IDEMPOTENCY_KEY_AGE_MS = DAY_MS;
/** Rows per statement: each one's locks and WAL stay small. */
const BATCH_SIZE = 5_000;
/** Statements per kind per pass: a pass stays bounded; a backlog is worked off over several passes. */
const BATCHES_PER_PASS = 100;

/**
 * Deletes what is past its use (CONTRACT §2, RETENTION_DAYS): idempotency keys after 24 h; Ultravox
 * webhook bodies already processed, outbox events with no delivery pending (with their deliveries) and
 * the attempts of settled deliveries after RETENTION_DAYS. Once across the workers, in batches.
 */
@Injectable()
export class RetentionTask extends PeriodicTask {
  protected readonly logger = new Logger(RetentionTask.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly retention: RetentionRepository,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.config.retention.intervalMs;
  }

  protected async runOnce(): Promise<void> {
    const retainedMs = this.config.retention.days * DAY_MS;
    await this.purge('idempotencyKeys', IDEMPOTENCY_KEY_AGE_MS);
    await this.purge('ultravoxPayloads', retainedMs);
    await this.purge('deliveryAttempts', retainedMs);
    await this.purge('outboxEvents', retainedMs);
  }

  /** One kind, batch after batch until one comes back short; a failure is logged and the next kind goes on. */
  private async purge(kind: RetainedKind, ageMs: number): Promise<void> {
    let purged = 0;
    try {
      for (let batch = 0; batch < BATCHES_PER_PASS && !this.stopping; batch++) {
        const count = await this.retention.purgeBatch(kind, ageMs, BATCH_SIZE);
        purged += count;
        if (count < BATCH_SIZE) break;
      }
    } catch (err) {
      this.logger.warn({ msg: 'retention failed; will try again', kind, err: (err as Error).message });
    }
    if (purged > 0) this.logger.log({ msg: 'retention purged old rows', kind, count: purged });
  }
}
