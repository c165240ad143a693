import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { DeliverJob, JOBS, QUEUES } from '../../common/queues';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { WebhookOutbox } from './webhook-outbox.service';

/** A due delivery younger than this is left alone: its job is most likely being enqueued or run. */
const GRACE_MS = 2_000;
const BATCH = 500;

/**
 * Postgres is the truth, Redis the fast path: every worker periodically re-enqueues deliveries that are
 * due but have no live job (Redis flushed or restarted, a worker killed mid-job, an enqueue that
 * failed after commit). Safe to run in every worker at once: jobId = delivery id dedupes.
 */
@Injectable()
export class DeliverySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeliverySweeper.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QUEUES.webhookDelivery) private readonly queue: Queue<DeliverJob>,
    private readonly outbox: WebhookOutbox,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.webhooks.sweepIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Re-enqueues due deliveries without a live job; returns how many it re-enqueued. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const due: { id: string }[] = await this.dataSource.query(
        `SELECT id FROM webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now() - $1 * interval '1 millisecond'
          ORDER BY next_attempt_at LIMIT $2`,
        [GRACE_MS, BATCH],
      );
      const lost: string[] = [];
      for (const { id } of due) {
        const job = await this.queue.getJob(id);
        const state = job ? await job.getState() : 'missing';
        if (state === 'completed' || state === 'failed') await job!.remove();
        if (state === 'missing' || state === 'completed' || state === 'failed' || state === 'unknown')
          lost.push(id);
      }
      if (lost.length > 0) {
        await this.queue.addBulk(
          lost.map((deliveryId) => ({
            name: JOBS.deliver,
            data: { deliveryId },
            opts: this.outbox.jobOptions(deliveryId),
          })),
        );
        this.logger.warn({ msg: 're-enqueued due deliveries that had no job', count: lost.length });
      }
      return lost.length;
    } catch (err) {
      this.logger.warn({ msg: 'delivery sweep failed; will try again', err: (err as Error).message });
      return 0;
    } finally {
      this.running = false;
    }
  }
}
