import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { CallEventJob, QUEUES, WORKER_OPTIONS } from '../../common/queues';
import { CallLifecycleService } from './call-lifecycle.service';

@Processor(QUEUES.callEvents, { ...WORKER_OPTIONS, concurrency: 20 })
export class CallEventsProcessor extends WorkerHost {
  private readonly logger = new Logger(CallEventsProcessor.name);

  constructor(private readonly lifecycle: CallLifecycleService) {
    super();
  }

  async process(job: Job<CallEventJob>): Promise<void> {
    await this.lifecycle.process(job.data.eventId);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<CallEventJob> | undefined, err: Error): void {
    this.logger.warn({
      msg: 'call event processing failed; will retry',
      eventId: job?.data.eventId,
      reason: err.message,
    });
  }
}
