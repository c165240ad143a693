/**
 * Import phase: one CSV of N contacts POSTed to a draft campaign of a real API process. Timed from the
 * first byte sent to the end of the 200 answer; the API's peak RSS is its VmHWM (/proc/<pid>/status),
 * also sampled every 50 ms during the upload; CPU per process group and Postgres work are measured
 * around the request. The report must say accepted = N, and the table must hold N rows.
 */
import type { BenchWorld } from '../common/world';
import { countersSince, postgresCounters } from '../common/world';
import { CpuMeter, memoryOf, RssSampler } from '../common/metrics';
import { countRows } from '../common/state';
import { createCampaign, ImportReport, uploadCsv } from './api';
import { contactList, PhoneStyle } from './csv';

export interface ImportResult {
  rows: number;
  bytes: number;
  status: number;
  error: string | null;
  seconds: number;
  rowsPerSec: number;
  /** First → last byte sent, and last byte sent → answer (the server's work after the body ended). */
  sendSeconds: number;
  tailSeconds: number;
  report: Pick<ImportReport, 'accepted'> & { duplicates: number; rejected: number; skippedDnc: number };
  rowsInTable: number;
  api: {
    /** VmHWM before the import: boot and setup. */
    hwmBeforeMb: number;
    /** VmHWM after it: the figure of the target. */
    peakRssMb: number;
    /** Highest VmRSS sampled during the import, and VmRSS once it answered. */
    sampledMaxRssMb: number;
    rssAfterMb: number;
  };
  cpuSeconds: Record<string, number>;
  /** pg_stat_database (benchmark db) and pg_stat_wal deltas over the import. */
  postgres: Record<string, number>;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function runImport(
  world: BenchWorld,
  api: { url: string; pid: number },
  apiKey: string,
  rows: number,
  phones: PhoneStyle,
  cpu: CpuMeter,
): Promise<ImportResult> {
  const list = contactList(rows, 1_234_567, 42, phones);
  const campaign = await createCampaign(api.url, apiKey, `Import ${rows.toLocaleString('en-US')}`, 5);
  const before = memoryOf(api.pid);
  const sampler = new RssSampler(api.pid, 50);
  const pgBefore = await postgresCounters(world.databaseName);
  const cpuBefore = cpu.snapshot();
  const upload = await uploadCsv(api.url, apiKey, campaign.id, list.csv);
  const cpuSeconds = cpu.since(cpuBefore);
  const sampledMax = sampler.stop();
  const after = memoryOf(api.pid);
  // pg_stat_database is flushed by backends at most once a second.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const postgres = countersSince(pgBefore, await postgresCounters(world.databaseName));
  const rowsInTable = await countRows(
    world,
    'SELECT count(*) FROM campaign_contacts WHERE campaign_id = $1',
    [campaign.id],
  );
  const r = upload.report;
  return {
    rows,
    bytes: list.csv.length,
    status: upload.status,
    error: upload.error,
    seconds: round(upload.ms / 1000, 3),
    rowsPerSec: Math.round(rows / (upload.ms / 1000)),
    sendSeconds: round(upload.sendMs / 1000, 3),
    tailSeconds: round(upload.tailMs / 1000, 3),
    report: {
      accepted: r?.accepted ?? 0,
      duplicates: r?.duplicates.count ?? 0,
      rejected: r?.rejected.count ?? 0,
      skippedDnc: r?.skipped_dnc.count ?? 0,
    },
    rowsInTable,
    api: {
      hwmBeforeMb: Math.round(before?.hwmMb ?? NaN),
      peakRssMb: Math.round(after?.hwmMb ?? NaN),
      sampledMaxRssMb: Math.round(sampledMax),
      rssAfterMb: Math.round(after?.rssMb ?? NaN),
    },
    cpuSeconds,
    postgres,
  };
}
