import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { DeliverJob, QUEUES, WORKER_OPTIONS } from '../../common/queues';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { WebhookEndpointsRepository } from '../endpoints/webhook-endpoints.repository';
import { attemptResultOf, DeliveryAttemptService, RetryLater } from './delivery-attempt.service';
import type { DeliveryResult } from './delivery-http.client';
import {
  AttemptVerdict,
  DeliveryRef,
  EndpointGate,
  parkedWakeMs,
  verdictOf,
} from './endpoint-gate.repository';
import { WebhookOutbox } from './webhook-outbox.service';

/** How long a worker trusts what it read of an endpoint's throttle (a PATCH applies within this). */
const RATE_LIMIT_TTL_MS = 5_000;

/** Used only when an attempt failed in an unexpected way (e.g. Postgres unreachable). */
const UNEXPECTED_FAILURE_RETRY_MS = 5_000;

/** The spacing of retries is WEBHOOK_RETRY_DELAYS, carried by the error the attempt throws. */
export function deliveryBackoff(_attemptsMade: number, _type?: string, err?: Error): number {
  return err instanceof RetryLater ? err.retryDelayMs : UNEXPECTED_FAILURE_RETRY_MS;
}

@Processor(QUEUES.webhookDelivery, { ...WORKER_OPTIONS, settings: { backoffStrategy: deliveryBackoff } })
export class DeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(DeliveryProcessor.name);
  private readonly rateLimits = new Map<string, { rate: number | null; until: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly attempts: DeliveryAttemptService,
    private readonly gate: EndpointGate,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly outbox: WebhookOutbox,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.webhooks.concurrency;
  }

  /**
   * One attempt inside its endpoint's in-flight cap: without a slot (or while the endpoint is paused)
   * the job — a retry, or a probe woken early — is parked (delayed, no attempt used) until a slot is
   * handed to it; after the attempt its
   * outcome moves the endpoint's breaker and the slot goes to the next parked delivery. By-hand retries
   * (and jobs queued before the gate existed) go straight on.
   */
  async process(job: Job<DeliverJob>, token?: string): Promise<void> {
    const { deliveryId, endpointId, manual } = job.data;
    if (manual || !endpointId) {
      await this.attempts.attempt(deliveryId, manual ?? false);
      return;
    }
    const ref = { deliveryId, endpointId };
    const rate = await this.rateLimitOf(endpointId);
    // Queued holding a slot (admitted, or handed one when it was parked) and not throttled: the first
    // attempt goes straight on (one Redis round trip less per delivery); retries, probes and throttled
    // endpoints ask the gate.
    const reserved = job.data.reserved === true && job.attemptsMade === 0 && rate === null;
    const slot = reserved ? { run: true as const } : await this.gate.acquire(ref, rate);
    if (!slot.run) {
      await job.moveToDelayed(Date.now() + (slot.waitMs ?? parkedWakeMs()), token);
      // A release may have handed this delivery a slot between the parking and the delay.
      if (slot.waitMs === null && (await this.gate.reservedAmong([ref]))[0]) {
        await job.promote().catch(() => undefined);
      }
      throw new DelayedError();
    }
    let result: DeliveryResult | null = null;
    try {
      result = await this.attempts.attempt(deliveryId, false);
    } catch (err) {
      result = attemptResultOf(err);
      throw err;
    } finally {
      await this.handOver(ref, verdictOf(result));
    }
  }

  /** The endpoint's throttle, read from Postgres at most every RATE_LIMIT_TTL_MS per process. */
  private async rateLimitOf(endpointId: string): Promise<number | null> {
    const cached = this.rateLimits.get(endpointId);
    if (cached && cached.until > Date.now()) return cached.rate;
    const rate = await this.endpoints.rateLimitOf(endpointId);
    this.rateLimits.set(endpointId, { rate, until: Date.now() + RATE_LIMIT_TTL_MS });
    return rate;
  }

  /**
   * Frees the slot, records a change of the endpoint's health, and queues (or wakes) the parked
   * deliveries the slot now belongs to (or, when the endpoint was just paused, schedules its probe for
   * the pause's end). A failure here is left to the sweeper, which kicks endpoints whose parked
   * deliveries nobody hands slots to.
   */
  private async handOver(ref: DeliveryRef, verdict: AttemptVerdict): Promise<void> {
    try {
      const release = await this.gate.release(ref, verdict);
      if (release.change === 'paused') {
        await this.endpoints.markFailing(ref.endpointId);
        this.logger.warn({ msg: 'endpoint paused: unreachable', ...ref, pausedUntil: release.pausedUntil });
      } else if (release.change === 'recovered') {
        await this.endpoints.markHealthy(ref.endpointId);
        this.logger.log({ msg: 'endpoint answered its probe: resumed', ...ref });
      }
      await this.outbox.handOut(release.next);
      if (release.probe && release.pausedUntil) {
        await this.outbox.scheduleProbe(
          release.probe,
          Math.max(0, release.pausedUntil.getTime() - Date.now()),
        );
      }
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
