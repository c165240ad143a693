import type { JobsOptions } from 'bullmq';
import type { CallEventJob, DialJob, SummaryCheckJob } from '../common/queues';
import { JOBS } from '../common/queues';

/** A job as `queue.add` and `queue.addBulk` take it. */
export interface JobSpec<Data> {
  name: string;
  data: Data;
  /** jobId is the domain id: adding the job again while it exists is harmless. */
  opts: JobsOptions & { jobId: string };
}

/** jobId = call id: enqueueing a call's dial twice is harmless. */
export function dialJob(callId: string, delay: number): JobSpec<DialJob> {
  return {
    name: JOBS.dial,
    data: { callId },
    opts: { jobId: callId, delay, removeOnComplete: 1000, removeOnFail: 5000 },
  };
}

/** jobId derived from the stored event, so the sweeper and ingest never queue one event twice. */
export function callEventJob(eventId: string): JobSpec<CallEventJob> {
  return {
    name: JOBS.processCallEvent,
    data: { eventId },
    opts: {
      jobId: `event-${eventId}`,
      attempts: 8,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
    },
  };
}

/** One re-read of a call waiting for its summary; jobId per check, so a repeated add is harmless. */
export function summaryCheckJob(data: SummaryCheckJob, delay: number): JobSpec<SummaryCheckJob> {
  return {
    name: JOBS.checkSummary,
    data,
    opts: {
      jobId: `summary-${data.callId}-${data.check}`,
      delay,
      attempts: 8,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
    },
  };
}
