/**
 * What the closed-loop HTTP benchmarks (bench/ingest.ts, bench/trigger.ts) share: their common options,
 * the world they measure (simulator, API, agency, optional worker), warm-up then measured phase, and main.
 * Each benchmark keeps its own requests, extra options, report and targets.
 */
import { prepareDatabase } from '../../src/database/migrate';
import { type BenchAgency, setUpAgency } from './agency';
import { CpuMeter, pidsNamed, postgresPidsFor } from './metrics';
import { measurePhase, type PhaseContext, type PhaseResult } from './phase';
import type { LoadOptions } from './load';
import { type AppProcess, freePort, type Proc, startSimulator, startSwitchboard } from './processes';
import { type Host, host, type Target, writeResult } from './report';
import { type BenchWorld, createWorld, destroyWorld } from './world';
import { nodeArgs, wholeNumber } from './options';

/** Best throughput without hurting p99 on the 2-core reference machine (docs/benchmarks.md#ingest). */
const DEFAULT_CONNECTIONS = 32;

/** The parseArgs options every HTTP benchmark takes; BENCH_* variables give the defaults. */
export function httpBenchArgs() {
  const env = process.env;
  return {
    seconds: { type: 'string', default: env.BENCH_SECONDS ?? '10' },
    'warmup-seconds': { type: 'string', default: env.BENCH_WARMUP_SECONDS ?? '3' },
    connections: { type: 'string', default: env.BENCH_CONNECTIONS ?? String(DEFAULT_CONNECTIONS) },
    worker: { type: 'boolean', default: env.BENCH_WORKER === 'true' },
    'api-node-args': { type: 'string', default: env.BENCH_API_NODE_ARGS ?? '' },
  } as const;
}

interface HttpBenchValues {
  seconds?: string;
  'warmup-seconds'?: string;
  connections?: string;
  worker?: boolean;
  'api-node-args'?: string;
}

/** The parsed values of `httpBenchArgs()`, checked. */
export function httpBenchOptions(values: HttpBenchValues) {
  const whole = (name: 'seconds' | 'warmup-seconds' | 'connections') => wholeNumber(name, values[name]);
  return {
    seconds: whole('seconds'),
    warmupSeconds: whole('warmup-seconds'),
    connections: whole('connections'),
    worker: Boolean(values.worker),
    apiNodeArgs: nodeArgs(values['api-node-args']),
  };
}
export type HttpBenchOptions = ReturnType<typeof httpBenchOptions>;

export interface SwitchboardSetup {
  /** Added to the API's (and the worker's) environment. */
  env?: Record<string, string>;
  /**
   * `setup`: the simulator is only needed to set up the agency (and by a worker), so without --worker it
   * is stopped before the load; `metered`: it stays, and its CPU is a group of the meter.
   */
  simulator: 'setup' | 'metered';
}

export interface StartedSwitchboard {
  api: AppProcess;
  agency: BenchAgency;
  /** api, worker (with --worker), load, simulator (when metered), postgres, redis. */
  cpu: CpuMeter;
}

/** Runs `work` with the simulator, the API, an agency and (with --worker) a worker, then stops them all. */
export async function withSwitchboard<T>(
  o: HttpBenchOptions,
  world: BenchWorld,
  setup: SwitchboardSetup,
  work: (started: StartedSwitchboard) => Promise<T>,
): Promise<T> {
  const sim = await startSimulator();
  let api: AppProcess | undefined;
  let worker: Proc | undefined;
  try {
    const env = {
      APP_ROLE: 'api',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      ULTRAVOX_API_BASE_URL: sim.url,
      LOG_LEVEL: 'warn',
      ...setup.env,
    };
    api = await startSwitchboard(world, env, o.apiNodeArgs);
    const agency = await setUpAgency(world, api.url, sim.url);
    if (o.worker) worker = await startSwitchboard(world, { ...env, APP_ROLE: 'worker' });
    else if (setup.simulator === 'setup') await sim.stop();
    const apiPid = api.pid;
    const workerPid = worker?.pid;
    const cpu = new CpuMeter({
      api: () => [apiPid],
      ...(workerPid ? { worker: () => [workerPid] } : {}),
      load: () => [process.pid],
      ...(setup.simulator === 'metered' ? { simulator: () => [sim.pid] } : {}),
      postgres: () => postgresPidsFor(world.databaseName),
      redis: () => pidsNamed('redis-server'),
    });
    return await work({ api, agency, cpu });
  } finally {
    await worker?.stop();
    await api?.stop();
    await sim.stop();
  }
}

/** A phase's requests; how long it runs and where its numbering starts are the phase's own. */
export type PhaseLoad = Omit<LoadOptions, 'durationMs' | 'count' | 'firstSeq'>;

/**
 * --warmup-seconds of `load` (Postgres counters not read), then --seconds measured, numbering on from the
 * warm-up so every request is distinct.
 */
export async function warmUpThenMeasure(
  o: HttpBenchOptions,
  phases: { warmup: string; measured: string },
  context: PhaseContext,
  load: PhaseLoad,
): Promise<{ warmup: PhaseResult; measured: PhaseResult }> {
  const warmup = await measurePhase(
    phases.warmup,
    { cpu: context.cpu, cores: context.cores },
    { ...load, durationMs: o.warmupSeconds * 1000, firstSeq: 0 },
  );
  const measured = await measurePhase(phases.measured, context, {
    ...load,
    durationMs: o.seconds * 1000,
    firstSeq: warmup.nextSeq,
  });
  return { warmup, measured };
}

/** What the runner needs of a report: when it was taken (the result file's name) and its targets. */
export interface HttpBenchReport {
  at: string;
  targets: Target[];
}

export interface HttpBench<O, R extends HttpBenchReport> {
  /** As in `npm run bench:<name>`; also the prefix of its result file. */
  name: string;
  options(): O;
  /** Measures in a fresh, migrated world and returns the report with its targets. */
  run(o: O, world: BenchWorld, machine: Host): Promise<R>;
  print(report: R): void;
  /** Names of the targets whose miss fails the command. */
  correctness: string[];
}

/** Runs `bench` as the program's main: prints, stores the JSON result, and sets the exit code. */
export function runHttpBench<O, R extends HttpBenchReport>(bench: HttpBench<O, R>): void {
  main(bench).catch((err: Error) => {
    console.error(`bench:${bench.name} failed: ${err.stack ?? err.message}`);
    process.exit(1);
  });
}

async function main<O, R extends HttpBenchReport>(bench: HttpBench<O, R>): Promise<void> {
  const o = bench.options();
  const machine = await host();
  if (machine.busyBeforeStart > 0.1) {
    console.warn(
      `warning: ${Math.round(machine.busyBeforeStart * 100)}% of the CPU was busy before the benchmark started`,
    );
  }
  const world = await createWorld();
  try {
    await prepareDatabase(world.databaseUrl, true);
    const report = await bench.run(o, world, machine);
    bench.print(report);
    console.log(`\nresult: ${writeResult(bench.name, report.at, report)}`);
    // Performance targets are reported; wrong answers or lost requests fail the command.
    const correctness = report.targets.filter((t) => bench.correctness.includes(t.name));
    if (correctness.some((t) => t.met === false)) process.exitCode = 1;
  } finally {
    await destroyWorld(world);
  }
}
