import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { CallEventJob, JOBS, QUEUES, SummaryCheckJob, WORKER_OPTIONS } from '../../common/queues';
import { CallLifecycleService } from './call-lifecycle.service';

@Processor(QUEUES.callEvents, { ...WORKER_OPTIONS, concurrency: 20 })
export class CallEventsProcessor extends WorkerHost {
  private readonly logger = new Logger(CallEventsProcessor.name);

  constructor(private readonly lifecycle: CallLifecycleService) {
    super();
  }

  /** A stored Ultravox event, or a re-read of a call waiting for its summary (short either way). */
  async process(job: Job<CallEventJob | SummaryCheckJob>): Promise<void> {
    if (job.name === JOBS.checkSummary) return this.lifecycle.checkSummary(job.data as SummaryCheckJob);
    await this.lifecycle.process((job.data as CallEventJob).eventId);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<CallEventJob | SummaryCheckJob> | undefined, err: Error): void {
    this.logger.warn({
      msg: 'call event processing failed; will retry',
      ...job?.data,
      reason: err.message,
    });
  }
}
