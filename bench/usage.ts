/**
 * `npm run bench:usage` — GET /api/v1/usage for an agency with 1,000,000 calls over 90 days
 * (docs/benchmarks.md#usage). Target: p99 ≤ 200 ms for every group_by over 30 and 90 days.
 *
 * A dedicated database (created and dropped here) is migrated; the API (APP_ROLE=api) and the
 * simulator start; the agency is set up through the CLI and the API (20 agents, 10 campaigns), and 10
 * other agencies through the CLI. The calls are then written in SQL (generate_series), with the
 * rollup trigger disabled and the rollups recounted once by call_usage_rebuild() — what the trigger
 * would have written one call at a time. Each case: 5 warm-up requests, then 50 timed, one at a time.
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { request } from 'undici';
import { prepareDatabase } from '../src/database/migrate';
import { setUpAgency } from './common/agency';
import { percentile } from './common/metrics';
import { AppProcess, freePort, startSimulator, startSwitchboard } from './common/processes';
import { host, machineLine, target, targetLines, writeResult } from './common/report';
import { BenchWorld, createWorld, destroyWorld } from './common/world';

const CALLS = Number(process.env.BENCH_USAGE_CALLS ?? 1_000_000);
const OTHER_AGENCIES = 10;
const OTHER_CALLS = Math.round(CALLS / 20);
const DAYS = 90;
const AGENTS = 20;
const CAMPAIGNS = 10;
const RUNS = 50;
const WARM_UP = 5;
const TARGET_P99_MS = 200;
const CLI_JS = join(__dirname, '..', 'src', 'cli.js');

/** One agency's calls over DAYS up to now: 70 % connected, the rest no_answer, busy, connection_error. */
const SEED_CALLS = `
  INSERT INTO calls (agency_id, agent_id, campaign_id, direction, status, failure_reason, phone_number,
                     ultravox_call_id, dialed_at, started_at, ended_at, duration_seconds,
                     billing_status, billed_duration_seconds, created_at, updated_at)
  SELECT $1::uuid,
         ($2::uuid[])[1 + i % array_length($2::uuid[], 1)],
         CASE WHEN i % 3 = 0 THEN NULL ELSE ($3::uuid[])[1 + i % array_length($3::uuid[], 1)] END,
         'outbound',
         CASE WHEN i % 10 < 7 THEN 'completed' ELSE 'failed' END,
         CASE i % 10 WHEN 7 THEN 'no_answer' WHEN 8 THEN 'busy' WHEN 9 THEN 'connection_error' END,
         '+1555' || lpad((i % 10000000)::text, 7, '0'),
         gen_random_uuid()::text, at, at, at + interval '2 minutes',
         CASE WHEN i % 10 < 7 THEN 30 + i % 300 END,
         CASE WHEN i % 10 < 7 THEN 'billed' ELSE 'free_zero_effective_duration' END,
         CASE WHEN i % 10 < 7 THEN 31 + i % 300 ELSE 0 END,
         at, at
    FROM generate_series(1, $4::int) i,
         LATERAL (SELECT now() - (i::float8 / $4::int) * interval '${DAYS} days' AS at) t`;

interface Case {
  groupBy: string;
  days: number;
  p50: number;
  p99: number;
  max: number;
  callsPlaced: number;
}

async function api<T>(base: string, path: string, token: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text) as T;
}

async function otherAgency(world: BenchWorld, n: number): Promise<string> {
  const env = { PATH: process.env.PATH ?? '', ...world.env, LOG_LEVEL: 'silent' };
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [CLI_JS, 'agency:create', '--name', `Other ${n}`, '--owner-email', `other${n}@bench.test`],
    { env },
  );
  return (JSON.parse(stdout) as { agency_id: string }).agency_id;
}

async function seed(world: BenchWorld, apiProc: AppProcess, simUrl: string): Promise<string> {
  const agency = await setUpAgency(world, apiProc.url, simUrl);
  const agents = [agency.agentId];
  for (let i = 1; i < AGENTS; i++) {
    const created = await api<{ data: { id: string } }>(
      apiProc.url,
      '/api/v1/agents',
      agency.ownerToken,
      'POST',
      {
        name: `Agent ${i}`,
        ultravox_agent_id: `00000001-0000-4000-8000-${String(i).padStart(12, '0')}`,
      },
    );
    agents.push(created.data.id);
  }
  const campaigns: string[] = [];
  for (let i = 0; i < CAMPAIGNS; i++) {
    const created = await api<{ data: { id: string } }>(
      apiProc.url,
      '/api/v1/campaigns',
      agency.ownerToken,
      'POST',
      {
        name: `Campaign ${i}`,
      },
    );
    campaigns.push(created.data.id);
  }
  const others: string[] = [];
  for (let i = 0; i < OTHER_AGENCIES; i++) others.push(await otherAgency(world, i));

  const db = new Client({ connectionString: world.databaseUrl });
  await db.connect();
  try {
    const started = Date.now();
    await db.query('ALTER TABLE calls DISABLE TRIGGER calls_usage_insert');
    await db.query(SEED_CALLS, [agency.agencyId, agents, campaigns, CALLS]);
    for (const other of others) await db.query(SEED_CALLS, [other, [null], [null], OTHER_CALLS]);
    await db.query('ALTER TABLE calls ENABLE TRIGGER calls_usage_insert');
    await db.query('SELECT call_usage_rebuild()');
    await db.query('VACUUM ANALYZE calls, call_usage_quarters, call_usage_days');
    const sizes = await db.query<{ quarters: string; days: string }>(
      `SELECT (SELECT count(*) FROM call_usage_quarters) AS quarters, (SELECT count(*) FROM call_usage_days) AS days`,
    );
    console.log(
      `seeded ${CALLS} + ${OTHER_AGENCIES} × ${OTHER_CALLS} calls in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `rollup rows: ${sizes.rows[0].quarters} quarter-hours, ${sizes.rows[0].days} agent/campaign days`,
    );
  } finally {
    await db.end();
  }
  return agency.apiKey;
}

async function measure(base: string, apiKey: string, groupBy: string, days: number): Promise<Case> {
  const to = new Date();
  const from = new Date(to.getTime() - days * 24 * 60 * 60_000);
  const path = `/api/v1/usage?from=${from.toISOString()}&to=${to.toISOString()}&group_by=${groupBy}`;
  let callsPlaced = 0;
  const times: number[] = [];
  for (let i = 0; i < WARM_UP + RUNS; i++) {
    const started = performance.now();
    const report = await api<{ data: { totals: { calls_placed: number } } }>(base, path, apiKey);
    if (i >= WARM_UP) times.push(performance.now() - started);
    callsPlaced = report.data.totals.calls_placed;
  }
  times.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    groupBy,
    days,
    p50: round(percentile(times, 50)),
    p99: round(percentile(times, 99)),
    max: round(times[times.length - 1]),
    callsPlaced,
  };
}

async function main(): Promise<void> {
  const machine = await host();
  const world = await createWorld();
  const sim = await startSimulator();
  let apiProc: AppProcess | undefined;
  try {
    await prepareDatabase(world.databaseUrl, true);
    apiProc = await startSwitchboard(world, {
      APP_ROLE: 'api',
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      ULTRAVOX_API_BASE_URL: sim.url,
      API_RATE_LIMIT_PER_MINUTE: '0',
    });
    const apiKey = await seed(world, apiProc, sim.url);
    const cases: Case[] = [];
    for (const days of [30, 90]) {
      for (const groupBy of ['day', 'agent', 'campaign'])
        cases.push(await measure(apiProc.url, apiKey, groupBy, days));
    }
    const at = new Date().toISOString();
    const targets = cases.map((c) =>
      target(
        `usage ${c.groupBy} over ${c.days} days p99 (ms)`,
        `≤ ${TARGET_P99_MS}`,
        c.p99,
        (v) => v <= TARGET_P99_MS,
      ),
    );
    console.log(machineLine('bench:usage', machine));
    console.log(
      `load average at the end: ${(await import('node:os'))
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log('group_by  days  calls placed   p50 ms   p99 ms   max ms');
    for (const c of cases) {
      console.log(
        `${c.groupBy.padEnd(9)} ${String(c.days).padStart(4)}  ${String(c.callsPlaced).padStart(12)} ${String(c.p50).padStart(8)} ${String(c.p99).padStart(8)} ${String(c.max).padStart(8)}`,
      );
    }
    console.log(targetLines(targets).join('\n'));
    console.log(
      `\nresult: ${writeResult('usage', at, { benchmark: 'usage', at, machine, calls: CALLS, cases, targets })}`,
    );
  } finally {
    await apiProc?.stop();
    await sim.stop();
    await destroyWorld(world);
  }
}

main().catch((err: Error) => {
  console.error(`bench:usage failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
