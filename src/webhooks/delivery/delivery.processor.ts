import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, Queue } from 'bullmq';
import { DeliverJob, QUEUES, WORKER_OPTIONS } from '../../common/queues';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { DeliveryAttemptService, RetryLater } from './delivery-attempt.service';
import { DeliveryRef, EndpointGate, PARKED_WAKE_MS } from './endpoint-gate';

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
    private readonly gate: EndpointGate,
    @InjectQueue(QUEUES.webhookDelivery) private readonly queue: Queue<DeliverJob>,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.webhooks.concurrency;
  }

  /**
   * One attempt inside its endpoint's in-flight cap: without a slot the job is parked (delayed, no
   * attempt used) until a slot is handed to it; after the attempt the slot goes to the next parked
   * delivery of the endpoint. By-hand retries (and jobs queued before the gate existed) go straight on.
   */
  async process(job: Job<DeliverJob>, token?: string): Promise<void> {
    const { deliveryId, endpointId, manual } = job.data;
    if (manual || !endpointId) return this.attempts.attempt(deliveryId, manual ?? false);
    const ref = { deliveryId, endpointId };
    if (!(await this.gate.acquire(ref))) {
      await job.moveToDelayed(Date.now() + PARKED_WAKE_MS, token);
      throw new DelayedError();
    }
    try {
      await this.attempts.attempt(deliveryId, false);
    } finally {
      await this.handOver(ref);
    }
  }

  /** Frees the slot and wakes the parked deliveries it now belongs to; a failure is left to their wake-up. */
  private async handOver(ref: DeliveryRef): Promise<void> {
    try {
      const next = await this.gate.release(ref);
      // A job that is not delayed any more (it woke by itself) runs on its reserved slot anyway.
      await Promise.all(
        next.map(async (id) => (await this.queue.getJob(id))?.promote().catch(() => undefined)),
      );
    } catch (err) {
      this.logger.warn({ msg: 'endpoint slot hand-over failed', ...ref, err: (err as Error).message });
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<DeliverJob> | undefined, err: Error): void {
    const expected = err instanceof RetryLater || err.name === 'UnrecoverableError';
    const entry = { deliveryId: job?.data.deliveryId, attemptsMade: job?.attemptsMade, reason: err.message };
    if (expected) this.logger.log({ msg: 'delivery attempt failed', ...entry });
    else this.logger.error({ msg: 'delivery job errored', ...entry });
  }
}
