import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCpuWatch } from "../src/cpu.ts";
import { ProcessGroup, peakMemoryBytes } from "../src/processes.ts";

const logDir = mkdtempSync(join(tmpdir(), "bench-processes-test-"));

afterAll(() => {
  rmSync(logDir, { recursive: true, force: true });
});

describe("the process group", () => {
  test("stops every child it started, even one that ignores SIGTERM", async () => {
    const group = new ProcessGroup();
    const polite = group.spawn({ name: "polite", cmd: ["sleep", "30"], logDir });
    const stubborn = group.spawn({
      name: "stubborn",
      cmd: [
        process.execPath,
        "-e",
        "process.on('SIGTERM', () => {}); console.log('started'); setInterval(() => {}, 1000);",
      ],
      logDir,
    });
    await Bun.sleep(500);

    await group.stopAll(500);

    expect(polite.hasExited()).toBe(true);
    expect(stubborn.hasExited()).toBe(true);
    expect(readFileSync(stubborn.logPath, "utf8")).toContain("started");
  }, 15_000);
});

describe("/proc readings", () => {
  test("the peak memory of a running process is known, of a gone one is not", async () => {
    const group = new ProcessGroup();
    const child = group.spawn({ name: "short", cmd: ["true"], logDir });
    await child.exited;

    expect(peakMemoryBytes(process.pid)).toBeGreaterThan(1024 * 1024);
    expect(peakMemoryBytes(child.pid)).toBeNull();
  });

  test("a process that spins shows CPU use, one that sleeps shows next to none", async () => {
    const group = new ProcessGroup();
    const spinner = group.spawn({
      name: "spin",
      cmd: ["bash", "-c", "while :; do :; done"],
      logDir,
    });
    const sleeper = group.spawn({ name: "sleep", cmd: ["sleep", "30"], logDir });
    const stop = startCpuWatch({ spinner: spinner.pid, sleeper: sleeper.pid });
    await Bun.sleep(1_000);

    const use = stop();
    await group.stopAll();

    expect(use.processes.spinner).toBeGreaterThan(use.processes.sleeper ?? 0);
    expect(use.processes.sleeper).toBeLessThan(5);
    expect(use.machineBusyPct).toBeGreaterThan(0);
  }, 15_000);
});
