import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What the product prints on start, read back by the tests. */
export interface StartedProduct {
  process: ChildProcess;
  rpcUrl: string;
  serverUrl: string;
}

const repoRoot = join(import.meta.dirname, "..");

/**
 * Runs the Quick start's first command (`npm start`) with no database or Redis configured and a
 * fresh data folder, and waits for the lines it prints. Ports are picked by the OS so a developer's
 * running copy does not collide.
 */
export function startProduct(timeoutMs = 90_000): Promise<StartedProduct> {
  const dataDir = mkdtempSync(join(tmpdir(), "viper-portal-e2e-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    RELAY_PORT: "0",
    SERVER_PORT: "0",
    LOG_LEVEL: "warn",
  };
  for (const name of ["DATABASE_URL", "REDIS_URL", "VIPER_DISPATCH_URLS"]) {
    delete env[name];
  }
  const child = spawn("npm", ["start", "--silent"], { cwd: repoRoot, env, detached: true });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      stopProduct(child);
      reject(new Error(`product did not print its RPC URL within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const rpcUrl = /RPC URL: (\S+)/.exec(output)?.[1];
      const serverUrl = /Dashboard API: (\S+)/.exec(output)?.[1];
      if (rpcUrl && serverUrl) {
        clearTimeout(timer);
        resolve({ process: child, rpcUrl, serverUrl });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`product exited with ${code} before it was up:\n${output}`));
    });
  });
}

/** Stops the product and everything it started (its process group). */
export function stopProduct(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
}
