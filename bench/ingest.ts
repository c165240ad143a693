/**
 * `npm run bench:ingest` — Ultravox webhook ingest (CONTRACT §5.2) against a real API process, and a bare
 * Fastify + pg reference driven the same way (docs/benchmarks.md#ingest).
 *
 * Processes: this one (setup, then the closed-loop load generator), the API under test
 * (`node dist/src/main.js`, APP_ROLE=api, LOG_LEVEL=warn), the Ultravox simulator during setup (the agency
 * registers its webhook there, which is where the signing secret comes from), optionally a worker
 * (--worker), and afterwards the reference server. Every request is a distinct (callId, event), signed.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { QUEUES } from '../src/common/queues';
import { REFERENCE_TABLE } from './calls/ingest-reference-schema';
import { ingestRequest } from './calls/ultravox-events';
import {
  httpBenchArgs,
  httpBenchOptions,
  runHttpBench,
  warmUpThenMeasure,
  withSwitchboard,
} from './common/http-bench';
import { nodeArgs } from './common/options';
import { PhaseResult } from './common/phase';
import { forkProgram, messageFrom } from './common/processes';
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
import { countRows, jobCount, queryOne } from './common/state';
import { BenchWorld } from './common/world';
import { CpuMeter, memoryOf, pidsNamed, postgresPidsFor } from './common/metrics';

function options() {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      ...httpBenchArgs(),
      'no-reference': { type: 'boolean', default: env.BENCH_NO_REFERENCE === 'true' },
      'reference-node-args': { type: 'string', default: env.BENCH_REFERENCE_NODE_ARGS ?? '' },
    },
  });
  // Keys in the order the result files have always listed them.
  const { apiNodeArgs, ...common } = httpBenchOptions(values);
  return {
    ...common,
    reference: !values['no-reference'],
    apiNodeArgs,
    referenceNodeArgs: nodeArgs(values['reference-node-args']),
  };
}
type Options = ReturnType<typeof options>;

interface Measured {
  warmup: PhaseResult;
  measured: PhaseResult;
  /** Rows stored for this run's events, and how many 204s were answered (warm-up included). */
  persisted: { rows: number; acknowledged: number; jobs?: number };
  api?: { peakRssMb: number; rssMb: number };
}

function measureSwitchboard(o: Options, world: BenchWorld, cores: number): Promise<Measured> {
  return withSwitchboard(o, world, { simulator: 'setup' }, async ({ api, agency, cpu }) => {
    const runTag = randomBytes(4).toString('hex');
    const { warmup, measured } = await warmUpThenMeasure(
      o,
      { warmup: 'warmup', measured: 'switchboard' },
      { cpu, cores, databaseName: world.databaseName },
      {
        origin: api.url,
        connections: o.connections,
        build: ingestRequest(agency.ingestPath, agency.signingSecret, runTag, randomUUID()),
        okStatus: 204,
      },
    );
    const memory = memoryOf(api.pid);
    const rows = await countRows(
      world,
      `SELECT count(*) FROM call_events WHERE agency_id = $1 AND source = 'ultravox'`,
      [agency.agencyId],
    );
    return {
      warmup,
      measured,
      persisted: {
        rows,
        acknowledged: warmup.ok + measured.ok,
        jobs: o.worker ? undefined : await jobCount(world, QUEUES.callEvents),
      },
      api: memory ? { peakRssMb: Math.round(memory.hwmMb), rssMb: Math.round(memory.rssMb) } : undefined,
    };
  });
}

async function measureReference(o: Options, world: BenchWorld, cores: number): Promise<Measured> {
  const reference = forkProgram(
    'calls/ingest-reference',
    { REF_DATABASE_URL: world.databaseUrl },
    o.referenceNodeArgs,
  );
  try {
    const { port } = await messageFrom<{ type: string; port: number }>(
      reference,
      (m) => m.type === 'listening',
    );
    // The reference table has call_events' foreign key, so rows name the bench agency.
    const { id: agencyId } = await queryOne<{ id: string }>(world, 'SELECT id FROM agencies LIMIT 1');
    const cpu = new CpuMeter({
      reference: () => [reference.pid],
      load: () => [process.pid],
      postgres: () => postgresPidsFor(world.databaseName),
      redis: () => pidsNamed('redis-server'),
    });
    const runTag = randomBytes(4).toString('hex');
    const secret = randomBytes(24).toString('base64url');
    const { warmup, measured } = await warmUpThenMeasure(
      o,
      { warmup: 'ref-warmup', measured: 'reference' },
      { cpu, cores, databaseName: world.databaseName },
      {
        origin: `http://127.0.0.1:${port}`,
        connections: o.connections,
        build: ingestRequest(
          `/ingest/${agencyId}/${randomBytes(16).toString('hex')}`,
          secret,
          runTag,
          randomUUID(),
        ),
        okStatus: 204,
      },
    );
    const rows = await countRows(world, `SELECT count(*) FROM ${REFERENCE_TABLE}`);
    return { warmup, measured, persisted: { rows, acknowledged: warmup.ok + measured.ok } };
  } finally {
    await reference.stop();
  }
}

interface Report {
  benchmark: 'ultravox-ingest';
  at: string;
  machine: Host;
  options: Options;
  switchboard: Measured;
  reference?: Measured;
  /** Switchboard requests/s ÷ reference requests/s. */
  ratio: number | null;
  targets: Target[];
}

function targetsOf(r: Report): Target[] {
  const sb = r.switchboard;
  const errors = sb.warmup.errors + sb.measured.errors;
  return [
    target('requests/s', '>= 3000', sb.measured.perSec, (v) => v >= 3000),
    target('p99 latency (ms)', '<= 50', sb.measured.latencyMs.p99, (v) => v <= 50),
    target('errors', '= 0', errors, (v) => v === 0),
    target('events not persisted', '= 0', sb.persisted.acknowledged - sb.persisted.rows, (v) => v === 0),
    target('ratio to reference', '>= 0.45', r.ratio, (v) => v >= 0.45),
  ];
}

function print(r: Report): void {
  const sb = r.switchboard;
  const lines = [
    '',
    machineLine('Ultravox webhook ingest benchmark', r.machine),
    `closed loop, ${r.options.connections} connections, ${r.options.warmupSeconds} s warm-up + ${r.options.seconds} s measured; ` +
      `worker alongside: ${r.options.worker ? 'yes' : 'no'}`,
    '',
    phaseHeader(),
    ...phaseRows('switchboard warm-up', sb.warmup),
    ...phaseRows('switchboard', sb.measured),
    ...phaseRows('reference warm-up', r.reference?.warmup),
    ...phaseRows('reference', r.reference?.measured),
    '',
    `persisted: ${sb.persisted.rows} call_events rows for ${sb.persisted.acknowledged} acknowledged events` +
      (sb.persisted.jobs !== undefined ? `; ${sb.persisted.jobs} call-events jobs in Redis` : ''),
    r.reference
      ? `reference persisted: ${r.reference.persisted.rows} rows for ${r.reference.persisted.acknowledged} acknowledged`
      : '',
    sb.api ? `API peak RSS (VmHWM) ${sb.api.peakRssMb} MB` : '',
    r.ratio !== null ? `switchboard / reference: ${r.ratio}` : '',
    '',
    ...targetLines(r.targets),
    ...noiseLines([sb.measured, r.reference?.measured]),
  ];
  console.log(lines.filter((line, i) => line !== '' || lines[i - 1] !== '').join('\n'));
}

async function run(o: Options, world: BenchWorld, machine: Host): Promise<Report> {
  const switchboard = await measureSwitchboard(o, world, machine.cpus);
  const reference = o.reference ? await measureReference(o, world, machine.cpus) : undefined;
  const report: Report = {
    benchmark: 'ultravox-ingest',
    at: new Date().toISOString(),
    machine,
    options: o,
    switchboard,
    reference,
    ratio: reference
      ? Math.round((switchboard.measured.perSec / reference.measured.perSec) * 100) / 100
      : null,
    targets: [],
  };
  report.targets = targetsOf(report);
  return report;
}

runHttpBench({ name: 'ingest', options, run, print, correctness: ['errors', 'events not persisted'] });
