import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AgencySecrets } from '../agencies/agency-secrets';
import { Clock } from '../common/clock';
import { PeriodicTask } from '../common/periodic-task';
import { CallEventJob, DialJob, jobNeedsReplacing, QUEUES } from '../common/queues';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { callEventJob } from './call-jobs';
import { CallsRepository } from './calls.repository';
import { CallsService } from './calls.service';
import { DialService } from './dial/dial.service';
import { UltravoxEventsRepository } from './ingest/ultravox-events.repository';
import { CallTransitions } from './lifecycle/call-transitions.service';

const GRACE_MS = 2_000;
const BATCH = 200;

/**
 * Postgres is the truth about calls; this keeps the queues in step with it (after a Redis flush, a
 * worker crash, or when the clock reaches a scheduled call): due calls get a dial job, calls stuck in
 * `dialing` without an Ultravox id are looked up before anything is redialed, and stored Ultravox
 * events that were never processed get a job.
 */
@Injectable()
export class CallsSweeper extends PeriodicTask {
  protected readonly logger = new Logger(CallsSweeper.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly callRows: CallsRepository,
    private readonly ultravoxEvents: UltravoxEventsRepository,
    private readonly transitions: CallTransitions,
    @InjectQueue(QUEUES.callDial) private readonly dialQueue: Queue<DialJob>,
    @InjectQueue(QUEUES.callEvents) private readonly eventQueue: Queue<CallEventJob>,
    private readonly calls: CallsService,
    private readonly dialer: DialService,
    private readonly secrets: AgencySecrets,
    private readonly clock: Clock,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.config.calls.sweepIntervalMs;
  }

  /** Each part, and each call or event in it, on its own: one that fails is logged and skipped. */
  protected async runOnce(): Promise<void> {
    await this.isolated('re-adding due dial jobs', {}, () => this.dueCalls());
    await this.isolated('looking up stuck dials', {}, () => this.stuckDials());
    await this.isolated('re-adding call event jobs', {}, () => this.unprocessedEvents());
  }

  private async dueCalls(): Promise<void> {
    const now = this.clock.now();
    const due = await this.callRows.dueForDial(new Date(now.getTime() - GRACE_MS), BATCH);
    for (const id of due) {
      if (this.stopping) return;
      await this.isolated('re-adding a dial job', { callId: id }, async () => {
        const job = await this.dialQueue.getJob(id);
        if (await jobNeedsReplacing(job)) await this.calls.enqueueDial(id, null);
      });
    }
  }

  private async stuckDials(): Promise<void> {
    const before = new Date(this.clock.now().getTime() - this.config.ultravox.timeoutMs - 30_000);
    const stuck = await this.callRows.stuckDialing(before, BATCH);
    for (const call of stuck) {
      if (this.stopping) return;
      await this.isolated(
        'looking up a stuck dial',
        { callId: call.id, agencyId: call.agencyId },
        async () => {
          const apiKey = await this.secrets.ultravoxApiKey(call.agencyId);
          if (!apiKey) return;
          if ((await this.dialer.reconcile(call, apiKey)) === 'not_placed') {
            if (await this.transitions.requeueLostDial(call.id)) await this.calls.enqueueDial(call.id, null);
          }
        },
      );
    }
  }

  private async unprocessedEvents(): Promise<void> {
    const ids = await this.ultravoxEvents.unprocessed(new Date(Date.now() - 10_000), BATCH);
    for (const eventId of ids) {
      if (this.stopping) return;
      await this.isolated('re-adding a call event job', { eventId }, async () => {
        const job = callEventJob(eventId);
        if (await jobNeedsReplacing(await this.eventQueue.getJob(job.opts.jobId), false)) {
          await this.eventQueue.add(job.name, job.data, job.opts);
        }
      });
    }
  }
}
