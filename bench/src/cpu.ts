import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of the processes under test and of the whole machine, from /proc. On a small machine
 * the load generator, the proxy and the upstream share the cores with the server under test, so
 * a throughput number means little without knowing who had the CPU.
 */

// Linux reports process times in clock ticks, which are 100 per second on every common kernel
// configuration (USER_HZ); the kernel fixes it for user space whatever its internal HZ.
const ticksPerSecond = 100;

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** utime + stime of one process (all its threads), in ticks; null once it is gone. */
function processTicks(pid: number): number | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) {
    return null;
  }
  // The command name may hold spaces and parentheses; the fields after the last ")" do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function childPids(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((task) =>
    (readText(`/proc/${pid}/task/${task}/children`) ?? "")
      .split(" ")
      .filter((part) => part.trim() !== "")
      .map(Number),
  );
}

/** CPU ticks of a process and all its descendants (nginx's workers, for one). */
export function treeTicks(pid: number): number {
  const own = processTicks(pid) ?? 0;
  return own + childPids(pid).reduce((sum, child) => sum + treeTicks(child), 0);
}

/** Busy and total ticks of the whole machine, all cores. */
function machineTicks(): { busy: number; total: number } {
  const line = (readText("/proc/stat") ?? "").split("\n")[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  // idle and iowait are the 4th and 5th numbers.
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** CPU use over one interval: each watched process in % of one core, the machine in % of all. */
export interface CpuUse {
  processes: Record<string, number>;
  machineBusyPct: number;
}

/** Starts measuring; call the returned function at the end of the interval. */
export function startCpuWatch(watched: Record<string, number>): () => CpuUse {
  const startedAt = performance.now();
  const before = Object.fromEntries(
    Object.entries(watched).map(([name, pid]) => [name, treeTicks(pid)]),
  );
  const machineBefore = machineTicks();
  return () => {
    const seconds = (performance.now() - startedAt) / 1000;
    const processes: Record<string, number> = {};
    for (const [name, pid] of Object.entries(watched)) {
      const ticks = treeTicks(pid) - (before[name] ?? 0);
      processes[name] =
        seconds > 0 ? Math.round((ticks / ticksPerSecond / seconds) * 1000) / 10 : 0;
    }
    const machine = machineTicks();
    const total = machine.total - machineBefore.total;
    const busy = machine.busy - machineBefore.busy;
    return { processes, machineBusyPct: total > 0 ? Math.round((busy / total) * 1000) / 10 : 0 };
  };
}
