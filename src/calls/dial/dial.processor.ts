import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { DialJob, QUEUES, WORKER_OPTIONS } from '../../common/queues';
import { DialService } from './dial.service';

@Processor(QUEUES.callDial, { ...WORKER_OPTIONS, concurrency: 20 })
export class DialProcessor extends WorkerHost {
  private readonly logger = new Logger(DialProcessor.name);

  constructor(private readonly dialer: DialService) {
    super();
  }

  /** A call that must wait (window, cap, Ultravox 429/503) goes back to the queue's delayed set. */
  async process(job: Job<DialJob>, token?: string): Promise<void> {
    const { retryInMs } = await this.dialer.dial(job.data.callId);
    if (retryInMs === undefined) return;
    await job.moveToDelayed(Date.now() + retryInMs, token);
    throw new DelayedError();
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<DialJob> | undefined, err: Error): void {
    this.logger.error({ msg: 'dial job errored', callId: job?.data.callId, reason: err.message });
  }
}
