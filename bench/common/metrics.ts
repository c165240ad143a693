/** Measurements from /proc (Linux only): memory of one process, CPU time of processes by name. */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** VmRSS and VmHWM (peak RSS) of a live process, in MB; null once it is gone. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

function statOf(pid: number): { comm: string; cpuSeconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return { comm, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / USER_HZ };
  } catch {
    return null;
  }
}

export const cpuSecondsOf = (pid: number): number => statOf(pid)?.cpuSeconds ?? NaN;

/** Pids of every process whose command name is `comm` (e.g. every Postgres backend). */
export function pidsNamed(comm: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => statOf(pid)?.comm === comm);
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * The Postgres server as far as one database is concerned: its backends (whose process title names the
 * database) and the server's own processes (WAL writer, checkpointer…) — not other databases' backends.
 */
export function postgresPidsFor(databaseName: string): number[] {
  return pidsNamed('postgres').filter((pid) => {
    const title = commandLine(pid);
    const isBackend = /\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/.test(title);
    return !isBackend || title.includes(` ${databaseName} `);
  });
}

/** Machine-wide CPU seconds from /proc/stat: busy (user, nice, system, irq, softirq), idle, steal. */
export function machineCpuSeconds(): { busy: number; idle: number; steal: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    busy: (user + nice + system + irq + softirq) / USER_HZ,
    idle: (idle + iowait) / USER_HZ,
    steal: steal / USER_HZ,
  };
}

export interface CpuSnapshot {
  /** CPU seconds per pid at `at` (ms since the epoch). */
  pids: Map<number, number>;
  machine: ReturnType<typeof machineCpuSeconds>;
  at: number;
}

interface Seen {
  group: string;
  cpuSeconds: number;
  at: number;
}

const centi = (value: number) => Math.round(value * 100) / 100;

/**
 * CPU seconds used by each named group of processes between two snapshots, plus `other`: what the rest
 * of the machine (anything not in a group, e.g. someone else's tests) used meanwhile, and `idle`.
 *
 * Processes are also sampled every second in between, so one that exits before `since` (a Postgres
 * backend whose pool connection timed out idle) still counts, up to its last sample.
 */
export class CpuMeter {
  private readonly seen = new Map<number, Seen>();
  private timer?: NodeJS.Timeout;
  /** Snapshots not yet closed by `since`: the sampling runs while there is one. */
  private open = 0;

  constructor(private readonly groups: Record<string, () => number[]>) {}

  private sample(): void {
    const at = Date.now();
    for (const [group, pids] of Object.entries(this.groups)) {
      for (const pid of pids()) {
        const cpuSeconds = cpuSecondsOf(pid);
        if (Number.isFinite(cpuSeconds)) this.seen.set(pid, { group, cpuSeconds, at });
      }
    }
  }

  snapshot(): CpuSnapshot {
    this.open++;
    if (!this.timer) {
      this.timer = setInterval(() => this.sample(), 1_000);
      this.timer.unref();
    }
    const at = Date.now();
    this.sample();
    const pids = new Map<number, number>();
    for (const [pid, seen] of this.seen) if (seen.at >= at) pids.set(pid, seen.cpuSeconds);
    return { pids, machine: machineCpuSeconds(), at };
  }

  /** Per group: CPU seconds since `before` (processes born since count from zero). */
  since(before: CpuSnapshot): Record<string, number> {
    this.sample();
    this.open = Math.max(0, this.open - 1);
    if (this.open === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    const used: Record<string, number> = Object.fromEntries(Object.keys(this.groups).map((g) => [g, 0]));
    let ours = 0;
    for (const [pid, seen] of this.seen) {
      if (seen.at < before.at) continue;
      const delta = seen.cpuSeconds - (before.pids.get(pid) ?? 0);
      used[seen.group] += delta;
      ours += delta;
    }
    for (const group of Object.keys(this.groups)) used[group] = centi(used[group]);
    const machine = machineCpuSeconds();
    used.other = centi(Math.max(0, machine.busy - before.machine.busy - ours));
    used.idle = centi(machine.idle - before.machine.idle);
    if (machine.steal > before.machine.steal) used.steal = centi(machine.steal - before.machine.steal);
    return used;
  }
}

/** Samples a process's RSS every `everyMs`; max() is the highest sample. */
export class RssSampler {
  private maxMb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 200,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    const memory = memoryOf(this.pid);
    if (memory) this.maxMb = Math.max(this.maxMb, memory.rssMb);
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.maxMb;
  }
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memTotalMb: number;
  node: string;
  loadAverage1m: number;
}

export function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  return {
    cpus: cpuinfo.match(/^processor\s*:/gm)?.length ?? 0,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    memTotalMb: Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0) / 1024),
    node: process.version,
    loadAverage1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
  };
}

/** Share of the machine busy over `ms` (before the benchmark starts: someone else's load). */
export async function busyShare(ms: number): Promise<number> {
  const before = machineCpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineCpuSeconds();
  const busy = after.busy - before.busy;
  return Math.round((busy / (busy + after.idle - before.idle)) * 100) / 100;
}
