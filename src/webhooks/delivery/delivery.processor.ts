import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bullmq';
import { DeliverJob, QUEUES, WORKER_OPTIONS } from '../../common/queues';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { DeliveryAttemptService, RetryLater } from './delivery-attempt.service';

/** Used only when an attempt failed in an unexpected way (e.g. Postgres unreachable). */
const UNEXPECTED_FAILURE_RETRY_MS = 5_000;

/** The spacing of retries is WEBHOOK_RETRY_DELAYS, carried by the error the attempt throws. */
export function deliveryBackoff(_attemptsMade: number, _type?: string, err?: Error): number {
  return err instanceof RetryLater ? err.retryDelayMs : UNEXPECTED_FAILURE_RETRY_MS;
}

@Processor(QUEUES.webhookDelivery, { ...WORKER_OPTIONS, settings: { backoffStrategy: deliveryBackoff } })
export class DeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(DeliveryProcessor.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly attempts: DeliveryAttemptService,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.webhooks.concurrency;
  }

  async process(job: Job<DeliverJob>): Promise<void> {
    await this.attempts.attempt(job.data.deliveryId, job.data.manual ?? false);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<DeliverJob> | undefined, err: Error): void {
    const expected = err instanceof RetryLater || err.name === 'UnrecoverableError';
    const entry = { deliveryId: job?.data.deliveryId, attemptsMade: job?.attemptsMade, reason: err.message };
    if (expected) this.logger.log({ msg: 'delivery attempt failed', ...entry });
    else this.logger.error({ msg: 'delivery job errored', ...entry });
  }
}
