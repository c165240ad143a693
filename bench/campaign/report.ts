/** What bench:campaign prints: machine, the import, the dispatch with each call's segments, targets. */
import type { Host, Target } from '../common/report';
import { machineLine, target, targetLines } from '../common/report';
import type { PhoneStyle } from './csv';
import { DispatchResult, Distribution, Segment, SEGMENTS, Stall } from './dispatch-phase';
import type { ImportResult } from './import-phase';

export interface CampaignOptions {
  phones: PhoneStyle;
  contacts: number;
  calls: number;
  maxConcurrency: number;
  tickIntervalMs: number;
  simTimeScale: number;
  agencyCap: number;
  stallSeconds: number;
  import: boolean;
  dispatch: boolean;
  apiNodeArgs: string[];
  workerNodeArgs: string[];
}

export interface CampaignReport {
  benchmark: 'campaign';
  at: string;
  machine: Host;
  options: CampaignOptions;
  import?: ImportResult;
  dispatch?: DispatchResult;
  targets: Target[];
}

export const IMPORT_SECONDS_TARGET = 10;
export const API_RSS_TARGET_MB = 300;

export function targetsOf(r: CampaignReport): Target[] {
  const targets: Target[] = [];
  const i = r.import;
  if (i) {
    targets.push(
      target(
        `import ${i.rows.toLocaleString('en-US')} rows (s)`,
        `<= ${IMPORT_SECONDS_TARGET}`,
        i.status === 200 ? i.seconds : null,
        (v) => v <= IMPORT_SECONDS_TARGET,
      ),
      target('API peak RSS (MB)', `<= ${API_RSS_TARGET_MB}`, i.api.peakRssMb, (v) => v <= API_RSS_TARGET_MB),
      target('import: accepted', `= ${i.rows}`, i.report.accepted, (v) => v === i.rows),
      target('import: rows in the table', `= ${i.rows}`, i.rowsInTable, (v) => v === i.rows),
    );
  }
  const d = r.dispatch;
  if (d) {
    targets.push(
      target('dispatch: finished (no stall)', 'yes (1)', d.stalled ? 0 : 1, (v) => v === 1),
      target('dispatch: contacts completed', `= ${d.calls}`, d.stats.completed ?? 0, (v) => v === d.calls),
      target(
        'dispatch: max live calls',
        `<= ${d.maxConcurrency}`,
        d.simMaxLive,
        (v) => v <= d.maxConcurrency,
      ),
      target('dispatch: calls not fully traced', '= 0', d.stalled ? null : d.incomplete, (v) => v === 0),
    );
  }
  return targets;
}

/** The targets about correctness: failing one fails the command (performance is reported, not enforced). */
export const CORRECTNESS = (t: Target) => t.name.includes(':');

const SEGMENT_LABELS: Record<Segment, string> = {
  enqueue: '  created → dial job added (tick commits, then enqueues)',
  pickup: '  job added → taken by a free dial slot of the worker',
  pool: '  job taken → claim transaction began (a pool connection)',
  queue: 'created → claim began (the three above)',
  lock: 'claim began → past the per-agency lock and checks',
  dial: 'marked dialing → simulator created the call (commit, HTTP)',
  live: 'live on the simulator (its own call length)',
  webhook: 'simulator ended → API stored call.ended',
  process: 'call.ended stored → call completed (job, transcript fetch)',
  settle: 'call completed → contact settled by a tick',
  slot: 'slot held: created → settled',
  overhead: 'dispatch overhead = slot − live',
};

const cell = (value: unknown, width: number) => String(value ?? '-').padStart(width);
const distRow = (label: string, d: Distribution) =>
  `  ${label.padEnd(10)}${cell(d.p50, 9)}${cell(d.p90, 9)}${cell(d.p99, 9)}${cell(d.max, 9)}${cell(d.mean, 9)}`;
const cpuLine = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .map(([name, seconds]) => `${name} ${seconds}s`)
    .join(', ');

function stallLines(s: Stall): string[] {
  return [
    '',
    `  STALLED ${s.afterSeconds} s after start` +
      (s.quietSeconds ? ` (nothing settled, ended or dialed for ${s.quietSeconds} s)` : ' (out of time)') +
      `: calls ${JSON.stringify(s.calls)}, contacts ${JSON.stringify(s.contacts)}`,
    '  Postgres sessions of the benchmark database (state, wait, count, oldest transaction, a query):',
    ...s.sessions.map(
      (x) =>
        `    ${x.state.padEnd(20)} ${x.wait.padEnd(22)} ${cell(x.n, 3)} ${cell(x.oldestXactSeconds, 5)} s  ${x.query}`,
    ),
  ];
}

export function print(r: CampaignReport): void {
  const lines: string[] = ['', machineLine('Campaign benchmark', r.machine)];
  const i = r.import;
  if (i) {
    lines.push(
      '',
      `IMPORT — ${i.rows.toLocaleString('en-US')} contacts, ${(i.bytes / 1024 / 1024).toFixed(1)} MB of CSV ` +
        `(phone,name,email,company,plan; ${r.options.phones === 'us' ? 'US numbers of 40 area codes' : 'fictional +1 555 numbers'}), ` +
        'POST /api/v1/campaigns/:id/contacts, Content-Type: text/csv',
      `  answer ${i.status}${i.error ? ` ${i.error}` : ''} after ${i.seconds} s (${i.rowsPerSec.toLocaleString('en-US')} rows/s); ` +
        `body sent in ${i.sendSeconds} s, answer ${i.tailSeconds} s after the last byte`,
      `  report: accepted ${i.report.accepted}, duplicates ${i.report.duplicates}, rejected ${i.report.rejected}, ` +
        `skipped (DNC) ${i.report.skippedDnc}; rows in campaign_contacts ${i.rowsInTable}`,
      `  API memory: VmHWM ${i.api.hwmBeforeMb} MB before → ${i.api.peakRssMb} MB after ` +
        `(max sampled VmRSS ${i.api.sampledMaxRssMb} MB, ${i.api.rssAfterMb} MB after)`,
      `  cpu: ${cpuLine(i.cpuSeconds)}`,
      `  postgres: ${i.postgres.xact_commit} commits, ${i.postgres.tup_inserted} rows inserted, ` +
        `${Math.round(i.postgres.wal_bytes / 1024 / 1024)} MB WAL`,
    );
  }
  const d = r.dispatch;
  if (d) {
    lines.push(
      '',
      `DISPATCH — ${d.calls} contacts, max_concurrency ${d.maxConcurrency}, CAMPAIGN_TICK_INTERVAL_MS ${d.tickIntervalMs}, ` +
        `MAX_CONCURRENT_CALLS_PER_AGENCY ${r.options.agencyCap}; simulator time scale ${d.simTimeScale} ` +
        `(an answered call is live ${d.simCallMs} ms), one worker`,
      `  ${d.campaignStatus} ${d.stalled ? 'after' : 'in'} ${d.wallSeconds} s (started_at → ${d.stalled ? 'stall' : 'finished_at'}): ` +
        `${d.callsPerSec} calls/s; ` +
        `stats ${JSON.stringify(d.stats)}`,
      ...(d.stalled
        ? []
        : [
            `  ideal ${d.idealWallSeconds} s (ceil(calls / max_concurrency) × live) → efficiency ${Math.round(d.efficiency * 100)}%, ` +
              `amortised overhead ${d.amortisedOverheadMs} ms per call`,
            `  first call on the simulator ${d.firstDialMs} ms after start; slots in use on average ${d.meanSlotsInUse} ` +
              `of ${d.maxConcurrency}, calls live on average ${d.meanLiveCalls} (max live ${d.simMaxLive}, ` +
              `max in_progress polled ${d.polledMaxInProgress})`,
          ]),
      `  calls created per second: ${d.dialsPerSecond.join(' ')}`,
      ...(d.stalled ? stallLines(d.stalled) : []),
      ...(d.segmentsMs.slot.p50 === null || Number.isNaN(d.segmentsMs.slot.p50)
        ? []
        : [
            '',
            `  per call (ms) ${'p50'.padStart(6)}${'p90'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}${'mean'.padStart(9)}` +
              (d.stalled ? '   (the calls that were settled before the stall)' : ''),
            ...SEGMENTS.map((key) => `${distRow(key, d.segmentsMs[key])}   ${SEGMENT_LABELS[key]}`),
            `  (enqueue, pickup, pool: the last ${d.jobsTraced} calls, whose dial jobs BullMQ keeps)`,
            `  gap between consecutive claims (per-agency lock turns): p50 ${d.claimGapMs.p50} ms, ` +
              `p90 ${d.claimGapMs.p90} ms, mean ${d.claimGapMs.mean} ms`,
            '',
            `  cpu: ${cpuLine(d.cpuSeconds)}`,
            `  cpu ms per call: ${cpuLine(d.cpuMsPerCall).replace(/s(,|$)/g, '$1')}`,
            `  postgres per call: ` +
              ['xact_commit', 'tup_inserted', 'tup_updated', 'tup_fetched', 'wal_records', 'wal_bytes']
                .map((k) => `${k} ${d.postgresPerCall[k]}`)
                .join(', '),
          ]),
    );
  }
  lines.push('', ...targetLines(r.targets));
  if (d && !d.stalled) {
    lines.push(
      `  info   dispatch overhead per call (ms)  p50 ${d.segmentsMs.overhead.p50}, p90 ${d.segmentsMs.overhead.p90}; ` +
        `amortised ${d.amortisedOverheadMs}; ${d.callsPerSec} calls/s`,
    );
  }
  console.log(lines.join('\n'));
}
