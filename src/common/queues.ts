import { Job, type Queue } from 'bullmq';

/** Every queue and job name, in one place (STYLE "Jobs"). Jobs carry ids, never secrets or payloads. */
export const QUEUES = {
  webhookDelivery: 'webhook-delivery',
  callDial: 'call-dial',
  callEvents: 'call-events',
} as const;

export const JOBS = {
  deliver: 'deliver',
  dial: 'dial',
  processCallEvent: 'process-call-event',
  checkSummary: 'check-summary',
} as const;

export interface DeliverJob {
  deliveryId: string;
  /** Its endpoint, whose in-flight cap the attempt respects (absent on a by-hand retry). */
  endpointId?: string;
  /** Admitted with a slot of its endpoint reserved: its first attempt need not ask the gate again. */
  reserved?: boolean;
  /** A by-hand retry: one attempt, outside the automatic schedule. */
  manual?: boolean;
}

export interface DialJob {
  callId: string;
}

export interface CallEventJob {
  /** call_events.id of the stored Ultravox webhook. */
  eventId: string;
}

/** A completed call whose summary Ultravox had not written yet: read it again (on the call-events queue). */
export interface SummaryCheckJob {
  callId: string;
  /** How the end was learnt ('webhook' | 'reconciliation'), for the timeline. */
  source: string;
  /** Epoch ms after which call.completed goes out without a summary. */
  deadline: number;
  /** 1 for the first re-read. */
  check: number;
}

/**
 * For a sweeper that knows (from Postgres) that work is due: true when it needs a new job. A job that
 * finished or failed in Redis while Postgres still says due is removed; a delayed one is promoted
 * (unless it is waiting out a retry backoff that should be kept: `promoteDelayed` false).
 */
export async function jobNeedsReplacing(job: Job | undefined, promoteDelayed = true): Promise<boolean> {
  if (!job) return true;
  const state = await job.getState();
  if (state === 'delayed') {
    if (!promoteDelayed) return false;
    await job.promote().catch(() => undefined);
    return false;
  }
  if (state === 'completed' || state === 'failed') {
    await job.remove().catch(() => undefined);
    return true;
  }
  return state === 'unknown';
}

/**
 * Options of every worker. A worker killed mid-job leaves its job "active" until the lock expires and a
 * stall check hands it to another worker: short locks (renewed while a job runs) and frequent checks
 * make that seconds rather than a minute.
 */
export const WORKER_OPTIONS = { lockDuration: 15_000, stalledInterval: 5_000, maxStalledCount: 3 } as const;

/** What `queue.addBulk` takes: jobs with their names, data and options. */
export type BulkJobs<Data> = Parameters<Queue<Data>['addBulk']>[0];

/**
 * Moves a delayed job to the wait list by its id alone (BullMQ's promote needs only the id: loading
 * the whole job first, as `queue.getJob` does, cost a round trip and a parse per hand-over). False
 * when it was not delayed (gone, or already woken).
 */
export async function promoteById(queue: Queue, jobId: string): Promise<boolean> {
  try {
    await new Job(queue, '', {}, {}, jobId).promote();
    return true;
  } catch {
    return false;
  }
}
