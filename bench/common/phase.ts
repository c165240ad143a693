/** One measured load phase: the load result plus where the machine's CPU went and Postgres work per request. */
import { countersSince, postgresCounters } from './world';
import { CpuMeter } from './metrics';
import { LoadOptions, LoadResult, runLoad } from './load';

export interface PhaseResult extends LoadResult {
  phase: string;
  /** CPU seconds per process group (`other`: processes outside the benchmark; `idle`: no one). */
  cpuSeconds: Record<string, number>;
  /** Busy share of the whole machine during the phase. */
  cpuUtilisation: number;
  /**
   * CPU milliseconds per successful request of each benchmark process group: less sensitive than req/s to
   * what else runs on the machine (`other`), so the figure to compare between runs and code versions.
   */
  cpuMsPerRequest: Record<string, number>;
  /**
   * Share of the machine used by processes outside the benchmark during the phase. Above
   * NOISY_OTHER_SHARE the phase competed with someone else's work and its figures are not comparable.
   */
  otherShare: number;
  /** pg_stat_database (benchmark db) and pg_stat_wal deltas per successful request. */
  postgresPerRequest?: Record<string, number>;
}

export interface PhaseContext {
  cpu: CpuMeter;
  cores: number;
  /** Database whose pg_stat_database counters are read; none = not read. */
  databaseName?: string;
}

/** Other processes using more than this share of the machine make a phase's figures unreliable. */
export const NOISY_OTHER_SHARE = 0.1;

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** pg_stat_database is flushed by backends at most once a second; give it time before reading. */
const settleStats = () => new Promise((resolve) => setTimeout(resolve, 1_500));

export async function measurePhase(
  phase: string,
  context: PhaseContext,
  load: LoadOptions,
): Promise<PhaseResult> {
  const pgBefore = context.databaseName ? await postgresCounters(context.databaseName) : undefined;
  const cpuBefore = context.cpu.snapshot();
  const result = await runLoad(load);
  const cpuSeconds = context.cpu.since(cpuBefore);
  const measured: PhaseResult = {
    phase,
    ...result,
    cpuSeconds,
    cpuUtilisation: round(1 - (cpuSeconds.idle ?? 0) / (result.seconds * context.cores)),
    otherShare: round((cpuSeconds.other ?? 0) / (result.seconds * context.cores)),
    cpuMsPerRequest: Object.fromEntries(
      Object.entries(cpuSeconds)
        .filter(([name]) => name !== 'idle' && name !== 'other' && name !== 'steal')
        .map(([name, seconds]) => [name, round((seconds * 1000) / Math.max(1, result.ok), 3)]),
    ),
  };
  if (context.databaseName && pgBefore) {
    await settleStats();
    const delta = countersSince(pgBefore, await postgresCounters(context.databaseName));
    measured.postgresPerRequest = Object.fromEntries(
      Object.entries(delta).map(([key, value]) => [key, round(value / Math.max(1, result.ok))]),
    );
  }
  return measured;
}
