/**
 * Linux /proc readings for the benchmark: resident memory (current and peak) and CPU time of a
 * process, and its child processes (to find the anvil a gateway started).
 */
import { readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100; // `getconf CLK_TCK` on Linux

function statusField(pid: number, field: string): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Current resident set size in bytes (VmRSS), undefined when the process is gone. */
export function rssOf(pid: number): number | undefined {
  return statusField(pid, "VmRSS");
}

/** Peak resident set size over the process's life in bytes (VmHWM). */
export function peakRssOf(pid: number): number | undefined {
  return statusField(pid, "VmHWM");
}

/** User + system CPU seconds used so far by the process (its own threads, not its children). */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((s) => s !== "")
      .map(Number);
  } catch {
    return [];
  }
}

export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return "";
  }
}

/** Samples the RSS of some processes every `intervalMs` and keeps the peak of each. */
export function rssSampler(pids: Record<string, number>, intervalMs = 100) {
  const peaks: Record<string, number> = {};
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const rss = rssOf(pid);
      if (rss !== undefined) peaks[name] = Math.max(peaks[name] ?? 0, rss);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop(): Record<string, number> {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** CPU seconds used by each process between `start()` and `stop()`, as a share of the wall time. */
export function cpuMeter(pids: Record<string, number>) {
  const before = Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, cpuSecondsOf(p) ?? 0]));
  const t0 = performance.now();
  return {
    /** Percent of one core per process (200% = both cores of a 2-core machine). */
    stop(): Record<string, number> {
      const wall = (performance.now() - t0) / 1000;
      return Object.fromEntries(
        Object.entries(pids).map(([n, p]) => [n, (100 * ((cpuSecondsOf(p) ?? before[n]) - before[n])) / wall]),
      );
    },
  };
}
