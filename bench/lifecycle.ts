/**
 * `npm run bench:lifecycle` — many calls ending at once (issue 13; docs/benchmarks.md#lifecycle).
 *
 * The simulator (its own process, default timings), the API and two workers (`node dist/src/main.js`)
 * run as a deployment would; this process triggers 500 calls (over ten agencies) through
 * POST /api/trigger-call, lets the simulator hold each one once it has said everything
 * (POST /_sim/hold-ends), then ends them all within 3 s (POST /_sim/release-ends), and runs the
 * agencies' webhook receiver. Per call: the time from Ultravox's `call.ended`
 * (the simulator's `ended`, set as the webhook leaves) to the receiver holding `call.completed`.
 * Run 1: every webhook arrives. Run 2: 20 % of the calls lose their `call.ended` (POST /_sim/webhook-drops,
 * armed before the release); they complete through reconciliation, with
 * CALLS_RECONCILE_AFTER=10s and CALLS_SWEEP_INTERVAL_MS=1000 (shortened for the bench), and their delay
 * is reported separately. Both runs check that every call ended with exactly one terminal event (at the
 * receiver and in the calls' timelines).
 * Targets: p99 ≤ 1 s for calls whose webhooks arrive (summary present); exactly one terminal event per call.
 */
import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { request } from 'undici';
import { prepareDatabase } from '../src/database/migrate';
import type { SimCallsView } from '../tools/ultravox-sim/server';
import { BenchAgency, setUpAgency } from './common/agency';
import { CpuMeter, percentile, pidsNamed, postgresPidsFor } from './common/metrics';
import { AppProcess, freePort, Proc, startSimulator, startSwitchboard } from './common/processes';
import { nodeArgs } from './common/options';
import { host, writeResult } from './common/report';
import { createWorld, destroyWorld } from './common/world';
import { TerminalReceiver } from './lifecycle/receiver';

const CALLS = Number(process.env.BENCH_CALLS ?? 500);
/** Dialing is serialised per agency (claimForDial takes the agency's lock): ten dial in parallel. */
const AGENCIES = Number(process.env.BENCH_AGENCIES ?? 10);
const DROP_EVERY = 5; // 20 %
const RECONCILE_AFTER = '10s';
const SWEEP_INTERVAL_MS = 1_000;
const TRIGGER_PARALLEL = 50;
/** The held calls are ended evenly over this long (POST /_sim/release-ends). */
const END_SPREAD_MS = 3_000;
const RUN_TIMEOUT_MS = 180_000;

interface Stats {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

interface RunResult {
  label: string;
  calls: number;
  /** Last `ended` − first `ended` at the simulator, in s. */
  endSpreadSeconds: number;
  delivered: Stats;
  /** Of the delivered: ended → call.ended stored by the API, → call.completed committed, → received. */
  deliveredSteps: { ingest: Stats; process: Stats; deliver: Stats };
  dropped: Stats | null;
  withSummary: number;
  exactlyOneAtReceiver: number;
  exactlyOneInTimeline: number;
  /** CPU seconds per process group during the run; `other` is the rest of the machine (not ours). */
  cpuSeconds: Record<string, number>;
}

const stats = (values: number[]): Stats => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: Math.round(percentile(sorted, 50)),
    p99: Math.round(percentile(sorted, 99)),
    max: Math.round(sorted[sorted.length - 1] ?? NaN),
  };
};

async function json<T>(url: string, method = 'GET', body?: unknown, auth?: string): Promise<T> {
  const res = await request(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(auth ? { authorization: auth } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Triggers `CALLS` calls over the agencies, `TRIGGER_PARALLEL` at a time; callees end 1000–1499 (answered). */
async function triggerAll(api: AppProcess, agencies: BenchAgency[], run: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < CALLS; i += TRIGGER_PARALLEL) {
    const batch = Array.from({ length: Math.min(TRIGGER_PARALLEL, CALLS - i) }, (_, j) =>
      json<{ call_id: string }>(
        `${api.url}/api/trigger-call`,
        'POST',
        { phone: `+1555${700 + run}${1000 + i + j}`, name: `Caller ${i + j}` },
        `Bearer ${agencies[(i + j) % agencies.length].apiKey}`,
      ),
    );
    ids.push(...(await Promise.all(batch)).map((r) => r.call_id));
  }
  return ids;
}

/** Until every call of the run has said everything and waits, held, to end (POST /_sim/hold-ends). */
async function allHeld(sim: AppProcess, ids: string[], deadline: number): Promise<Map<string, string>> {
  for (;;) {
    const { calls } = await json<SimCallsView>(`${sim.url}/_sim/calls`);
    const byOurs = new Map(calls.map((c) => [c.call.metadata.switchboard_call_id, c]));
    const held = ids.map((id) => byOurs.get(id));
    if (
      held.every((c) => c && c.messagesTotal > 0 && c.messagesSpoken === c.messagesTotal && !c.call.ended)
    ) {
      return new Map(held.map((c, i) => [ids[i], c?.call.callId ?? '']));
    }
    if (Date.now() > deadline) throw new Error('not every call was placed and held in time');
    await sleep(250);
  }
}

async function run(
  label: string,
  index: number,
  drop: boolean,
  ctx: {
    api: AppProcess;
    sim: AppProcess;
    agencies: BenchAgency[];
    receiver: TerminalReceiver;
    db: Client;
    cpu: CpuMeter;
  },
): Promise<RunResult> {
  const { api, sim, agencies, receiver, db, cpu } = ctx;
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  await json(`${sim.url}/_sim/hold-ends`, 'POST');
  const ids = await triggerAll(api, agencies, index);
  const ultravoxIds = await allHeld(sim, ids, deadline);
  if (drop) {
    const lost = ids.filter((_, i) => i % DROP_EVERY === DROP_EVERY - 1);
    for (const id of lost) {
      await json(`${sim.url}/_sim/webhook-drops`, 'POST', {
        event: 'call.ended',
        callId: ultravoxIds.get(id),
      });
    }
  }
  const cpuBefore = cpu.snapshot();
  await json(`${sim.url}/_sim/release-ends`, 'POST', { spreadMs: END_SPREAD_MS });
  while (!ids.every((id) => receiver.byCall.has(id))) {
    if (Date.now() > deadline) throw new Error(`${label}: not every call ended within ${RUN_TIMEOUT_MS} ms`);
    await sleep(200);
  }
  // Deliveries settle (none pending) before duplicates are counted.
  while ((await db.query(`SELECT 1 FROM webhook_deliveries WHERE status = 'pending' LIMIT 1`)).rowCount) {
    if (Date.now() > deadline) break;
    await sleep(200);
  }

  const cpuSeconds = cpu.since(cpuBefore);
  const { calls } = await json<SimCallsView>(`${sim.url}/_sim/calls`);
  const { deliveries } = await json<{ deliveries: { event: string; callId: string }[] }>(
    `${sim.url}/_sim/webhook-deliveries`,
  );
  const endedSent = new Set(deliveries.filter((d) => d.event === 'call.ended').map((d) => d.callId));
  const simOf = new Map(calls.map((c) => [c.call.metadata.switchboard_call_id, c.call]));
  const steps = await stepsOf(db, ids);
  const delivered: number[] = [];
  const dropped: number[] = [];
  const ingest: number[] = [];
  const processing: number[] = [];
  const deliver: number[] = [];
  const endedAt: number[] = [];
  let withSummary = 0;
  for (const id of ids) {
    const remote = simOf.get(id);
    const first = receiver.byCall.get(id)?.[0];
    if (!remote?.ended || !first) throw new Error(`${label}: call ${id} unknown to the simulator`);
    const ended = Date.parse(remote.ended);
    endedAt.push(ended);
    if (first.summary) withSummary += 1;
    if (!endedSent.has(remote.callId)) {
      dropped.push(first.at - ended);
      continue;
    }
    delivered.push(first.at - ended);
    const step = steps.get(id);
    if (step?.ingested === undefined || step.completed === undefined) continue;
    ingest.push(step.ingested - ended);
    processing.push(step.completed - step.ingested);
    deliver.push(first.at - step.completed);
  }
  const timeline = await db.query<{ call_id: string; n: number }>(
    `SELECT call_id, count(*)::int AS n FROM call_events
      WHERE call_id = ANY($1) AND source = 'switchboard' AND event IN ('call.completed', 'call.failed')
      GROUP BY call_id`,
    [ids],
  );
  return {
    label,
    calls: ids.length,
    endSpreadSeconds: Math.round((Math.max(...endedAt) - Math.min(...endedAt)) / 100) / 10,
    delivered: stats(delivered),
    deliveredSteps: { ingest: stats(ingest), process: stats(processing), deliver: stats(deliver) },
    dropped: drop ? { ...stats(dropped), count: dropped.length } : null,
    withSummary,
    exactlyOneAtReceiver: ids.filter((id) => receiver.byCall.get(id)?.length === 1).length,
    exactlyOneInTimeline: timeline.rows.filter((r) => r.n === 1).length,
    cpuSeconds,
  };
}

/** When the API stored each call's call.ended and when its call.completed was committed (epoch ms). */
async function stepsOf(
  db: Client,
  ids: string[],
): Promise<Map<string, { ingested?: number; completed?: number }>> {
  const rows = await db.query<{ call_id: string; source: string; at: Date }>(
    `SELECT call_id, source, created_at AS at FROM call_events
      WHERE call_id = ANY($1) AND ((source = 'ultravox' AND event = 'call.ended')
                                OR (source = 'switchboard' AND event = 'call.completed'))`,
    [ids],
  );
  const steps = new Map<string, { ingested?: number; completed?: number }>();
  for (const row of rows.rows) {
    const step = steps.get(row.call_id) ?? {};
    if (row.source === 'ultravox') step.ingested = row.at.getTime();
    else step.completed = row.at.getTime();
    steps.set(row.call_id, step);
  }
  return steps;
}

const children: Proc[] = [];

async function main(): Promise<void> {
  const machine = await host();
  if (machine.busyBeforeStart > 0.1) {
    console.warn(
      `warning: ${Math.round(machine.busyBeforeStart * 100)}% of the CPU was busy before the start`,
    );
  }
  const world = await createWorld();
  const receiver = await new TerminalReceiver().start();
  const db = new Client({ connectionString: world.databaseUrl });
  try {
    await prepareDatabase(world.databaseUrl, true);
    await db.connect();
    const sim = await startSimulator({ ULTRAVOX_SIM_MAX_CONCURRENT_CALLS: String(4 * CALLS) });
    children.push(sim);
    const port = await freePort();
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      ULTRAVOX_API_BASE_URL: sim.url,
      API_RATE_LIMIT_PER_MINUTE: '0',
      MAX_CONCURRENT_CALLS_PER_AGENCY: String(2 * CALLS),
      CALLS_RECONCILE_AFTER: RECONCILE_AFTER,
      CALLS_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
    };
    const api = await startSwitchboard(world, { ...env, APP_ROLE: 'api' });
    children.push(api);
    const agencies: BenchAgency[] = [];
    for (let n = 0; n < AGENCIES; n++) {
      const agency = await setUpAgency(world, api.url, sim.url, n);
      await json(
        `${api.url}/api/v1/webhooks`,
        'POST',
        { url: receiver.url, events: ['call.completed', 'call.failed'] },
        `Bearer ${agency.ownerToken}`,
      );
      agencies.push(agency);
    }
    // BENCH_WORKER_NODE_ARGS: Node flags for the workers (e.g. a CPU profile, docs/benchmarks.md).
    const workerArgs = nodeArgs(process.env.BENCH_WORKER_NODE_ARGS ?? '');
    for (let i = 0; i < 2; i++) {
      children.push(await startSwitchboard(world, { ...env, APP_ROLE: 'worker' }, workerArgs));
    }

    const workers = children.slice(2);
    const cpu = new CpuMeter({
      api: () => [api.pid],
      workers: () => workers.map((w) => w.pid),
      simulator: () => [sim.pid],
      bench: () => [process.pid],
      postgres: () => postgresPidsFor(world.databaseName),
      redis: () => pidsNamed('redis-server'),
    });
    const ctx = { api, sim, agencies, receiver, db, cpu };
    const runs = [
      await run('all webhooks arrive', 1, false, ctx),
      await run('20 % call.ended lost', 2, true, ctx),
    ];
    const report = {
      at: new Date().toISOString(),
      host: machine,
      settings: {
        calls: CALLS,
        dropShare: 1 / DROP_EVERY,
        reconcileAfter: RECONCILE_AFTER,
        sweepIntervalMs: SWEEP_INTERVAL_MS,
        workers: 2,
      },
      runs,
    };
    const targets = runs.flatMap(
      (r) =>
        [
          [`${r.label}: p99 delivered (ms)`, r.delivered.p99, r.delivered.p99 <= 1_000, '<= 1000'],
          [
            `${r.label}: exactly one terminal`,
            r.exactlyOneAtReceiver,
            r.exactlyOneAtReceiver === r.calls && r.exactlyOneInTimeline === r.calls,
            `= ${r.calls}`,
          ],
        ] as const,
    );
    console.log(
      `\nCall lifecycle benchmark — ${machine.cpus} × ${machine.cpuModel}, Node ${process.version}`,
    );
    for (const r of runs) console.log(JSON.stringify(r));
    for (const [name, value, met, goal] of targets) {
      console.log(
        `${met ? ' MET ' : 'MISSED'} ${name.padEnd(46)} ${String(value).padStart(8)}  (target ${goal})`,
      );
    }
    console.log(`\nresult: ${writeResult('lifecycle', report.at, { ...report, targets })}`);
    // Performance targets are reported; a call without exactly one terminal event fails the run.
    if (runs.some((r) => r.exactlyOneAtReceiver !== r.calls || r.exactlyOneInTimeline !== r.calls)) {
      process.exitCode = 1;
    }
  } finally {
    for (const child of children.reverse()) await child.stop();
    await db.end().catch(() => undefined);
    await receiver.close();
    await destroyWorld(world);
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  for (const child of children) console.error(child.output().slice(-2_048));
  process.exit(1);
});
