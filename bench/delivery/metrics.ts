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

/** CPU seconds used by each named group of processes, between two snapshots. */
export class CpuMeter {
  constructor(private readonly groups: Record<string, () => number[]>) {}

  snapshot(): Map<number, number> {
    const times = new Map<number, number>();
    for (const pids of Object.values(this.groups)) {
      for (const pid of pids()) times.set(pid, cpuSecondsOf(pid));
    }
    return times;
  }

  /** Per group: CPU seconds since `before` (processes born since count from zero). */
  since(before: Map<number, number>): Record<string, number> {
    const used: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups)) {
      let total = 0;
      for (const pid of pids()) {
        const now = cpuSecondsOf(pid);
        if (Number.isFinite(now)) total += now - (before.get(pid) ?? 0);
      }
      used[name] = Math.round(total * 100) / 100;
    }
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

export function machine(): Record<string, string | number> {
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
