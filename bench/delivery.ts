/**
 * `npm run bench:delivery` — webhook delivery throughput, latency and worker memory, against a bare
 * BullMQ + undici reference (docs/benchmarks.md#delivery).
 *
 * Processes: this one (the emitter: a Nest context with APP_ROLE=api emitting through the real outbox),
 * the worker under test (`node dist/src/main.js`, APP_ROLE=worker), the receiver, and later the
 * reference worker — each its own process, so none of them steals another's event loop.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { prepareDatabase } from '../src/database/migrate';
import { emitClosedLoop, emitOpenLoop, Emitter } from './delivery/emitter';
import { nodeArgs, wholeNumber } from './common/options';
import { forkProgram, messageFrom, Proc, startSwitchboard } from './common/processes';
import { BenchWorld, createWorld, destroyWorld, serviceVersions } from './common/world';
import {
  busyShare,
  CpuMeter,
  machine,
  memoryOf,
  pidsNamed,
  postgresPidsFor,
  RssSampler,
} from './common/metrics';
import { PhaseResult, PhaseSetup, runPhase } from './delivery/phases';
import type { ReceiverMessage } from './delivery/protocol';
import { printReport, Report, targetsOf } from './delivery/report';

/**
 * WEBHOOK_DELIVERY_CONCURRENCY's default (src/config/app-config.ts, raised from 100 by issue 12: a
 * delivery is I/O-bound), so the benchmark measures the service as deployed. The reference runs at the
 * same concurrency.
 */
const DEFAULT_CONCURRENCY = 200;
/** WEBHOOK_ENDPOINT_MAX_IN_FLIGHT's upper bound (src/config/env.schema.ts). */
const ENDPOINT_CAP_MAX = 1000;
const REFERENCE_QUEUE = 'bench-reference';

function options() {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: env.BENCH_EVENTS ?? '20000' },
      warmup: { type: 'string', default: env.BENCH_WARMUP ?? '1000' },
      'emit-parallel': { type: 'string', default: env.BENCH_EMIT_PARALLEL ?? '32' },
      rate: { type: 'string', default: env.BENCH_RATE ?? '500' },
      'latency-seconds': { type: 'string', default: env.BENCH_LATENCY_SECONDS ?? '10' },
      concurrency: {
        type: 'string',
        default: env.WEBHOOK_DELIVERY_CONCURRENCY ?? String(DEFAULT_CONCURRENCY),
      },
      'worker-node-args': { type: 'string', default: env.BENCH_WORKER_NODE_ARGS ?? '' },
      'worker-env': { type: 'string', multiple: true, default: [] },
      'no-reference': { type: 'boolean', default: env.BENCH_NO_REFERENCE === 'true' },
      drain: { type: 'boolean', default: env.BENCH_DRAIN === 'true' },
      'in-transaction': { type: 'boolean', default: env.BENCH_IN_TRANSACTION === 'true' },
      'timeout-seconds': { type: 'string', default: env.BENCH_TIMEOUT_SECONDS ?? '600' },
    },
  });
  const int = (name: keyof typeof values) => wholeNumber(name, values[name]);
  return {
    events: int('events'),
    warmup: int('warmup'),
    emitParallel: int('emit-parallel'),
    rate: int('rate'),
    latencySeconds: int('latency-seconds'),
    concurrency: int('concurrency'),
    workerNodeArgs: nodeArgs(values['worker-node-args']),
    /** Extra KEY=VALUE pairs for the worker's environment (experiments, e.g. PGOPTIONS). */
    workerEnv: Object.fromEntries(
      (values['worker-env'] as string[]).map((pair) => [
        pair.slice(0, pair.indexOf('=')),
        pair.slice(pair.indexOf('=') + 1),
      ]),
    ),
    reference: !values['no-reference'],
    drain: Boolean(values.drain),
    /** Each event inside a caller's transaction (`WebhookOutbox.transaction`) instead of on its own. */
    inTransaction: Boolean(values['in-transaction']),
    timeoutMs: int('timeout-seconds') * 1000,
  };
}
type Options = ReturnType<typeof options>;

async function waitUntil(check: () => Promise<boolean>, what: string, child: Proc, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (child.process.exitCode !== null) throw new Error(`${what}: process exited\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How the benchmark's deliveries ended up in Postgres, once the last records are written. */
async function deliveryRows(world: BenchWorld) {
  const db = new Client({ connectionString: world.databaseUrl });
  await db.connect();
  try {
    const query = `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                          count(*) FILTER (WHERE status = 'pending')::int AS pending,
                          count(*) FILTER (WHERE status = 'failed')::int AS failed,
                          coalesce(sum(attempt_count), 0)::int AS attempts
                     FROM webhook_deliveries`;
    for (let i = 0; i < 50; i++) {
      const row = (await db.query(query)).rows[0];
      if (row.pending === 0 || i === 49) return row;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await db.end();
  }
}

async function measureSwitchboard(o: Options, world: BenchWorld, emitter: Emitter, base: PhaseSetup) {
  const worker = await startSwitchboard(
    world,
    {
      APP_ROLE: 'worker',
      WEBHOOK_DELIVERY_CONCURRENCY: String(o.concurrency),
      ...o.workerEnv,
    },
    o.workerNodeArgs,
  );
  const pid = worker.pid;
  try {
    await waitUntil(async () => (await emitter.deliveryWorkers()) > 0, 'worker start', worker);
    const idleRssMb = Math.round(memoryOf(pid)?.rssMb ?? NaN);
    const setup = {
      ...base,
      cpu: new CpuMeter({
        worker: () => [pid],
        emitter: () => [process.pid],
        receiver: () => [base.receiver.pid],
        postgres: () => postgresPidsFor(world.databaseName),
        redis: () => pidsNamed('redis-server'),
      }),
    };
    const rss = new RssSampler(pid);
    const emit = o.inTransaction ? emitter.emitInTransaction : emitter.emitThroughOutbox;
    if (o.warmup > 0) {
      await runPhase(setup, 'warmup', o.warmup, () =>
        emitClosedLoop(emit, 'warmup', o.warmup, o.emitParallel),
      );
    }
    const throughput = await runPhase(setup, 'throughput', o.events, () =>
      emitClosedLoop(emit, 'throughput', o.events, o.emitParallel),
    );
    const count = o.rate * o.latencySeconds;
    const latency =
      count > 0
        ? await runPhase(setup, 'latency', count, () => emitOpenLoop(emit, 'latency', count, o.rate))
        : undefined;
    const memory = memoryOf(pid);
    const workerMemory = {
      idleRssMb,
      peakRssMb: Math.round(memory?.hwmMb ?? NaN),
      sampledMaxRssMb: Math.round(rss.stop()),
    };
    const drain = o.drain
      ? await runPhase(setup, 'drain', o.events, () =>
          emitter.whilePaused(() => emitClosedLoop(emit, 'drain', o.events, o.emitParallel)),
        )
      : undefined;
    return { throughput, latency, drain, deliveries: await deliveryRows(world), worker: workerMemory };
  } finally {
    await worker.stop();
  }
}

async function measureReference(
  o: Options,
  world: BenchWorld,
  emitter: Emitter,
  base: PhaseSetup,
  secret: string,
  url: string,
) {
  const reference = forkProgram('delivery/reference-worker', {
    REF_REDIS_URL: world.env.REDIS_URL,
    REF_PREFIX: `${world.redisPrefix}:ref`,
    REF_QUEUE: REFERENCE_QUEUE,
    REF_CONCURRENCY: String(o.concurrency),
    REF_TARGET_URL: url,
    REF_SECRET: secret,
  });
  try {
    await messageFrom<{ type: string }>(reference, (m) => m.type === 'ready');
    const setup = {
      ...base,
      databaseName: undefined,
      cpu: new CpuMeter({
        reference: () => [reference.pid],
        emitter: () => [process.pid],
        receiver: () => [base.receiver.pid],
        postgres: () => postgresPidsFor(world.databaseName),
        redis: () => pidsNamed('redis-server'),
      }),
    };
    const emit = emitter.emitReference;
    if (o.warmup > 0) {
      await runPhase(setup, 'ref-warmup', o.warmup, () =>
        emitClosedLoop(emit, 'ref-warmup', o.warmup, o.emitParallel),
      );
    }
    return await runPhase(setup, 'reference', o.events, () =>
      emitClosedLoop(emit, 'reference', o.events, o.emitParallel),
    );
  } finally {
    await reference.stop();
  }
}

async function main(): Promise<void> {
  const o = options();
  const host = { ...machine(), ...(await serviceVersions()), busyBeforeStart: await busyShare(2_000) };
  if (host.busyBeforeStart > 0.1) {
    console.warn(`warning: ${host.busyBeforeStart * 100}% of the CPU was busy before the benchmark started`);
  }
  const world = await createWorld();
  // One endpoint receives every event here: its in-flight cap is raised to the highest allowed, for
  // the emitter (whose outbox admits) and the worker alike, so that the phase measures the delivery
  // machinery, gate included, not the cap: a slot is held from admission to the attempt's end, queue
  // wait included, so a cap equal to the worker's concurrency would leave part of it idle. Isolation
  // at the default cap is bench:isolation's.
  world.env.WEBHOOK_ENDPOINT_MAX_IN_FLIGHT = String(ENDPOINT_CAP_MAX);
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`bench:delivery: ${signal}, dropping ${world.databaseName} and ${world.redisPrefix}:*`);
    void destroyWorld(world).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  let receiver: Proc | undefined;
  let emitter: Emitter | undefined;
  try {
    await prepareDatabase(world.databaseUrl, true);
    receiver = forkProgram('delivery/receiver');
    const { port } = (await messageFrom<ReceiverMessage>(receiver, (m) => m.type === 'listening')) as {
      port: number;
    };
    const url = `http://127.0.0.1:${port}/hook`;
    emitter = await Emitter.start(world, REFERENCE_QUEUE);
    const secret = await emitter.createEndpoint(url);
    const configured = messageFrom<ReceiverMessage>(receiver, (m) => m.type === 'configured');
    receiver.process.send({ type: 'configure', secret });
    await configured;
    const base: PhaseSetup = {
      receiver,
      cpu: new CpuMeter({}),
      cores: Number(host.cpus),
      timeoutMs: o.timeoutMs,
      databaseName: world.databaseName,
    };
    const switchboard = await measureSwitchboard(o, world, emitter, base);
    const reference: PhaseResult | undefined = o.reference
      ? await measureReference(o, world, emitter, base, secret, url)
      : undefined;
    const report: Report = {
      benchmark: 'webhook-delivery',
      at: new Date().toISOString(),
      machine: host,
      options: { ...o, concurrency: o.concurrency },
      switchboard,
      reference,
      ratio: reference
        ? Math.round((switchboard.throughput.deliveriesPerSec / reference.deliveriesPerSec) * 100) / 100
        : null,
      targets: [],
    };
    report.targets = targetsOf(report);
    printReport(report);
    const dir = join(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `delivery-${report.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nresult: ${file}`);
    if (!switchboard.throughput.complete || (reference && !reference.complete)) process.exitCode = 1;
  } finally {
    await emitter?.close().catch(() => undefined);
    receiver?.process.send({ type: 'exit' });
    await receiver?.stop(2_000);
    await destroyWorld(world);
  }
}

main().catch((err: Error) => {
  console.error(`bench:delivery failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
