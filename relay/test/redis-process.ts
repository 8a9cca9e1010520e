/**
 * A redis-server of a test's own on a spare port, which the test may crash and start again: to
 * see what the relay does when its Redis restarts. It keeps no data unless told to snapshot.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@viper/devnet/anvil";
import type { Subprocess } from "bun";

export interface RedisProcess {
  url: string;
  /** Writes the data to disk now (SAVE); the next start loads it back. */
  snapshot(): Promise<void>;
  /** Kills the server as a crash would (no save), then starts it on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts redis-server on a free loopback port, with its files in a fresh temporary folder. */
export async function startRedisProcess(): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "vp-redis-"));
  let child: Subprocess | null = null;

  const start = async () => {
    child = Bun.spawn(
      ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--dir", dir]
        // No snapshots of its own and no append-only file: data survives only a snapshot().
        .concat(["--save", "", "--appendonly", "no"]),
      { stdout: "ignore", stderr: "ignore" },
    );
    await waitForPong(port);
  };
  const kill = async () => {
    const running: Subprocess | null = child;
    child = null;
    if (running) {
      running.kill("SIGKILL");
      await running.exited;
    }
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    async snapshot() {
      const reply = await redisCli(port, "SAVE");
      if (reply !== "OK") {
        throw new Error(`redis SAVE answered ${reply}`);
      }
    },
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function redisCli(port: number, command: string): Promise<string> {
  const cli = Bun.spawn(["redis-cli", "-p", String(port), command], { stderr: "ignore" });
  const text = await new Response(cli.stdout).text();
  await cli.exited;
  return text.trim();
}

async function waitForPong(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await redisCli(port, "PING")) !== "PONG") {
    if (Date.now() > deadline) {
      throw new Error(`redis-server on port ${port} did not start`);
    }
    await Bun.sleep(20);
  }
}
