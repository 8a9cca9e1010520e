import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";

/** A process the bench started failed to come up, or misbehaved while it ran. */
export class BenchProcessError extends Error {
  override name = "BenchProcessError";
}

export interface SpawnOptions {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
  /** stdout and stderr go to `<logDir>/<name>.log`, so no pipe can fill and stall the child. */
  logDir: string;
}

/** One child process: its pid, where its output goes, and how to stop it. */
export interface BenchProcess {
  name: string;
  pid: number;
  logPath: string;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (5 s by default) if it is still there. */
  stop(graceMs?: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last lines of a log, for error messages that say why a child died. */
export function logTail(path: string, lines = 15): string {
  if (!existsSync(path)) {
    return "(no log)";
  }
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** Waits for a process to exit, at most `ms`; true when it did. */
async function exitsWithin(proc: Subprocess, ms: number): Promise<boolean> {
  const result = await Promise.race([proc.exited.then(() => true), sleep(ms).then(() => false)]);
  return result;
}

/**
 * Every process the bench starts is registered here, so one call stops them all: at the end of a
 * run, on an error, and on Ctrl-C. Each is stopped by its own pid, politely first.
 */
export class ProcessGroup {
  readonly #children = new Set<BenchProcess>();

  /** Starts a long-running child whose output goes to a log file. */
  spawn(options: SpawnOptions): BenchProcess {
    const logPath = join(options.logDir, `${options.name}.log`);
    const fd = openSync(logPath, "a");
    let proc: Subprocess;
    try {
      proc = Bun.spawn(options.cmd, {
        env: options.env ?? {},
        stdin: "ignore",
        stdout: fd,
        stderr: fd,
      });
    } finally {
      closeSync(fd);
    }
    return this.#track(options.name, proc, logPath);
  }

  /** Registers a child started elsewhere (with pipes), so Ctrl-C stops it too. */
  adopt(name: string, proc: Subprocess): BenchProcess {
    return this.#track(name, proc, "(piped)");
  }

  #track(name: string, proc: Subprocess, logPath: string): BenchProcess {
    let done = false;
    const exited = proc.exited.then((code) => {
      done = true;
      this.#children.delete(child);
      return code;
    });
    const child: BenchProcess = {
      name,
      pid: proc.pid,
      logPath,
      exited,
      hasExited: () => done,
      stop: async (graceMs = 5_000) => {
        if (done) {
          return;
        }
        proc.kill("SIGTERM");
        if (!(await exitsWithin(proc, graceMs))) {
          proc.kill("SIGKILL");
          await exitsWithin(proc, 2_000);
        }
      },
    };
    this.#children.add(child);
    return child;
  }

  /** Stops every child still running, the most recently started first. */
  async stopAll(graceMs?: number): Promise<void> {
    const children = [...this.#children].reverse();
    for (const child of children) {
      await child.stop(graceMs);
    }
  }
}

/** What a piped child printed, and how it exited. */
export interface PipedOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs a command with piped output to its end, registered with the group so Ctrl-C stops it.
 * A child still running after `limitMs` is stopped: the limit only catches one that hangs.
 */
export async function runPiped(
  group: ProcessGroup,
  name: string,
  command: string[],
  options: { env?: Record<string, string>; limitMs: number },
): Promise<PipedOutput> {
  const proc = Bun.spawn(command, {
    ...(options.env ? { env: options.env } : {}),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const child = group.adopt(name, proc);
  const timer = setTimeout(() => void child.stop(), options.limitMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

/**
 * Called inside a child: writes what the parent needs (URL, port) to BENCH_READY_FILE. Written
 * to a temporary name and renamed, so the parent never reads half a file.
 */
export function announceReady(info: Record<string, unknown>): void {
  const path = process.env.BENCH_READY_FILE;
  if (path === undefined || path === "") {
    throw new BenchProcessError("BENCH_READY_FILE is not set; start this through bench/run.ts");
  }
  writeFileSync(`${path}.tmp`, JSON.stringify(info));
  renameSync(`${path}.tmp`, path);
}

/**
 * Waits until a child announces itself ready and returns what it wrote; fails at once when the
 * child dies, and after `timeoutMs` when it hangs.
 */
export async function waitForReady(
  child: BenchProcess,
  readyFile: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(readyFile)) {
      const parsed: unknown = JSON.parse(readFileSync(readyFile, "utf8"));
      if (typeof parsed === "object" && parsed !== null) {
        return parsed as Record<string, unknown>;
      }
    }
    if (child.hasExited()) {
      throw new BenchProcessError(
        `${child.name} exited before it was ready:\n${logTail(child.logPath)}`,
      );
    }
    await sleep(50);
  }
  throw new BenchProcessError(`${child.name} was not ready within ${timeoutMs} ms`);
}

/** Waits until something answers HTTP at `url` (any status), for children without a ready file. */
export async function waitForHttp(
  child: BenchProcess,
  url: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.hasExited()) {
      throw new BenchProcessError(
        `${child.name} exited before it answered:\n${logTail(child.logPath)}`,
      );
    }
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new BenchProcessError(`${child.name} did not answer at ${url} within ${timeoutMs} ms`);
}

/** A TCP port that was free a moment ago on 127.0.0.1 (for programs that cannot report theirs). */
export function freePort(): number {
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data: () => undefined },
  });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/**
 * A memory figure of a process from /proc/<pid>/status, in bytes: VmHWM is the highest resident
 * memory so far, VmRSS the resident memory now. Null once the process is gone.
 */
export function memoryBytes(pid: number, field: "VmHWM" | "VmRSS"): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
  return match?.[1] === undefined ? null : Number(match[1]) * 1024;
}

/** The highest resident memory of a process so far (VmHWM), in bytes; null once it is gone. */
export function peakMemoryBytes(pid: number): number | null {
  return memoryBytes(pid, "VmHWM");
}
