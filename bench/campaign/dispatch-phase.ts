/**
 * Dispatch phase: a campaign of N contacts (every call answered by the simulator) started through the
 * API, dialed by a worker process, measured from `start` to `finished`.
 *
 * Each call's life is read back afterwards from where it was recorded, on one clock (same machine):
 *
 *   created   calls.created_at — the dispatcher's tick picked the contact and created the call
 *  (enqueued  the dial job's timestamp in BullMQ — after the tick committed
 *   picked    the job's processedOn — one of the worker's dial slots took it; only for the jobs
 *             BullMQ still keeps, removeOnComplete: 1000)
 *   claimed   call_events 'dialing' — the claim transaction began (a pool connection was free)
 *   locked    calls.dialed_at — past the per-agency advisory lock and the checks, marking it dialing
 *   simStart  the simulator created the call (its `created`)               ← dial request arrived
 *   simEnd    the simulator ended it (its `ended`, then sends call.ended)
 *   ingested  call_events 'call.ended' (source ultravox) — the API stored the webhook
 *   terminal  call_events 'call.completed' — the worker processed it (transcript fetched, call completed)
 *   settled   campaign_contacts.updated_at — a tick settled the contact, freeing its concurrency slot
 *
 * A contact holds one of the campaign's max_concurrency slots from `created` to `settled`; the simulator
 * holds the call live from `simStart` to `simEnd`. Dispatch overhead per call = slot time − live time:
 * everything Switchboard adds around the call itself (see docs/benchmarks.md#campaign).
 */
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { QUEUES } from '../../src/common/queues';
import type { BenchWorld } from '../common/world';
import { countersSince, postgresCounters } from '../common/world';
import { CpuMeter, percentile } from '../common/metrics';
import { createCampaign, startCampaign, uploadCsv } from './api';
import { contactList } from './csv';
import { answeredCallMs, simCalls } from './simulator';

export interface Distribution {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface DispatchResult {
  calls: number;
  maxConcurrency: number;
  tickIntervalMs: number;
  simTimeScale: number;
  /** The simulator's own length of an answered call (join, turns, end). */
  simCallMs: number;
  campaignStatus: string;
  stats: Record<string, number>;
  /** campaigns.started_at → finished_at. */
  wallSeconds: number;
  callsPerSec: number;
  /** ceil(calls / max_concurrency) × simCallMs: the wall time if Switchboard added nothing. */
  idealWallSeconds: number;
  /** ideal / actual. */
  efficiency: number;
  /** (wall − ideal) / calls, in ms: the amortised figure. */
  amortisedOverheadMs: number;
  /** Start request sent → first call created on the simulator. */
  firstDialMs: number;
  /** Σ slot time / wall and Σ live time / wall: slots in use and calls live on average. */
  meanSlotsInUse: number;
  meanLiveCalls: number;
  /** Highest live-call count the simulator saw for the account, and highest in_progress contacts polled. */
  simMaxLive: number;
  polledMaxInProgress: number;
  /** Per call, ms: each segment of its life (module comment), and the overhead. */
  segmentsMs: Record<Segment, Distribution>;
  /**
   * Gaps between consecutive claims (calls.dialed_at, sorted), ms. Claims of one agency take turns under
   * its advisory lock; while dials queue up, the gap is how long one claim holds that lock, and
   * 1000 / p50 the most calls per second one agency can be dialed at.
   */
  claimGapMs: Distribution;
  /** Calls whose dial job BullMQ still kept (removeOnComplete: 1000): the enqueue/pickup/pool figures. */
  jobsTraced: number;
  /** Calls created on the simulator per whole second since start. */
  dialsPerSecond: number[];
  cpuSeconds: Record<string, number>;
  cpuMsPerCall: Record<string, number>;
  postgresPerCall: Record<string, number>;
  /** Calls whose timeline could not be read completely (should be 0). */
  incomplete: number;
  /** Set when the campaign stopped making progress (or ran out of time): what was stuck, and where. */
  stalled: Stall | null;
}

export interface Stall {
  /** Seconds after start when the stall was declared; no progress for `quietSeconds` before it. */
  afterSeconds: number;
  quietSeconds: number;
  calls: Record<string, number>;
  contacts: Record<string, number>;
  /** The worker's and API's Postgres sessions by state and wait event: a pool deadlock shows here. */
  sessions: { state: string; wait: string; n: number; oldestXactSeconds: number; query: string }[];
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Completed dial jobs BullMQ still keeps: when each was added and when a worker slot took it. */
async function dialJobs(world: BenchWorld): Promise<Map<string, { enqueued: number; picked: number }>> {
  const queue = new Queue(QUEUES.callDial, {
    connection: { url: world.env.REDIS_URL },
    prefix: `${world.redisPrefix}:bull`,
  });
  try {
    const jobs = await queue.getJobs(['completed'], 0, -1);
    return new Map(
      jobs
        .filter((job) => job?.processedOn)
        .map((job) => [
          (job.data as { callId: string }).callId,
          { enqueued: job.timestamp, picked: job.processedOn ?? NaN },
        ]),
    );
  } finally {
    await queue.close();
  }
}

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
    mean: round(sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length)),
  };
}

/** Until a worker process listens on the dial and call-event queues. */
export async function waitForWorker(world: BenchWorld, timeoutMs = 60_000): Promise<void> {
  const queues = [QUEUES.callDial, QUEUES.callEvents].map(
    (name) =>
      new Queue(name, { connection: { url: world.env.REDIS_URL }, prefix: `${world.redisPrefix}:bull` }),
  );
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = await Promise.all(queues.map((q) => q.getWorkersCount()));
      if (counts.every((n) => n > 0)) return;
      if (Date.now() > deadline) throw new Error(`no worker on ${QUEUES.callDial} within ${timeoutMs} ms`);
      await sleep(100);
    }
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
}

export const SEGMENTS = [
  'enqueue',
  'pickup',
  'pool',
  'queue',
  'lock',
  'dial',
  'live',
  'webhook',
  'process',
  'settle',
  'slot',
  'overhead',
] as const;
export type Segment = (typeof SEGMENTS)[number];

interface Timeline {
  id: string;
  status: string;
  contact_status: string;
  created: number;
  claimed: number | null;
  locked: number | null;
  ingested: number | null;
  terminal: number | null;
  settled: number;
}

const TIMELINE_SQL = `
  SELECT k.id, k.status, c.status AS contact_status,
         extract(epoch FROM k.created_at)::float8 * 1000 AS created,
         (SELECT extract(epoch FROM min(e.created_at))::float8 * 1000 FROM call_events e
           WHERE e.call_id = k.id AND e.source = 'switchboard' AND e.event = 'dialing') AS claimed,
         extract(epoch FROM k.dialed_at)::float8 * 1000 AS locked,
         (SELECT extract(epoch FROM min(e.created_at))::float8 * 1000 FROM call_events e
           WHERE e.call_id = k.id AND e.source = 'ultravox' AND e.event = 'call.ended') AS ingested,
         (SELECT extract(epoch FROM min(e.created_at))::float8 * 1000 FROM call_events e
           WHERE e.call_id = k.id AND e.source = 'switchboard' AND e.event IN ('call.completed', 'call.failed')) AS terminal,
         extract(epoch FROM c.updated_at)::float8 * 1000 AS settled
    FROM calls k JOIN campaign_contacts c ON c.last_call_id = k.id
   WHERE k.campaign_id = $1`;

/**
 * Polled every 200 ms, so it must cost Postgres next to nothing: the campaign's status, its contacts in
 * progress (a partial index of at most max_concurrency entries), and the newest call_events id — every
 * step of every call (dialing, dialed, each webhook, completed) adds one, so an unchanged id for
 * stallSeconds means nothing moved.
 */
const PROGRESS_SQL = `
  SELECT c.status,
         (SELECT count(*)::int FROM campaign_contacts WHERE campaign_id = $1 AND status = 'in_progress') AS live,
         (SELECT max(id)::text FROM call_events) AS progress
    FROM campaigns c WHERE c.id = $1`;

async function diagnose(
  db: Client,
  campaignId: string,
  afterSeconds: number,
  quietSeconds: number,
): Promise<Stall> {
  const count = async (sql: string) =>
    Object.fromEntries(
      (await db.query<{ status: string; n: number }>(sql, [campaignId])).rows.map((r) => [r.status, r.n]),
    );
  const sessions = await db.query<Stall['sessions'][number]>(
    `SELECT state, coalesce(wait_event_type || ':' || wait_event, '-') AS wait, count(*)::int AS n,
            round(extract(epoch FROM max(now() - xact_start)))::int AS "oldestXactSeconds",
            left(regexp_replace(min(query), '\\s+', ' ', 'g'), 100) AS query
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
      GROUP BY 1, 2 ORDER BY n DESC`,
  );
  return {
    afterSeconds: Math.round(afterSeconds),
    quietSeconds,
    calls: await count(`SELECT status, count(*)::int AS n FROM calls WHERE campaign_id = $1 GROUP BY 1`),
    contacts: await count(
      `SELECT status, count(*)::int AS n FROM campaign_contacts WHERE campaign_id = $1 GROUP BY 1`,
    ),
    sessions: sessions.rows,
  };
}

export interface DispatchOptions {
  /** No contact settled, call ended or call placed for this long: the campaign is declared stalled. */
  stallSeconds: number;
  calls: number;
  maxConcurrency: number;
  tickIntervalMs: number;
  simTimeScale: number;
  timeoutSeconds: number;
}

export async function runDispatch(
  world: BenchWorld,
  api: { url: string },
  sim: { url: string },
  agency: { apiKey: string },
  o: DispatchOptions,
  cpu: CpuMeter,
): Promise<DispatchResult> {
  const list = contactList(o.calls, 7_654_321, 7);
  const campaign = await createCampaign(api.url, agency.apiKey, `Dispatch ${o.calls}`, o.maxConcurrency);
  const upload = await uploadCsv(api.url, agency.apiKey, campaign.id, list.csv);
  if (upload.report?.accepted !== o.calls) {
    throw new Error(`dispatch list: accepted ${upload.report?.accepted} of ${o.calls}: ${upload.error}`);
  }
  const db = new Client({ connectionString: world.databaseUrl });
  await db.connect();
  try {
    const pgBefore = await postgresCounters(world.databaseName);
    const cpuBefore = cpu.snapshot();
    const startSent = Date.now();
    await startCampaign(api.url, agency.apiKey, campaign.id);
    let polledMaxInProgress = 0;
    let stalled: Stall | null = null;
    let lastProgress = '';
    let lastProgressAt = Date.now();
    const deadline = Date.now() + o.timeoutSeconds * 1000;
    for (;;) {
      await sleep(200);
      const { rows } = await db.query<{ status: string; live: number; progress: string }>(PROGRESS_SQL, [
        campaign.id,
      ]);
      polledMaxInProgress = Math.max(polledMaxInProgress, rows[0].live);
      if (rows[0].status !== 'running') break;
      if (rows[0].progress !== lastProgress) {
        lastProgress = rows[0].progress;
        lastProgressAt = Date.now();
      } else if (Date.now() - lastProgressAt > o.stallSeconds * 1000) {
        stalled = await diagnose(db, campaign.id, (Date.now() - startSent) / 1000, o.stallSeconds);
        break;
      }
      if (Date.now() > deadline) {
        stalled = await diagnose(db, campaign.id, (Date.now() - startSent) / 1000, 0);
        break;
      }
    }
    const stoppedAt = Date.now();
    const cpuSeconds = cpu.since(cpuBefore);
    await sleep(1_500); // pg_stat_database is flushed at most once a second
    const postgres = countersSince(pgBefore, await postgresCounters(world.databaseName));

    const { rows: campaignRows } = await db.query<{
      status: string;
      started: number;
      finished: number | null;
    }>(
      `SELECT status, extract(epoch FROM started_at)::float8 * 1000 AS started,
              extract(epoch FROM finished_at)::float8 * 1000 AS finished FROM campaigns WHERE id = $1`,
      [campaign.id],
    );
    const { rows: statRows } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM campaign_contacts WHERE campaign_id = $1 GROUP BY status`,
      [campaign.id],
    );
    const stats = Object.fromEntries(statRows.map((r) => [r.status, r.n]));
    const timelines = (await db.query<Timeline>(TIMELINE_SQL, [campaign.id])).rows;

    const simView = await simCalls(sim.url);
    const simByCall = new Map<string, { start: number; end: number | null }>();
    for (const view of simView.calls) {
      const ours = view.call.metadata?.switchboard_call_id;
      if (typeof ours !== 'string') continue;
      simByCall.set(ours, {
        start: Date.parse(view.call.created),
        end: view.call.ended ? Date.parse(view.call.ended) : null,
      });
    }
    // One agency, one Ultravox account on this simulator.
    const simMaxLive = Math.max(0, ...simView.accounts.map((a) => a.maxConcurrentLive));

    const jobs = await dialJobs(world);
    const segments = Object.fromEntries(SEGMENTS.map((name) => [name, [] as number[]])) as Record<
      Segment,
      number[]
    >;
    const dialsPerSecond: number[] = [];
    let incomplete = 0;
    let liveTotal = 0;
    let slotTotal = 0;
    let firstSimStart = Infinity;
    // Every call the simulator created (also those a stall left unfinished).
    for (const { start } of simByCall.values()) {
      firstSimStart = Math.min(firstSimStart, start);
      const second = Math.max(0, Math.floor((start - startSent) / 1000));
      dialsPerSecond[second] = (dialsPerSecond[second] ?? 0) + 1;
    }
    for (const t of timelines) {
      const s = simByCall.get(t.id);
      if (
        !s ||
        s.end === null ||
        t.claimed === null ||
        t.locked === null ||
        t.ingested === null ||
        t.terminal === null ||
        t.contact_status === 'pending' ||
        t.contact_status === 'in_progress'
      ) {
        incomplete += 1;
        continue;
      }
      const live = s.end - s.start;
      const slot = t.settled - t.created;
      const job = jobs.get(t.id);
      if (job) {
        segments.enqueue.push(job.enqueued - t.created);
        segments.pickup.push(job.picked - job.enqueued);
        segments.pool.push(t.claimed - job.picked);
      }
      segments.queue.push(t.claimed - t.created);
      segments.lock.push(t.locked - t.claimed);
      segments.dial.push(s.start - t.locked);
      segments.live.push(live);
      segments.webhook.push(t.ingested - s.end);
      segments.process.push(t.terminal - t.ingested);
      segments.settle.push(t.settled - t.terminal);
      segments.slot.push(slot);
      segments.overhead.push(slot - live);
      liveTotal += live;
      slotTotal += slot;
    }

    const { started, finished } = campaignRows[0];
    // A stalled campaign never finished: its wall time runs to when the stall was declared.
    const wallMs = (finished ?? stoppedAt) - started;
    const simCallMs = answeredCallMs(o.simTimeScale);
    const idealMs = Math.ceil(o.calls / o.maxConcurrency) * simCallMs;
    // Contacts done with (normally all of them; fewer when the campaign stalled).
    const settled = Object.entries(stats)
      .filter(([status]) => status !== 'pending' && status !== 'in_progress')
      .reduce((sum, [, n]) => sum + n, 0);
    const perCall = (value: number) => round(value / Math.max(1, settled), 3);
    return {
      calls: o.calls,
      maxConcurrency: o.maxConcurrency,
      tickIntervalMs: o.tickIntervalMs,
      simTimeScale: o.simTimeScale,
      simCallMs,
      campaignStatus: campaignRows[0].status,
      stats,
      wallSeconds: round(wallMs / 1000, 2),
      callsPerSec: round(settled / (wallMs / 1000)),
      idealWallSeconds: round(idealMs / 1000, 2),
      efficiency: round(idealMs / wallMs, 3),
      amortisedOverheadMs: round((wallMs - idealMs) / o.calls, 2),
      firstDialMs: Math.round(firstSimStart - startSent),
      meanSlotsInUse: round(slotTotal / wallMs),
      meanLiveCalls: round(liveTotal / wallMs),
      simMaxLive,
      polledMaxInProgress,
      segmentsMs: Object.fromEntries(SEGMENTS.map((name) => [name, distribution(segments[name])])) as Record<
        Segment,
        Distribution
      >,
      jobsTraced: segments.enqueue.length,
      claimGapMs: distribution(
        timelines
          .map((t) => t.locked)
          .filter((at): at is number => at !== null)
          .sort((a, b) => a - b)
          .flatMap((at, i, all) => (i === 0 ? [] : [at - all[i - 1]])),
      ),
      dialsPerSecond: Array.from(dialsPerSecond, (n) => n ?? 0),
      cpuSeconds,
      cpuMsPerCall: Object.fromEntries(
        Object.entries(cpuSeconds)
          .filter(([name]) => !['idle', 'other', 'steal'].includes(name))
          .map(([name, seconds]) => [name, round((seconds * 1000) / Math.max(1, settled), 2)]),
      ),
      postgresPerCall: Object.fromEntries(Object.entries(postgres).map(([k, v]) => [k, perCall(v)])),
      incomplete,
      stalled,
    };
  } finally {
    await db.end();
  }
}
