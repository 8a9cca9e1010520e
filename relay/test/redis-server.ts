/**
 * A throwaway redis-server of a test's own, for tests that stop Redis mid-test without
 * disturbing the Redis other tests share.
 */
import type { Subprocess } from "bun";

/** The redis-server binary, when installed; tests that stop Redis spawn their own. */
export const redisServerBinary = Bun.which("redis-server");

/** Starts a throwaway redis-server on a loopback port (no persistence); resolves once it listens. */
export async function startRedisServer(port: number): Promise<Subprocess> {
  if (!redisServerBinary) {
    throw new Error("redis-server is not installed");
  }
  const child = Bun.spawn(
    [
      redisServerBinary,
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  await waitFor(async () => {
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: { data: () => undefined },
    }).catch(() => null);
    socket?.end();
    return socket !== null;
  });
  return child;
}

/** Waits for a condition that other processes or timers make true; fails after the deadline. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error("condition not met in time");
    }
    await Bun.sleep(20);
  }
}
