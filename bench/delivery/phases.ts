/** One measured phase: tell the receiver what to expect, emit, wait for every receipt, measure. */
import { messageFrom, Proc } from '../common/processes';
import { countersSince, postgresCounters } from '../common/world';
import { EmitRun } from './emitter';
import { CpuMeter, percentile } from '../common/metrics';
import type { PhaseReceipts, ReceiverMessage } from './protocol';

export interface PhaseResult {
  phase: string;
  events: number;
  complete: boolean;
  received: number;
  duplicates: number;
  verifyFailures: number;
  emitErrors: number;
  firstEmitError: string | null;
  /** Events emitted per second (first emit-call start to last emit-call end). */
  emitPerSec: number;
  emitSeconds: number;
  /** Distinct verified deliveries per second, first emit-call start to last receipt. */
  deliveriesPerSec: number;
  seconds: number;
  /** Distinct deliveries per second between the first and the last receipt (the drain rate). */
  receiptsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  maxEmitLagMs: number;
  /** Distinct deliveries received in each second of the phase. */
  receivedPerSecond: number[];
  /**
   * CPU seconds per process group over the phase (`other`: processes outside the benchmark, `idle`: no
   * one), and the busy share of the machine.
   */
  cpuSeconds: Record<string, number>;
  cpuUtilisation: number;
  /** True when processes outside the benchmark used over 7.5% of the machine: the figures are not clean. */
  disturbed: boolean;
  /** Deltas of pg_stat_database (benchmark db) and pg_stat_wal (whole server) per event. */
  postgresPerEvent?: Record<string, number>;
}

export interface PhaseSetup {
  receiver: Proc;
  cpu: CpuMeter;
  cores: number;
  timeoutMs: number;
  /** Benchmark database to read pg_stat_database of; none for the reference. */
  databaseName?: string;
}

/**
 * Share of the machine that processes outside the benchmark may use before a phase counts as disturbed
 * (kernel threads and our own loopback traffic show there even on a quiet machine:
 * docs/benchmarks.md#how-they-run).
 */
const DISTURBED_SHARE = 0.075;

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function expect(receiver: Proc, phase: string, count: number): Promise<void> {
  const ack = messageFrom<ReceiverMessage>(receiver, (m) => m.type === 'expecting' && m.phase === phase);
  receiver.process.send({ type: 'expect', phase, count });
  await ack;
}

async function status(receiver: Proc, phase: string): Promise<PhaseReceipts> {
  const answer = messageFrom<ReceiverMessage>(
    receiver,
    (m) => m.type === 'status' && m.receipts.phase === phase,
  );
  receiver.process.send({ type: 'status', phase });
  return ((await answer) as { receipts: PhaseReceipts }).receipts;
}

async function latencies(receiver: Proc, phase: string): Promise<{ values: number[]; perSecond: number[] }> {
  const answer = messageFrom<ReceiverMessage>(receiver, (m) => m.type === 'latencies' && m.phase === phase);
  receiver.process.send({ type: 'latencies', phase });
  const { values, perSecond } = (await answer) as { values: number[]; perSecond: number[] };
  return { values: values.sort((a, b) => a - b), perSecond };
}

/** pg_stat_database is flushed by backends at most once a second; give it time before reading. */
const settleStats = () => new Promise((resolve) => setTimeout(resolve, 1_500));

export async function runPhase(
  setup: PhaseSetup,
  phase: string,
  events: number,
  emit: () => Promise<EmitRun>,
): Promise<PhaseResult> {
  const { receiver, cpu, databaseName } = setup;
  await expect(receiver, phase, events);
  const pgBefore = databaseName ? await postgresCounters(databaseName) : undefined;
  const cpuBefore = cpu.snapshot();
  const completed = messageFrom<ReceiverMessage>(
    receiver,
    (m) => m.type === 'complete' && m.receipts.phase === phase,
    setup.timeoutMs,
  ).catch(() => null);
  const run = await emit();
  const done = await completed;
  const cpuSeconds = cpu.since(cpuBefore);
  const receipts = done ? (done as { receipts: PhaseReceipts }).receipts : await status(receiver, phase);
  const endNs = receipts.lastNs ? BigInt(receipts.lastNs) : process.hrtime.bigint();
  const seconds = Number(endNs - run.startNs) / 1e9;
  const { values: sorted, perSecond } = await latencies(receiver, phase);
  const result: PhaseResult = {
    phase,
    events,
    complete: done !== null,
    received: receipts.unique,
    duplicates: receipts.duplicates,
    verifyFailures: receipts.verifyFailures,
    emitErrors: run.errors,
    firstEmitError: run.firstError,
    emitPerSec: round(events / (Number(run.endNs - run.startNs) / 1e9)),
    emitSeconds: round(Number(run.endNs - run.startNs) / 1e9, 2),
    deliveriesPerSec: round(receipts.unique / seconds),
    seconds: round(seconds, 2),
    receiptsPerSec:
      receipts.firstNs && receipts.lastNs
        ? round(receipts.unique / (Number(BigInt(receipts.lastNs) - BigInt(receipts.firstNs)) / 1e9))
        : 0,
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? NaN),
    },
    maxEmitLagMs: round(run.maxLagMs),
    receivedPerSecond: perSecond,
    cpuSeconds,
    cpuUtilisation: round(1 - (cpuSeconds.idle ?? 0) / (seconds * setup.cores), 2),
    disturbed: (cpuSeconds.other ?? 0) / (seconds * setup.cores) > DISTURBED_SHARE,
  };
  if (databaseName && pgBefore) {
    await settleStats();
    const delta = countersSince(pgBefore, await postgresCounters(databaseName));
    result.postgresPerEvent = Object.fromEntries(
      Object.entries(delta).map(([key, value]) => [key, round(value / events, 2)]),
    );
  }
  return result;
}
