/**
 * `npm run bench:trigger` — accepting outbound calls: POST /api/trigger-call with an agency API key
 * (CONTRACT §5.3) against a real API process (docs/benchmarks.md, "Trigger call").
 *
 * Processes: this one (setup, then the closed-loop load generator), the API under test
 * (`node dist/src/main.js`, APP_ROLE=api, API_RATE_LIMIT_PER_MINUTE=0, LOG_LEVEL=warn), the Ultravox
 * simulator as ULTRAVOX_API_BASE_URL, and optionally a worker (--worker). Without it, accepted calls
 * stay `queued` with their dial job waiting in Redis: what is measured is accepting calls, not dialing.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { QUEUES } from '../src/common/queues';
import { prepareDatabase } from '../src/database/migrate';
import { triggerRequest } from './calls/trigger-requests';
import { setUpAgency } from './common/agency';
import { measurePhase, PhaseResult } from './common/phase';
import { AppProcess, freePort, Proc, startSimulator, startSwitchboard } from './common/processes';
import {
  Host,
  host,
  machineLine,
  phaseHeader,
  phaseRows,
  target,
  Target,
  noiseLines,
  targetLines,
  writeResult,
} from './common/report';
import { countRows, jobCount } from './common/state';
import { BenchWorld, createWorld, destroyWorld } from './common/world';
import { CpuMeter, memoryOf, pidsNamed, postgresPidsFor, RssSampler } from './common/metrics';

/** Best throughput without hurting p99 on the 2-core reference machine (docs/benchmarks.md). */
const DEFAULT_CONNECTIONS = 32;

function options() {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: env.BENCH_SECONDS ?? '10' },
      'warmup-seconds': { type: 'string', default: env.BENCH_WARMUP_SECONDS ?? '3' },
      connections: { type: 'string', default: env.BENCH_CONNECTIONS ?? String(DEFAULT_CONNECTIONS) },
      worker: { type: 'boolean', default: env.BENCH_WORKER === 'true' },
      'no-idempotency': { type: 'boolean', default: env.BENCH_NO_IDEMPOTENCY === 'true' },
      'api-node-args': { type: 'string', default: env.BENCH_API_NODE_ARGS ?? '' },
    },
  });
  const whole = (name: keyof typeof values) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
    return value;
  };
  return {
    seconds: whole('seconds'),
    warmupSeconds: whole('warmup-seconds'),
    connections: whole('connections'),
    worker: Boolean(values.worker),
    idempotency: !values['no-idempotency'],
    apiNodeArgs: String(values['api-node-args']).split(' ').filter(Boolean),
  };
}
type Options = ReturnType<typeof options>;

interface Report {
  benchmark: 'trigger-call';
  at: string;
  machine: Host;
  options: Options;
  warmup: PhaseResult;
  /** Without Idempotency-Key: the figure the targets are about. */
  trigger: PhaseResult;
  /** Each request with its own Idempotency-Key (claim + store of the answer in Postgres). */
  idempotent?: PhaseResult;
  /** Calls stored and dial jobs in Redis after the run, against calls accepted (warm-up included). */
  stored: { accepted: number; calls: number; queued?: number; dialJobs?: number };
  api: { peakRssMb: number; sampledMaxRssMb: number };
  targets: Target[];
}

function targetsOf(r: Report): Target[] {
  const errors = r.warmup.errors + r.trigger.errors + (r.idempotent?.errors ?? 0);
  return [
    target('accepted calls/s', '>= 1000', r.trigger.perSec, (v) => v >= 1000),
    target('p99 latency (ms)', '<= 50', r.trigger.latencyMs.p99, (v) => v <= 50),
    target('errors', '= 0', errors, (v) => v === 0),
    target('accepted calls not stored', '= 0', r.stored.accepted - r.stored.calls, (v) => v === 0),
    target('API peak RSS (MB)', '<= 300', r.api.peakRssMb, (v) => v <= 300),
  ];
}

function print(r: Report): void {
  const s = r.stored;
  const lines = [
    '',
    machineLine('Trigger-call benchmark', r.machine),
    `closed loop, ${r.options.connections} connections, ${r.options.warmupSeconds} s warm-up + ${r.options.seconds} s ` +
      `measured per phase; API_RATE_LIMIT_PER_MINUTE=0; worker alongside: ${r.options.worker ? 'yes' : 'no'}`,
    '',
    phaseHeader(),
    ...phaseRows('warm-up', r.warmup),
    ...phaseRows('trigger-call', r.trigger),
    ...phaseRows('with Idempotency-Key', r.idempotent),
    '',
    `stored: ${s.calls} calls for ${s.accepted} accepted` +
      (s.queued !== undefined ? ` (${s.queued} queued, ${s.dialJobs} dial jobs in Redis)` : ''),
    `API peak RSS (VmHWM) ${r.api.peakRssMb} MB (max sampled VmRSS ${r.api.sampledMaxRssMb} MB)`,
    '',
    ...targetLines(r.targets),
    ...noiseLines([r.trigger, r.idempotent]),
  ];
  console.log(lines.filter((line, i) => line !== '' || lines[i - 1] !== '').join('\n'));
}

async function run(o: Options, world: BenchWorld, machine: Host): Promise<Report> {
  const sim = await startSimulator();
  let api: AppProcess | undefined;
  let worker: Proc | undefined;
  try {
    const env = {
      APP_ROLE: 'api',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      ULTRAVOX_API_BASE_URL: sim.url,
      API_RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
    };
    api = await startSwitchboard(world, env, o.apiNodeArgs);
    const agency = await setUpAgency(world, api.url, sim.url);
    if (o.worker) worker = await startSwitchboard(world, { ...env, APP_ROLE: 'worker' });
    const apiPid = api.pid;
    const workerPid = worker?.pid;
    const rss = new RssSampler(apiPid);
    const cpu = new CpuMeter({
      api: () => [apiPid],
      ...(workerPid ? { worker: () => [workerPid] } : {}),
      load: () => [process.pid],
      simulator: () => [sim.pid],
      postgres: () => postgresPidsFor(world.databaseName),
      redis: () => pidsNamed('redis-server'),
    });
    const runTag = randomBytes(4).toString('hex');
    const origin = api.url;
    const load = (idempotency: boolean) => ({
      origin,
      connections: o.connections,
      build: triggerRequest(agency.apiKey, runTag, idempotency),
      okStatus: 200,
    });
    const context = (databaseName?: string) => ({ cpu, cores: machine.cpus, databaseName });
    const warmup = await measurePhase('warmup', context(), {
      ...load(false),
      durationMs: o.warmupSeconds * 1000,
      firstSeq: 0,
    });
    const trigger = await measurePhase('trigger', context(world.databaseName), {
      ...load(false),
      durationMs: o.seconds * 1000,
      firstSeq: warmup.nextSeq,
    });
    const idempotent = o.idempotency
      ? await measurePhase('idempotent', context(world.databaseName), {
          ...load(true),
          durationMs: o.seconds * 1000,
          firstSeq: trigger.nextSeq,
        })
      : undefined;
    const memory = memoryOf(apiPid);
    const accepted = warmup.ok + trigger.ok + (idempotent?.ok ?? 0);
    const calls = await countRows(world, 'SELECT count(*) FROM calls WHERE agency_id = $1', [
      agency.agencyId,
    ]);
    const report: Report = {
      benchmark: 'trigger-call',
      at: new Date().toISOString(),
      machine,
      options: o,
      warmup,
      trigger,
      idempotent,
      stored: {
        accepted,
        calls,
        ...(o.worker
          ? {}
          : {
              queued: await countRows(world, `SELECT count(*) FROM calls WHERE status = 'queued'`),
              dialJobs: await jobCount(world, QUEUES.callDial),
            }),
      },
      api: { peakRssMb: Math.round(memory?.hwmMb ?? NaN), sampledMaxRssMb: Math.round(rss.stop()) },
      targets: [],
    };
    report.targets = targetsOf(report);
    return report;
  } finally {
    await worker?.stop();
    await api?.stop();
    await sim.stop();
  }
}

async function main(): Promise<void> {
  const o = options();
  const machine = await host();
  if (machine.busyBeforeStart > 0.1) {
    console.warn(
      `warning: ${Math.round(machine.busyBeforeStart * 100)}% of the CPU was busy before the benchmark started`,
    );
  }
  const world = await createWorld();
  try {
    await prepareDatabase(world.databaseUrl, true);
    const report = await run(o, world, machine);
    print(report);
    console.log(`\nresult: ${writeResult('trigger', report.at, report)}`);
    // Performance targets are reported; wrong answers or lost calls fail the command.
    const correctness = report.targets.filter(
      (t) => t.name === 'errors' || t.name === 'accepted calls not stored',
    );
    if (correctness.some((t) => t.met === false)) process.exitCode = 1;
  } finally {
    await destroyWorld(world);
  }
}

main().catch((err: Error) => {
  console.error(`bench:trigger failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
