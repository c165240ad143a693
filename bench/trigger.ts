/**
 * `npm run bench:trigger` — accepting outbound calls: POST /api/trigger-call with an agency API key
 * (CONTRACT §5.3) against a real API process (docs/benchmarks.md#trigger).
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
import { triggerRequest } from './calls/trigger-requests';
import {
  httpBenchArgs,
  httpBenchOptions,
  runHttpBench,
  SwitchboardSetup,
  warmUpThenMeasure,
  withSwitchboard,
} from './common/http-bench';
import { measurePhase, PhaseResult } from './common/phase';
import {
  Host,
  machineLine,
  phaseHeader,
  phaseRows,
  target,
  Target,
  noiseLines,
  targetLines,
} from './common/report';
import { countRows, jobCount } from './common/state';
import { BenchWorld } from './common/world';
import { memoryOf, RssSampler } from './common/metrics';

function options() {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      ...httpBenchArgs(),
      'no-idempotency': { type: 'boolean', default: env.BENCH_NO_IDEMPOTENCY === 'true' },
    },
  });
  // Keys in the order the result files have always listed them.
  const { apiNodeArgs, ...common } = httpBenchOptions(values);
  return { ...common, idempotency: !values['no-idempotency'], apiNodeArgs };
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

function run(o: Options, world: BenchWorld, machine: Host): Promise<Report> {
  const setup: SwitchboardSetup = { env: { API_RATE_LIMIT_PER_MINUTE: '0' }, simulator: 'metered' };
  return withSwitchboard(o, world, setup, async ({ api, agency, cpu }) => {
    const rss = new RssSampler(api.pid);
    const runTag = randomBytes(4).toString('hex');
    const load = (idempotency: boolean) => ({
      origin: api.url,
      connections: o.connections,
      build: triggerRequest(agency.apiKey, runTag, idempotency),
      okStatus: 200,
    });
    const context = { cpu, cores: machine.cpus, databaseName: world.databaseName };
    const { warmup, measured: trigger } = await warmUpThenMeasure(
      o,
      { warmup: 'warmup', measured: 'trigger' },
      context,
      load(false),
    );
    const idempotent = o.idempotency
      ? await measurePhase('idempotent', context, {
          ...load(true),
          durationMs: o.seconds * 1000,
          firstSeq: trigger.nextSeq,
        })
      : undefined;
    const memory = memoryOf(api.pid);
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
  });
}

runHttpBench({
  name: 'trigger',
  options,
  run,
  print,
  correctness: ['errors', 'accepted calls not stored'],
});
