/**
 * `npm run bench:ingest` — Ultravox webhook ingest (CONTRACT §5.2) against a real API process, and a bare
 * Fastify + pg reference driven the same way (docs/benchmarks.md, "Ultravox webhook ingest").
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
import { prepareDatabase } from '../src/database/migrate';
import { REFERENCE_TABLE } from './calls/ingest-reference-schema';
import { ingestRequest } from './calls/ultravox-events';
import { setUpAgency } from './common/agency';
import { measurePhase, PhaseResult } from './common/phase';
import {
  forkProgram,
  freePort,
  messageFrom,
  Proc,
  startSimulator,
  startSwitchboard,
} from './common/processes';
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
import { countRows, jobCount, queryOne } from './common/state';
import { BenchWorld, createWorld, destroyWorld } from './common/world';
import { CpuMeter, memoryOf, pidsNamed, postgresPidsFor } from './common/metrics';

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
      'no-reference': { type: 'boolean', default: env.BENCH_NO_REFERENCE === 'true' },
      'api-node-args': { type: 'string', default: env.BENCH_API_NODE_ARGS ?? '' },
      'reference-node-args': { type: 'string', default: env.BENCH_REFERENCE_NODE_ARGS ?? '' },
    },
  });
  const positive = (name: keyof typeof values) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
    return value;
  };
  return {
    seconds: positive('seconds'),
    warmupSeconds: positive('warmup-seconds'),
    connections: positive('connections'),
    worker: Boolean(values.worker),
    reference: !values['no-reference'],
    apiNodeArgs: String(values['api-node-args']).split(' ').filter(Boolean),
    referenceNodeArgs: String(values['reference-node-args']).split(' ').filter(Boolean),
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

async function measureSwitchboard(o: Options, world: BenchWorld, cores: number): Promise<Measured> {
  const sim = await startSimulator();
  let api: (Proc & { url: string }) | undefined;
  let worker: Proc | undefined;
  try {
    const port = await freePort();
    const env = {
      APP_ROLE: 'api',
      PORT: String(port),
      HOST: '127.0.0.1',
      ULTRAVOX_API_BASE_URL: sim.url,
      LOG_LEVEL: 'warn',
    };
    api = await startSwitchboard(world, env, o.apiNodeArgs);
    const agency = await setUpAgency(world, api.url, sim.url);
    if (o.worker) worker = await startSwitchboard(world, { ...env, APP_ROLE: 'worker' });
    else await sim.stop();
    const apiPid = api.pid;
    const workerPid = worker?.pid;
    const cpu = new CpuMeter({
      api: () => [apiPid],
      ...(workerPid ? { worker: () => [workerPid] } : {}),
      load: () => [process.pid],
      postgres: () => postgresPidsFor(world.databaseName),
      redis: () => pidsNamed('redis-server'),
    });
    const runTag = randomBytes(4).toString('hex');
    const load = {
      origin: api.url,
      connections: o.connections,
      build: ingestRequest(agency.ingestPath, agency.signingSecret, runTag, randomUUID()),
      okStatus: 204,
    };
    const warmup = await measurePhase(
      'warmup',
      { cpu, cores },
      {
        ...load,
        durationMs: o.warmupSeconds * 1000,
        firstSeq: 0,
      },
    );
    const measured = await measurePhase(
      'switchboard',
      { cpu, cores, databaseName: world.databaseName },
      {
        ...load,
        durationMs: o.seconds * 1000,
        firstSeq: warmup.nextSeq,
      },
    );
    const memory = memoryOf(apiPid);
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
  } finally {
    await worker?.stop();
    await api?.stop();
    await sim.stop();
  }
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
    const load = {
      origin: `http://127.0.0.1:${port}`,
      connections: o.connections,
      build: ingestRequest(
        `/ingest/${agencyId}/${randomBytes(16).toString('hex')}`,
        secret,
        runTag,
        randomUUID(),
      ),
      okStatus: 204,
    };
    const warmup = await measurePhase(
      'ref-warmup',
      { cpu, cores },
      {
        ...load,
        durationMs: o.warmupSeconds * 1000,
        firstSeq: 0,
      },
    );
    const measured = await measurePhase(
      'reference',
      { cpu, cores, databaseName: world.databaseName },
      {
        ...load,
        durationMs: o.seconds * 1000,
        firstSeq: warmup.nextSeq,
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
    print(report);
    console.log(`\nresult: ${writeResult('ingest', report.at, report)}`);
    // Performance targets are reported; wrong answers or lost events fail the command.
    const correctness = report.targets.filter(
      (t) => t.name === 'errors' || t.name === 'events not persisted',
    );
    if (correctness.some((t) => t.met === false)) process.exitCode = 1;
  } finally {
    await destroyWorld(world);
  }
}

main().catch((err: Error) => {
  console.error(`bench:ingest failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
