/**
 * `node dist/bench/metrics-overhead.js` (after `npm run build`) — what recording one event costs the
 * process that handles it, per Metrics method, in this process (docs/benchmarks.md#metrics). The
 * end-to-end comparison is bench:ingest and bench:delivery run with METRICS_ENABLED=true and =false;
 * this isolates the part they cannot resolve on a busy machine. Median of 7 rounds of 500,000 calls.
 */
import { Metrics } from '../src/metrics/metrics';
import { machine } from './common/metrics';

const ROUNDS = 7;
const CALLS = 500_000;
const ROUTES = ['/functions/v1/webhook-ingest/:agencyId/:secret', '/api/trigger-call', '/api/v1/calls/:id'];

function nsPerCall(record: (i: number) => void): number {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) record(i);
    rounds.push(Number(process.hrtime.bigint() - started) / CALLS);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
}

async function main(): Promise<void> {
  const m = machine();
  console.log(`metrics overhead — ${m.cpus} × ${m.cpuModel}, Node ${m.node}, load ${m.loadAverage1m}`);
  for (const enabled of [true, false]) {
    const metrics = new Metrics(enabled);
    const costs = {
      httpRequest: nsPerCall((i) => metrics.httpRequest('POST', ROUTES[i % 3], 204, 1.7)),
      deliveryAttempt: nsPerCall(() => metrics.deliveryAttempt({ ok: true, statusCode: 204, durationMs: 3 })),
      ultravoxRequest: nsPerCall(() => metrics.ultravoxRequest('create_call', 201, 40)),
      callEnded: nsPerCall(() => metrics.callEnded('failed', 'no_answer')),
      eventProcessed: nsPerCall(() => metrics.eventProcessed(new Date(Date.now() - 20))),
    };
    const started = performance.now();
    const text = await metrics.scrape();
    const scrapeMs = performance.now() - started;
    const line = Object.entries(costs).map(([name, ns]) => `${name} ${ns.toFixed(0)} ns`);
    console.log(
      `METRICS_ENABLED=${enabled}: ${line.join(', ')}; one scrape ${scrapeMs.toFixed(1)} ms, ${text.length} bytes`,
    );
  }
}

void main();
