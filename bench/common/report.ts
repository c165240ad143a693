/** What the HTTP benchmarks print and store: machine, phases, targets; JSON in bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { REDIS_URL, withAdmin } from './world';
import { busyShare, machine, Machine } from './metrics';
import { NOISY_OTHER_SHARE, type PhaseResult } from './phase';

export interface Host extends Machine {
  postgres: string;
  redis: string;
  /** Share of the CPU busy in the 2 s before the benchmark started (someone else's load). */
  busyBeforeStart: number;
}

export async function host(): Promise<Host> {
  const postgres = await withAdmin(
    async (admin) => (await admin.query('SHOW server_version')).rows[0].server_version,
  );
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const info = await redis.info('server');
  redis.disconnect();
  return {
    ...machine(),
    postgres: String(postgres),
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    busyBeforeStart: await busyShare(2_000),
  };
}

export interface Target {
  name: string;
  goal: string;
  value: number | null;
  met: boolean | null;
}

export function target(
  name: string,
  goal: string,
  value: number | null | undefined,
  met: (v: number) => boolean,
): Target {
  const known = value !== null && value !== undefined && !Number.isNaN(value);
  return { name, goal, value: known ? value : null, met: known ? met(value) : null };
}

const cell = (value: unknown, width: number) => String(value ?? '-').padStart(width);

export function phaseHeader(): string {
  return (
    `${'phase'.padEnd(26)}${'conns'.padStart(6)}${'ok'.padStart(8)}${'errors'.padStart(7)}${'req/s'.padStart(9)}` +
    `${'p50 ms'.padStart(8)}${'p90 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'max ms'.padStart(8)}`
  );
}

export function phaseRows(label: string, phase: PhaseResult | undefined): string[] {
  if (!phase) return [];
  const cpu = Object.entries(phase.cpuSeconds)
    .map(([name, seconds]) => `${name} ${seconds}s`)
    .join(', ');
  const errors = phase.errors
    ? `  errors: ${JSON.stringify(phase.errorsByStatus)} first: ${phase.firstError}`
    : '';
  return [
    `${label.padEnd(26)}${cell(phase.connections, 6)}${cell(phase.ok, 8)}${cell(phase.errors, 7)}${cell(phase.perSec, 9)}` +
      `${cell(phase.latencyMs.p50, 8)}${cell(phase.latencyMs.p90, 8)}${cell(phase.latencyMs.p99, 8)}${cell(phase.latencyMs.max, 8)}`,
    `${''.padEnd(26)}cpu (${phase.seconds}s wall, ${Math.round(phase.cpuUtilisation * 100)}% of the machine): ${cpu}${errors}`,
    `${''.padEnd(26)}cpu ms per request: ` +
      Object.entries(phase.cpuMsPerRequest)
        .map(([name, ms]) => `${name} ${ms}`)
        .join(', '),
    ...(phase.postgresPerRequest
      ? [
          `${''.padEnd(26)}postgres per request: ` +
            ['xact_commit', 'tup_inserted', 'tup_updated', 'tup_fetched', 'wal_records', 'wal_bytes']
              .map((k) => `${k} ${phase.postgresPerRequest?.[k]}`)
              .join(', '),
        ]
      : []),
  ];
}

/** Warnings for measured phases that shared the machine with other work (their figures are not comparable). */
export function noiseLines(phases: (PhaseResult | undefined)[]): string[] {
  return phases
    .filter((p): p is PhaseResult => p !== undefined && p.otherShare > NOISY_OTHER_SHARE)
    .map(
      (p) =>
        `warning: other processes used ${Math.round(p.otherShare * 100)}% of the machine during "${p.phase}"; ` +
        'its figures (and any ratio using them) are not comparable — rerun on a quiet machine',
    );
}

export function machineLine(name: string, h: Host): string {
  return (
    `${name} — ${h.cpus} × ${h.cpuModel}, ${h.memTotalMb} MB, Node ${h.node}, Postgres ${h.postgres}, ` +
    `Redis ${h.redis}; CPU busy before start ${Math.round(h.busyBeforeStart * 100)}%`
  );
}

export function targetLines(targets: Target[]): string[] {
  return targets.map(
    (t) =>
      `${t.met === null ? '  ?   ' : t.met ? ' MET  ' : 'MISSED'} ${t.name.padEnd(34)} ${String(t.value).padStart(9)}  (target ${t.goal})`,
  );
}

/** bench/results/<name>-<timestamp>.json (gitignored); returns the path. */
export function writeResult(name: string, at: string, report: unknown): string {
  const dir = join(__dirname, '..', '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
