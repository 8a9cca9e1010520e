import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";

/** A running anvil process serving an EVM chain on 127.0.0.1. */
export interface AnvilHandle {
  url: string;
  chainId: number;
  /** Kills the process and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface AnvilOptions {
  host?: string;
  /** How long to wait for `eth_chainId` to answer before giving up. */
  readyTimeoutMs?: number;
  /**
   * Mines a block every this many seconds (anvil's --block-time), so the head moves without
   * transactions. Unset: a block only per transaction, which keeps tests deterministic.
   */
  blockTimeSeconds?: number;
}

/** Raised when anvil cannot be found or does not come up. */
export class AnvilError extends Error {
  override name = "AnvilError";
}

const archNames: Record<string, string> = { x64: "amd64", arm64: "arm64" };

/**
 * Finds the anvil binary that npm installed for this platform: `@foundry-rs/anvil` lists one
 * optional package per platform, each holding the binary under `bin/`.
 */
export function anvilBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const arch = archNames[process.arch] ?? process.arch;
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const wrapperManifest = require.resolve("@foundry-rs/anvil/package.json");
    const fromWrapper = createRequire(wrapperManifest);
    const manifest = fromWrapper.resolve(`${platformPackage}/package.json`);
    const binary = process.platform === "win32" ? "anvil.exe" : "anvil";
    return join(dirname(manifest), "bin", binary);
  } catch (cause) {
    throw new AnvilError(`anvil is not installed for this platform (${platformPackage})`, {
      cause,
    });
  }
}

/** Asks the OS for a port nobody listens on, then releases it for the caller to bind. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Every anvil still running, killed when this process ends however it ends. */
const liveChildren = new Set<Subprocess>();
let watching = false;

function killLiveChildren(): void {
  for (const child of liveChildren) {
    child.kill("SIGKILL");
  }
  liveChildren.clear();
}

/**
 * Kills anvil on exit and on SIGINT/SIGTERM. A signal listener disables the default "exit on
 * signal", so when ours is the only listener it exits the way the signal would have.
 */
function watchProcessEnd(): void {
  if (watching) {
    return;
  }
  watching = true;
  process.on("exit", killLiveChildren);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.on(signal, () => {
      killLiveChildren();
      if (process.listenerCount(signal) === 1) {
        process.exit(code);
      }
    });
  }
}

async function queryChainId(url: string): Promise<number | null> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    const body = (await response.json()) as { result?: unknown };
    return typeof body.result === "string" ? Number.parseInt(body.result, 16) : null;
  } catch {
    return null;
  }
}

async function waitForChainId(url: string, child: Subprocess, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new AnvilError(`anvil exited with code ${child.exitCode} before answering`);
    }
    const chainId = await queryChainId(url);
    if (chainId !== null) {
      return chainId;
    }
    await Bun.sleep(50);
  }
  throw new AnvilError(`anvil did not answer eth_chainId at ${url} within ${timeoutMs} ms`);
}

/**
 * Starts anvil on a free port and resolves once it answers `eth_chainId`. The process is also
 * killed when this process exits, so a crashed test run leaves no anvil behind.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilHandle> {
  const host = options.host ?? "127.0.0.1";
  const port = await freePort(host);
  const url = `http://${host}:${port}`;
  const args = [anvilBinaryPath(), "--silent", "--host", host, "--port", `${port}`];
  if (options.blockTimeSeconds !== undefined) {
    args.push("--block-time", `${options.blockTimeSeconds}`);
  }
  const child = Bun.spawn(args, {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  liveChildren.add(child);
  watchProcessEnd();

  let stopped = false;
  const stop = async () => {
    if (stopped) {
      return;
    }
    stopped = true;
    liveChildren.delete(child);
    child.kill("SIGTERM");
    const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(2000)]);
    if (exited !== true) {
      child.kill("SIGKILL");
      await child.exited;
    }
  };

  try {
    const chainId = await waitForChainId(url, child, options.readyTimeoutMs ?? 10_000);
    return { url, chainId, stop };
  } catch (error) {
    await stop();
    const stderr = await new Response(child.stderr).text();
    if (error instanceof AnvilError && stderr !== "") {
      throw new AnvilError(`${error.message}: ${stderr.trim()}`, { cause: error });
    }
    throw error;
  }
}
