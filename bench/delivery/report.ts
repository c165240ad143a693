/** The benchmark's result: the JSON written to bench/results, its targets, and the table printed. */
import type { Machine } from '../common/metrics';
import type { PhaseResult } from './phases';

export interface Report {
  benchmark: 'webhook-delivery';
  at: string;
  machine: Machine & { postgres: string; redis: string; busyBeforeStart: number };
  options: Record<string, unknown>;
  switchboard: {
    throughput: PhaseResult;
    latency?: PhaseResult;
    drain?: PhaseResult;
    deliveries?: { succeeded: number; pending: number; failed: number; attempts: number };
    /** RSS once the worker was up and idle, peak (VmHWM) after the throughput and latency phases, in MB. */
    worker: { idleRssMb: number; peakRssMb: number; sampledMaxRssMb: number };
  };
  reference?: PhaseResult;
  /** Switchboard deliveries/s ÷ reference deliveries/s. */
  ratio: number | null;
  targets: Target[];
}

export interface Target {
  name: string;
  goal: string;
  value: number | null;
  met: boolean | null;
}

/** The issue's targets for this 2-core machine. */
export function targetsOf(report: Report): Target[] {
  const { throughput, latency } = report.switchboard;
  const target = (
    name: string,
    goal: string,
    value: number | null | undefined,
    met: (v: number) => boolean,
  ) => ({
    name,
    goal,
    value: value ?? null,
    met: value === null || value === undefined || Number.isNaN(value) ? null : met(value),
  });
  return [
    target(
      'deliveries/s',
      '>= 1500',
      throughput.complete ? throughput.deliveriesPerSec : 0,
      (v) => v >= 1500,
    ),
    target('ratio to reference', '>= 0.5', report.ratio, (v) => v >= 0.5),
    target(`p99 latency at ${report.options.rate}/s (ms)`, '<= 250', latency?.latencyMs.p99, (v) => v <= 250),
    target('worker peak RSS (MB)', '<= 300', report.switchboard.worker.peakRssMb, (v) => v <= 300),
  ];
}

const cell = (value: unknown, width: number) => String(value ?? '-').padStart(width);

function phaseRows(label: string, phase: PhaseResult | undefined): string[] {
  if (!phase) return [];
  const cpu = Object.entries(phase.cpuSeconds)
    .map(([name, seconds]) => `${name} ${seconds}s`)
    .join(', ');
  return [
    `${label.padEnd(24)}${cell(phase.received, 8)}/${phase.events}${cell(phase.duplicates, 6)}${cell(phase.verifyFailures, 6)}` +
      `${cell(phase.emitPerSec, 10)}${cell(phase.deliveriesPerSec, 10)}${cell(phase.latencyMs.p50, 9)}${cell(phase.latencyMs.p99, 9)}` +
      `${cell(phase.latencyMs.max, 9)}${phase.complete ? '' : '  INCOMPLETE'}${phase.disturbed ? '  DISTURBED' : ''}`,
    `${''.padEnd(24)}cpu (${phase.seconds}s wall, ${Math.round(phase.cpuUtilisation * 100)}% of the machine): ${cpu}`,
  ];
}

export function printReport(report: Report): void {
  const { switchboard: sb, reference } = report;
  const o = report.options;
  const lines = [
    '',
    `Webhook delivery benchmark — ${report.machine.cpus} × ${report.machine.cpuModel}, ` +
      `${report.machine.memTotalMb} MB, Node ${report.machine.node}, Postgres ${report.machine.postgres}, ` +
      `Redis ${report.machine.redis}; ` +
      `CPU busy before start ${Math.round(report.machine.busyBeforeStart * 100)}%`,
    `events ${o.events} (+${o.warmup} warm-up), emit parallelism ${o.emitParallel}, ` +
      `WEBHOOK_DELIVERY_CONCURRENCY ${o.concurrency}, latency phase ${o.rate}/s × ${o.latencySeconds} s`,
    '',
    `${'phase'.padEnd(24)}${'received'.padStart(8)}${''.padEnd(7)}${'dup'.padStart(5)}${'bad'.padStart(6)}` +
      `${'emit/s'.padStart(10)}${'deliv/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`,
    ...phaseRows('switchboard throughput', sb.throughput),
    ...phaseRows(`switchboard @${o.rate}/s`, sb.latency),
    ...phaseRows('switchboard drain', sb.drain),
    ...phaseRows('reference throughput', reference),
    '',
    `worker RSS: peak (VmHWM) ${sb.worker.peakRssMb} MB, max sampled ${sb.worker.sampledMaxRssMb} MB, ` +
      `idle after start ${sb.worker.idleRssMb} MB`,
    sb.deliveries
      ? `deliveries in Postgres: ${sb.deliveries.succeeded} succeeded, ${sb.deliveries.pending} pending, ` +
        `${sb.deliveries.failed} failed, ${sb.deliveries.attempts} attempts`
      : '',
    sb.throughput.postgresPerEvent
      ? `per event (throughput phase): ${Object.entries(sb.throughput.postgresPerEvent)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`
      : '',
    report.ratio !== null ? `switchboard / reference: ${report.ratio}` : '',
    '',
    [sb.throughput, sb.latency, reference].some((phase) => phase?.disturbed)
      ? 'DISTURBED: other processes used over 7.5% of the CPU during a phase (see "other"); rerun on a quiet machine'
      : '',
    ...report.targets.map(
      (t) =>
        `${t.met === null ? '  ?  ' : t.met ? ' MET ' : 'MISSED'} ${t.name.padEnd(30)} ${String(t.value).padStart(9)}  (target ${t.goal})`,
    ),
  ];
  console.log(lines.filter((line, i) => line !== '' || lines[i - 1] !== '').join('\n'));
}
