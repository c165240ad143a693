import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { PeriodicTask } from '../../common/periodic-task';
import { DeliverJob, jobNeedsReplacing, QUEUES } from '../../common/queues';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { DeliveriesRepository, DuePosition, FROM_THE_FIRST_DUE } from './deliveries.repository';
import { DeliveryRef, EndpointGate } from './endpoint-gate.repository';
import { WebhookEndpointsRepository } from '../endpoints/webhook-endpoints.repository';
import { WebhookOutbox } from './webhook-outbox.service';

/** "5d", "36h", "90m", "45s", "500ms": the largest unit that divides the duration. */
function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const [unit, size] = units.find(([, size]) => ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}

/** A due delivery younger than this is left alone: its job is most likely being enqueued or run. */
const GRACE_MS = 2_000;
const BATCH = 500;

/**
 * Postgres is the truth, Redis the fast path: every worker periodically re-enqueues deliveries that are
 * due but have no live job (Redis flushed or restarted, a worker killed mid-job, an enqueue that
 * failed after commit). Safe to run in every worker at once: jobId = delivery id dedupes.
 */
@Injectable()
export class DeliverySweeper extends PeriodicTask {
  protected readonly logger = new Logger(DeliverySweeper.name);
  /** Where the next pass goes on: each pass looks at the next page of due deliveries. */
  private from: DuePosition = FROM_THE_FIRST_DUE;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveriesRepository,
    @InjectQueue(QUEUES.webhookDelivery) private readonly queue: Queue<DeliverJob>,
    private readonly outbox: WebhookOutbox,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly gate: EndpointGate,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.config.webhooks.sweepIntervalMs;
  }

  protected async runOnce(): Promise<void> {
    await this.isolated('disabling long-failing endpoints', {}, () => this.disableLongFailing());
    const { due, next } = await this.deliveries.dueFor(GRACE_MS, BATCH, this.from);
    this.from = next ?? FROM_THE_FIRST_DUE;
    const jobless: DeliveryRef[] = [];
    for (const ref of due) {
      if (this.stopping) return;
      await this.isolated('looking up a delivery job', { ...ref }, async () => {
        // A delayed job is a retry waiting out its backoff, or parked: it wakes by itself.
        if (await jobNeedsReplacing(await this.queue.getJob(ref.deliveryId), false)) jobless.push(ref);
      });
    }
    if (jobless.length === 0) return;
    // Parked in the gate, they need no job until they are handed a slot. Nudge their endpoints, should
    // nobody be handing slots out any more (the worker that held them was killed).
    const parked = await this.gate.parkedAmong(jobless);
    const backlogged = new Set(jobless.filter((_, i) => parked[i]).map((ref) => ref.endpointId));
    await this.outbox.handOut(await this.gate.kick([...backlogged]));
    const lost = jobless.filter((_, i) => !parked[i]);
    if (lost.length === 0) return;
    await this.outbox.enqueue(lost);
    this.logger.warn({ msg: 're-enqueued due deliveries that had no job', count: lost.length });
  }

  /**
   * An endpoint failing for WEBHOOK_DISABLE_AFTER is disabled, with the reason; its pending
   * deliveries then fail as they come up (they stay in the log, and can be recovered).
   */
  private async disableLongFailing(): Promise<void> {
    const afterMs = this.config.webhooks.disableAfterMs;
    const disabled = await this.endpoints.disableFailingFor(afterMs, formatDuration(afterMs));
    if (disabled.length > 0)
      this.logger.warn({ msg: 'disabled long-failing endpoints', endpointIds: disabled });
  }
}
