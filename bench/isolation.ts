/**
 * `npm run bench:isolation` — one agency's dead or slow webhook endpoint must not delay another's
 * (issue 12; docs/benchmarks.md#isolation).
 *
 * Two workers (`node dist/src/main.js`, APP_ROLE=worker, default settings) deliver; this process emits
 * through the real outbox (a Nest context, APP_ROLE=api) and runs both receivers. Agency B's endpoint
 * answers at once; agency A's hangs (phase "A hangs") and then answers after 3 s ("A slow"). In each
 * phase A gets 2,000 events at once while B gets 200 at 20/s; B's latency (event emitted → received)
 * is compared with B alone. Afterwards every one of A's deliveries is accounted for (none lost).
 * Targets: B's p99 ≤ 1 s while A hangs and while A is slow; B's p50 within 2× of B alone.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { AgenciesService } from '../src/agencies/agencies.service';
import { AppModule } from '../src/app.module';
import { buildAppConfig } from '../src/config/app-config';
import { prepareDatabase } from '../src/database/migrate';
import { WebhookOutbox } from '../src/webhooks/delivery/webhook-outbox.service';
import { WebhookEndpointsService } from '../src/webhooks/endpoints/webhook-endpoints.service';
import { busyShare, machine, memoryOf, percentile } from './common/metrics';
import { AppProcess, startSwitchboard } from './common/processes';
import { writeResult } from './common/report';
import { createWorld, destroyWorld, serviceVersions } from './common/world';

const A_EVENTS = 2_000;
const B_EVENTS = 200;
const B_RATE = 20;
const SLOW_MS = 3_000;

type Mode = 'ok' | 'hang' | 'slow';

/** A receiver in this process: records when each event arrived (ms since it was emitted). */
class Receiver {
  mode: Mode = 'ok';
  readonly latencies = new Map<string, number>();
  private readonly held = new Set<() => void>();
  private server?: Server;

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { seq: string; sent_at: number };
        if (!this.latencies.has(body.seq)) this.latencies.set(body.seq, performance.now() - body.sent_at);
        const reply = () => res.writeHead(204).end();
        if (this.mode === 'ok') reply();
        else if (this.mode === 'slow') setTimeout(reply, SLOW_MS).unref();
        else this.held.add(reply);
        res.on('close', () => this.held.delete(reply));
      });
    });
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

async function main(): Promise<void> {
  const busyBeforeStart = await busyShare(2_000);
  if (busyBeforeStart > 0.1)
    console.warn(`warning: ${Math.round(busyBeforeStart * 100)}% of the CPU was busy before the start`);
  const world = await createWorld();
  const workers: AppProcess[] = [];
  const a = await new Receiver().start();
  const b = await new Receiver().start();
  Object.assign(process.env, world.env, { APP_ROLE: 'api' });
  await prepareDatabase(world.databaseUrl, true);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(buildAppConfig(process.env)), {
    logger: ['error', 'warn'],
  });
  try {
    await app.init();
    const agencies = app.get(AgenciesService);
    const endpoints = app.get(WebhookEndpointsService);
    const outbox = app.get(WebhookOutbox);
    const agencyWith = async (name: string, url: string) => {
      const { agency } = await agencies.createAgency(
        name,
        `${name.replace(/\W/g, '')}-${world.redisPrefix.slice(6)}@bench.test`,
      );
      await endpoints.create(agency.id, { url, events: ['call.completed'] });
      return agency.id;
    };
    const agencyA = await agencyWith('Agency A', `${a.url}/a`);
    const agencyB = await agencyWith('Agency B', `${b.url}/b`);
    for (let i = 0; i < 2; i++) workers.push(await startSwitchboard(world, { APP_ROLE: 'worker' }));

    let seq = 0;
    const emit = (agencyId: string, label: string) =>
      outbox.emit(agencyId, 'call.completed', { seq: `${label}-${seq++}`, sent_at: performance.now() });
    /** B's events at B_RATE a second; resolves when all have arrived. */
    const runB = async (label: string) => {
      const start = performance.now();
      const keys: string[] = [];
      for (let i = 0; i < B_EVENTS; i++) {
        const wait = start + (i * 1000) / B_RATE - performance.now();
        if (wait > 0) await sleep(wait);
        keys.push(`${label}-${seq}`);
        void emit(agencyB, label);
      }
      while (!keys.every((k) => b.latencies.has(k))) await sleep(20);
      return stats(keys.map((k) => b.latencies.get(k) ?? NaN));
    };
    const flood = async (label: string) => {
      for (let i = 0; i < A_EVENTS; i += 100) {
        await Promise.all(Array.from({ length: 100 }, () => emit(agencyA, label)));
      }
    };

    await runB('warmup');
    const alone = await runB('alone');
    a.mode = 'hang';
    const [, whileHanging] = await Promise.all([flood('a-hang'), runB('while-a-hangs')]);
    a.mode = 'slow';
    const [, whileSlow] = await Promise.all([flood('a-slow'), runB('while-a-slow')]);

    const db = new Client({ connectionString: world.databaseUrl });
    await db.connect();
    const byState = await db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE agency_id = $1 GROUP BY status',
      [agencyA],
    );
    await db.end();
    const aDeliveries = Object.fromEntries(byState.rows.map((r) => [r.status, r.n]));
    const workerRssMb = workers.map((w) => Math.round(memoryOf(w.pid)?.hwmMb ?? NaN));
    const report = {
      at: new Date().toISOString(),
      host: { ...machine(), ...(await serviceVersions()), busyBeforeStart },
      settings: { aEvents: A_EVENTS, bEvents: B_EVENTS, bRate: B_RATE, slowMs: SLOW_MS, workers: 2 },
      bLatencyMs: { alone, whileHanging, whileSlow },
      aDeliveries,
      aTotal: Object.values(aDeliveries).reduce((n, v) => n + v, 0),
      workerPeakRssMb: workerRssMb,
    };
    const targets = [
      ['B p99 while A hangs (ms)', whileHanging.p99, whileHanging.p99 <= 1_000, '<= 1000'],
      ['B p99 while A is slow (ms)', whileSlow.p99, whileSlow.p99 <= 1_000, '<= 1000'],
      [
        'B p50 while A hangs / alone',
        whileHanging.p50 / alone.p50,
        whileHanging.p50 <= 2 * alone.p50,
        '<= 2',
      ],
      ['B p50 while A is slow / alone', whileSlow.p50 / alone.p50, whileSlow.p50 <= 2 * alone.p50, '<= 2'],
      ["A's deliveries accounted for", report.aTotal, report.aTotal === 2 * A_EVENTS, `= ${2 * A_EVENTS}`],
    ] as const;
    console.log(
      `\nWebhook isolation benchmark — ${machine().cpus} × ${machine().cpuModel}, Node ${process.version}`,
    );
    console.log(`B latency ms (event emitted → received): ${JSON.stringify(report.bLatencyMs)}`);
    console.log(
      `A's deliveries by state: ${JSON.stringify(aDeliveries)}; worker peak RSS MB: ${workerRssMb.join(', ')}`,
    );
    for (const [name, value, met, target] of targets) {
      console.log(
        `${met ? ' MET ' : 'MISSED'} ${name.padEnd(34)} ${String(Math.round(value * 100) / 100).padStart(8)}  (target ${target})`,
      );
    }
    console.log(`\nresult: ${writeResult('isolation', report.at, { ...report, targets })}`);
    if (targets.some(([, , met]) => !met)) process.exitCode = 1;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await app.close();
    await a.close();
    await b.close();
    await destroyWorld(world);
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
