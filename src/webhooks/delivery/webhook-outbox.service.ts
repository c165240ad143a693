import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { BulkJobs } from '../../common/queues';
import { addInBulk } from '../../database/bulk-jobs';
import { DeliverJob, jobNeedsReplacing, JOBS, promoteById, QUEUES } from '../../common/queues';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import type { Tx } from '../../database/sql';
import { Transactions } from '../../database/transactions';
import { WebhookEventType } from '../webhook-event-types';
import { DeliveryRef, EndpointGate, Handed } from './endpoint-gate.repository';
import { EmittedEvent, NewEvent, WebhookEventsRepository } from './webhook-events.repository';

export type { EmittedEvent } from './webhook-events.repository';

/** Emits one event inside the caller's transaction; the returned deliveries are enqueued after commit. */
export type Emit = (
  agencyId: string,
  type: WebhookEventType,
  fields: Record<string, unknown>,
  onlyEndpointId?: string,
) => Promise<EmittedEvent>;

export function newEventId(): string {
  return `evt_${randomBytes(18).toString('base64url')}`;
}

function newEvent(
  agencyId: string,
  type: WebhookEventType,
  fields: Record<string, unknown>,
  onlyEndpointId?: string,
): NewEvent {
  const id = newEventId();
  const payload = JSON.stringify({
    event: type,
    event_id: id,
    timestamp: new Date().toISOString(),
    ...fields,
  });
  return { id, agencyId, type, payload, onlyEndpointId: onlyEndpointId ?? null };
}

/**
 * The one way to emit an event (transactional outbox): the event's bytes and one delivery row per
 * subscribed endpoint are written with the caller's own changes (`transaction`), or on their own when
 * there are none (`emit`), and queued only after commit. An enqueue that fails after commit is
 * repaired by the sweeper, which trusts Postgres over Redis.
 */
@Injectable()
export class WebhookOutbox {
  private readonly logger = new Logger(WebhookOutbox.name);
  /** The jobs of transactions that commit in the same turn of the event loop go to Redis in one addBulk. */
  private readonly addJobs: (jobs: BulkJobs<DeliverJob>) => Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly events: WebhookEventsRepository,
    private readonly gate: EndpointGate,
    @InjectQueue(QUEUES.webhookDelivery) private readonly queue: Queue<DeliverJob>,
  ) {
    this.addJobs = addInBulk(queue, config.timeouts.redisMs);
  }

  /**
   * Runs `work` as one unit of work (Transactions) with an `emit` bound to it; enqueues what was
   * emitted once it commits.
   */
  async transaction<T>(work: (tx: Tx, emit: Emit) => Promise<T>): Promise<T> {
    const emitted: DeliveryRef[] = [];
    const result = await this.transactions.run(async (tx) => {
      const emit: Emit = async (agencyId, type, fields, onlyEndpointId) => {
        const event = await this.events.record(tx, newEvent(agencyId, type, fields, onlyEndpointId));
        emitted.push(...event.deliveries);
        return event;
      };
      return work(tx, emit);
    });
    await this.enqueue(emitted);
    return result;
  }

  /**
   * Emits one event that is not part of a larger change: the event and its deliveries are written by
   * one statement — shared with the other events emitted in the same turn of the event loop — and
   * queued once it has committed. What `transaction((_tx, emit) => emit(…))` does, in one round trip
   * to Postgres instead of three.
   */
  async emit(
    agencyId: string,
    type: WebhookEventType,
    fields: Record<string, unknown>,
    onlyEndpointId?: string,
  ): Promise<EmittedEvent> {
    const emitted = await this.events.recordOnItsOwn(newEvent(agencyId, type, fields, onlyEndpointId));
    await this.enqueue(emitted.deliveries);
    return emitted;
  }

  /**
   * Queues deliveries that are due (jobId = delivery id, so a repeat is harmless), through the
   * endpoint gate: those over their endpoint's in-flight cap are parked in the gate, with no job, and
   * queued when a slot is handed to them (`handOut`). Never throws: the sweeper is the net.
   */
  async enqueue(deliveries: readonly DeliveryRef[]): Promise<void> {
    if (deliveries.length === 0) return;
    try {
      const { run, probes } = await this.gate.admit(deliveries);
      await this.addJobs([
        ...run.map((ref) => this.job(ref)),
        ...probes.map(({ ref, wakeInMs }) => this.probeJob(ref, wakeInMs)),
      ]);
      // A slot handed to a probe before its delayed job existed: wake the job now.
      const refs = probes.map(({ ref }) => ref);
      const handed = await this.gate.reservedAmong(refs);
      await Promise.all(
        refs.filter((_, i) => handed[i]).map((ref) => promoteById(this.queue, ref.deliveryId)),
      );
    } catch (err) {
      this.warnEnqueueFailed(err, deliveries.length);
    }
  }

  /**
   * Parked deliveries the gate handed a slot: a job is queued for each (holding the slot), or, for one
   * that waits as a delayed job of its own, that job is woken. Never throws: a delivery left without
   * its job is the sweeper's (its slot expires, then it is due with no job).
   */
  async handOut(handed: readonly Handed[]): Promise<void> {
    if (handed.length === 0) return;
    try {
      await this.addJobs(handed.filter((h) => !h.hasJob).map((h) => this.job(h.ref)));
      // A job that is not delayed any more (it woke by itself) runs on its reserved slot anyway.
      await Promise.all(handed.filter((h) => h.hasJob).map((h) => promoteById(this.queue, h.ref.deliveryId)));
    } catch (err) {
      this.warnEnqueueFailed(err, handed.length);
    }
  }

  /** The probe of a paused endpoint is to run when the pause ends, `wakeInMs` from now. */
  async scheduleProbe({ ref, hasJob }: Handed, wakeInMs: number): Promise<void> {
    try {
      if (hasJob) await (await this.queue.getJob(ref.deliveryId))?.changeDelay(wakeInMs);
      else await this.addJobs([this.probeJob(ref, wakeInMs)]);
    } catch (err) {
      this.warnEnqueueFailed(err, 1);
    }
  }

  /**
   * `enqueue` for deliveries that had settled and are due again (a recovery). Their earlier job may
   * still be in Redis, finished (kept for a while): with jobId = delivery id it would swallow the new
   * one, so it is removed first; one still waiting or delayed is left to run (a delayed one now).
   * Never throws: what is not queued here, the sweeper queues.
   */
  async enqueueAgain(deliveries: readonly DeliveryRef[]): Promise<void> {
    const fresh: DeliveryRef[] = [];
    try {
      await Promise.all(
        deliveries.map(async (ref) => {
          if (await jobNeedsReplacing(await this.queue.getJob(ref.deliveryId))) fresh.push(ref);
        }),
      );
    } catch (err) {
      this.warnEnqueueFailed(err, deliveries.length);
      return;
    }
    await this.enqueue(fresh);
  }

  /** One attempt now, by hand, outside the automatic schedule and the endpoint's cap. */
  async enqueueManual(deliveryId: string): Promise<void> {
    try {
      await this.addJobs([
        {
          name: JOBS.deliver,
          data: { deliveryId, manual: true },
          opts: this.jobOptions(`${deliveryId}:manual:${Date.now()}`, true),
        },
      ]);
    } catch (err) {
      this.warnEnqueueFailed(err, 1);
    }
  }

  /** A job that holds its endpoint's slot already (it runs without asking the gate). */
  private job({ deliveryId, endpointId }: DeliveryRef): BulkJobs<DeliverJob>[number] {
    const opts = this.jobOptions(deliveryId);
    return { name: JOBS.deliver, data: { deliveryId, endpointId, reserved: true }, opts };
  }

  /** A paused endpoint's probe: it asks the gate for the probe's slot when it wakes. */
  private probeJob({ deliveryId, endpointId }: DeliveryRef, delay: number): BulkJobs<DeliverJob>[number] {
    return {
      name: JOBS.deliver,
      data: { deliveryId, endpointId },
      opts: { ...this.jobOptions(deliveryId), delay },
    };
  }

  private warnEnqueueFailed(err: unknown, count: number): void {
    this.logger.warn({ msg: 'enqueue failed; the sweeper will retry', err: (err as Error).message, count });
  }

  jobOptions(jobId: string, manual = false): JobsOptions {
    return {
      jobId,
      attempts: manual ? 1 : this.config.webhooks.retryDelaysMs.length + 1,
      backoff: { type: 'custom' },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600, count: 5000 },
    };
  }
}
