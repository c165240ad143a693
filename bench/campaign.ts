/**
 * `npm run bench:campaign` — campaigns (issue 5; docs/benchmarks.md#campaign):
 *
 * 1. Import: a realistic CSV of 100,000 contacts POSTed to a draft campaign of a real API process
 *    (`node dist/src/main.js`, APP_ROLE=api). Target: ≤ 10 s from the first byte sent to the 200 answer,
 *    API peak RSS (VmHWM) ≤ 300 MB; the report must say accepted = 100,000 and the table hold them all.
 * 2. Dispatch: another campaign of 2,000 contacts, max_concurrency 50, started through the API and
 *    dialed by a worker process (APP_ROLE=worker) against the Ultravox simulator (its own process, fast
 *    time scale, high live-call cap). Measured from start to `finished`: calls/s, and per call the
 *    dispatch overhead — the time a contact holds a concurrency slot beyond the call's own length.
 *
 * A fresh database (dropped at the end), a unique REDIS_PREFIX (cleared), every process stopped at the
 * end (also on Ctrl-C). Prints a summary; the full result goes to bench/results/campaign-<time>.json.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { prepareDatabase } from '../src/database/migrate';
import { setUpAgency } from './common/agency';
import { AppProcess, freePort, Proc, startSwitchboard } from './common/processes';
import { host, writeResult } from './common/report';
import { createWorld, destroyWorld, BenchWorld } from './common/world';
import { CpuMeter, pidsNamed, postgresPidsFor } from './common/metrics';
import { runDispatch, waitForWorker } from './campaign/dispatch-phase';
import { runImport } from './campaign/import-phase';
import { CampaignOptions, CampaignReport, CORRECTNESS, print, targetsOf } from './campaign/report';
import { PHONE_STYLES, PhoneStyle } from './campaign/csv';
import { answeredCallMs, startCampaignSimulator } from './campaign/simulator';
import { nodeArgs } from './common/options';

function options(): CampaignOptions {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      contacts: { type: 'string', default: env.BENCH_CONTACTS ?? '100000' },
      calls: { type: 'string', default: env.BENCH_CALLS ?? '2000' },
      'max-concurrency': { type: 'string', default: env.BENCH_MAX_CONCURRENCY ?? '50' },
      // The application's default (src/config/app-config.ts): what a deployment runs unless it is tuned.
      'tick-ms': { type: 'string', default: env.BENCH_TICK_MS ?? '1000' },
      'time-scale': { type: 'string', default: env.BENCH_TIME_SCALE ?? '0.05' },
      'agency-cap': { type: 'string', default: env.BENCH_AGENCY_CAP ?? '200' },
      phones: { type: 'string', default: env.BENCH_PHONES ?? 'us' },
      'stall-seconds': { type: 'string', default: env.BENCH_STALL_SECONDS ?? '30' },
      'no-import': { type: 'boolean', default: env.BENCH_NO_IMPORT === 'true' },
      'no-dispatch': { type: 'boolean', default: env.BENCH_NO_DISPATCH === 'true' },
      'api-node-args': { type: 'string', default: env.BENCH_API_NODE_ARGS ?? '' },
      'worker-node-args': { type: 'string', default: env.BENCH_WORKER_NODE_ARGS ?? '' },
    },
  });
  const number = (name: keyof typeof values, min: number, integer = true) => {
    const value = Number(values[name]);
    if (!(value >= min) || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} must be ${integer ? 'a whole number' : 'a number'} >= ${min}`);
    }
    return value;
  };
  const phones = String(values.phones) as PhoneStyle;
  if (!PHONE_STYLES.includes(phones)) throw new Error(`--phones must be one of ${PHONE_STYLES.join(', ')}`);
  return {
    phones,
    contacts: number('contacts', 1),
    calls: number('calls', 1),
    maxConcurrency: number('max-concurrency', 1),
    tickIntervalMs: number('tick-ms', 50),
    simTimeScale: number('time-scale', 0.001, false),
    agencyCap: number('agency-cap', 1),
    stallSeconds: number('stall-seconds', 1),
    import: !values['no-import'],
    dispatch: !values['no-dispatch'],
    apiNodeArgs: nodeArgs(values['api-node-args']),
    workerNodeArgs: nodeArgs(values['worker-node-args']),
  };
}

/** The child processes by name: their output (last 64 KB) is shown when the run fails. */
const children = new Map<string, Proc>();

/** What must be undone however the run ends: processes first, then the database and Redis keys. */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (let undo = cleanups.pop(); undo; undo = cleanups.pop()) {
    await undo().catch((err: Error) => console.error(`cleanup: ${err.message}`));
  }
}

async function run(o: CampaignOptions, world: BenchWorld, report: CampaignReport): Promise<void> {
  const sim = await startCampaignSimulator(o.simTimeScale, Math.max(1_000, o.maxConcurrency * 4));
  cleanups.push(() => sim.stop());
  children.set('simulator', sim);
  const port = await freePort();
  const env = {
    PORT: String(port),
    HOST: '127.0.0.1',
    // The simulator's webhooks must reach this API's ingest route.
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    ULTRAVOX_API_BASE_URL: sim.url,
    API_RATE_LIMIT_PER_MINUTE: '0',
    CAMPAIGN_TICK_INTERVAL_MS: String(o.tickIntervalMs),
    MAX_CONCURRENT_CALLS_PER_AGENCY: String(o.agencyCap),
    LOG_LEVEL: 'warn',
  };
  const api: AppProcess = await startSwitchboard(world, { ...env, APP_ROLE: 'api' }, o.apiNodeArgs);
  cleanups.push(() => api.stop());
  children.set('api', api);
  const agency = await setUpAgency(world, api.url, sim.url);

  let workerPid: number | undefined;
  const cpu = new CpuMeter({
    api: () => [api.pid],
    worker: () => (workerPid ? [workerPid] : []),
    simulator: () => [sim.pid],
    bench: () => [process.pid],
    postgres: () => postgresPidsFor(world.databaseName),
    redis: () => pidsNamed('redis-server'),
  });

  if (o.import) {
    console.log(`importing ${o.contacts.toLocaleString('en-US')} contacts…`);
    report.import = await runImport(world, api, agency.apiKey, o.contacts, o.phones, cpu);
  }
  if (o.dispatch) {
    const worker = await startSwitchboard(world, { ...env, APP_ROLE: 'worker' }, o.workerNodeArgs);
    cleanups.push(() => worker.stop());
    children.set('worker', worker);
    workerPid = worker.pid;
    await waitForWorker(world);
    console.log(`dispatching ${o.calls.toLocaleString('en-US')} calls…`);
    // Generous: ten times the ideal wall time, plus a minute.
    const ideal =
      (Math.ceil(o.calls / o.maxConcurrency) * Math.max(answeredCallMs(o.simTimeScale), o.tickIntervalMs)) /
      1000;
    report.dispatch = await runDispatch(
      world,
      api,
      sim,
      agency,
      {
        calls: o.calls,
        maxConcurrency: o.maxConcurrency,
        tickIntervalMs: o.tickIntervalMs,
        simTimeScale: o.simTimeScale,
        timeoutSeconds: Math.ceil(ideal * 10 + 60),
        stallSeconds: o.stallSeconds,
      },
      cpu,
    );
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
  cleanups.push(() => destroyWorld(world));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping processes, dropping ${world.databaseName}…`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  const report: CampaignReport = {
    benchmark: 'campaign',
    at: new Date().toISOString(),
    machine,
    options: o,
    targets: [],
  };
  try {
    await prepareDatabase(world.databaseUrl, true);
    await run(o, world, report);
  } finally {
    await cleanUp();
  }
  report.targets = targetsOf(report);
  print(report);
  console.log(`\nresult: ${writeResult('campaign', report.at, report)}`);
  if (report.targets.filter(CORRECTNESS).some((t) => t.met === false)) process.exitCode = 1;
}

main().catch(async (err: Error) => {
  console.error(`bench:campaign failed: ${err.stack ?? err.message}`);
  for (const [name, child] of children) {
    const output = child.output().trim();
    if (output) console.error(`\n--- ${name} (last 4 KB of its output) ---\n${output.slice(-4_096)}`);
  }
  await cleanUp();
  process.exit(1);
});
