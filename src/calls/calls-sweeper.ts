import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { AgencySecrets } from '../agencies/agency-secrets';
import { Clock } from '../common/clock';
import { PeriodicTask } from '../common/periodic-task';
import { CallEventJob, DialJob, jobNeedsReplacing, QUEUES } from '../common/queues';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { Call } from './call.entity';
import { CallsService } from './calls.service';
import { DialService } from './dial/dial.service';
import { enqueueCallEvent } from './ingest/ingest.service';

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
    @InjectDataSource() private readonly dataSource: DataSource,
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

  protected async runOnce(): Promise<void> {
    await this.dueCalls();
    await this.stuckDials();
    await this.unprocessedEvents();
  }

  private async dueCalls(): Promise<void> {
    const now = this.clock.now();
    const due: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM calls WHERE status IN ('queued', 'scheduled')
         AND coalesce(scheduled_for, created_at) <= $1 ORDER BY coalesce(scheduled_for, created_at) LIMIT $2`,
      [new Date(now.getTime() - GRACE_MS), BATCH],
    );
    for (const { id } of due) {
      const job = await this.dialQueue.getJob(id);
      if (await jobNeedsReplacing(job)) await this.calls.enqueueDial(id, null);
    }
  }

  private async stuckDials(): Promise<void> {
    const before = new Date(this.clock.now().getTime() - this.config.ultravox.timeoutMs - 30_000);
    const stuck = await this.dataSource
      .getRepository(Call)
      .createQueryBuilder('call')
      .where(`call.status = 'dialing' AND call.ultravox_call_id IS NULL AND call.dialed_at < :before`, {
        before,
      })
      .limit(BATCH)
      .getMany();
    for (const call of stuck) {
      const apiKey = await this.secrets.ultravoxApiKey(call.agencyId);
      if (!apiKey) continue;
      if ((await this.dialer.reconcile(call, apiKey)) === 'not_placed') {
        await this.dataSource.query(
          `UPDATE calls SET status = 'queued' WHERE id = $1 AND status = 'dialing' AND ultravox_call_id IS NULL`,
          [call.id],
        );
        await this.calls.enqueueDial(call.id, null);
      }
    }
  }

  private async unprocessedEvents(): Promise<void> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM call_events WHERE source = 'ultravox' AND processed_at IS NULL
         AND created_at < $1 AND created_at > now() - interval '1 day' ORDER BY created_at LIMIT $2`,
      [new Date(Date.now() - 10_000), BATCH],
    );
    for (const { id } of rows) {
      const eventId = String(id);
      const job = await this.eventQueue.getJob(`event-${eventId}`);
      if (await jobNeedsReplacing(job, false)) await enqueueCallEvent(this.eventQueue, eventId);
    }
  }
}
