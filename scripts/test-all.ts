// `npm test`: every check CI runs, in order. Lint and types first (cheap), then the whole bun:test
// suite twice (embedded PGlite with the in-process store, then real Postgres with real Redis:
// both implementations must pass the same tests), then the end-to-end tests against the started
// product. Ends with one "N passed, N failed" line summing every runner.
import { spawn } from "node:child_process";

interface Step {
  name: string;
  command: string[];
  env?: Record<string, string>;
  /** Reads pass and fail counts from the runner's output; absent for checks without tests. */
  count?: (output: string) => { passed: number; failed: number };
}

const bunCounts = (output: string) => ({
  passed: Number(/^\s*(\d+) pass$/m.exec(output)?.[1] ?? 0),
  failed: Number(/^\s*(\d+) fail$/m.exec(output)?.[1] ?? 0),
});

const playwrightCounts = (output: string) => ({
  passed: Number(/^\s*(\d+) passed/m.exec(output)?.[1] ?? 0),
  failed: Number(/^\s*(\d+) failed/m.exec(output)?.[1] ?? 0),
});

// bun:test would also pick up Playwright's *.spec.ts files, so it is given the packages by name.
const unitTestPaths = ["./shared", "./db", "./devnet", "./relay", "./server", "./bench"];

const steps: Step[] = [
  { name: "lint", command: ["bunx", "biome", "check", "."] },
  { name: "types", command: ["bunx", "tsc", "--noEmit", "-p", "tsconfig.json"] },
  { name: "promtool", command: ["bash", "scripts/ensure-promtool.sh"] },
  // Prometheus's own checker (Debian's prometheus package, installed by the step above).
  { name: "alert rules", command: ["promtool", "check", "rules", "ops/prometheus/alerts.yml"] },
  {
    name: "alert rule tests",
    command: ["promtool", "test", "rules", "ops/prometheus/alerts.test.yml"],
  },
  {
    name: "tests on PGlite and the in-process store",
    command: ["bun", "test", ...unitTestPaths],
    env: { TEST_DB: "pglite", TEST_STORE: "memory" },
    count: bunCounts,
  },
  {
    name: "tests on Postgres and Redis",
    command: ["bun", "test", ...unitTestPaths],
    env: { TEST_DB: "postgres", TEST_STORE: "redis" },
    count: bunCounts,
  },
  {
    // Stops and restarts the Postgres server the other tests use, so it runs alone, afterwards.
    name: "relay logs through a Postgres outage",
    command: ["bun", "test", "./relay/test/analytics-outage.test.ts"],
    env: { TEST_DB: "postgres", TEST_STORE: "redis", TEST_POSTGRES_OUTAGE: "1" },
    count: bunCounts,
  },
  {
    name: "end-to-end tests",
    command: ["bunx", "playwright", "test", "--config", "e2e/playwright.config.ts"],
    count: playwrightCounts,
  },
];

function runStep(step: Step): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(step.command[0] ?? "", step.command.slice(1), {
      env: { ...process.env, ...step.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer, sink: NodeJS.WriteStream) => {
      output += chunk.toString();
      sink.write(chunk);
    };
    child.stdout.on("data", (chunk: Buffer) => keep(chunk, process.stdout));
    child.stderr.on("data", (chunk: Buffer) => keep(chunk, process.stderr));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

let passed = 0;
let failed = 0;
const failedSteps: string[] = [];
for (const step of steps) {
  console.log(`\n=== ${step.name} ===`);
  const { code, output } = await runStep(step);
  if (step.count) {
    const counts = step.count(output);
    passed += counts.passed;
    failed += counts.failed;
  }
  if (code !== 0) {
    failedSteps.push(step.name);
  }
}

if (failedSteps.length > 0) {
  console.log(`\nfailed steps: ${failedSteps.join(", ")}`);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failedSteps.length > 0 ? 1 : 0);
