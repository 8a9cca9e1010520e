import { existsSync } from "node:fs";
import type { Logger } from "@viper/shared/logger";

// Debian puts nginx in /usr/sbin, which a non-login shell's PATH may leave out.
const searchDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The absolute path of a program, or null when it is not installed. */
export function findProgram(name: string): string | null {
  const onPath = Bun.which(name);
  if (onPath !== null) {
    return onPath;
  }
  return searchDirs.map((dir) => `${dir}/${name}`).find((path) => existsSync(path)) ?? null;
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

let aptUpdated = false;

async function runApt(args: string[], logger: Logger): Promise<boolean> {
  const proc = Bun.spawn(["apt-get", ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdout: "pipe",
    stderr: "pipe",
  });
  // apt on a slow mirror can take a while, but never forever.
  const timer = setTimeout(() => proc.kill("SIGKILL"), 300_000);
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  clearTimeout(timer);
  if (code !== 0) {
    logger.warn({ args, code, stderr: stderr.slice(-500) }, "apt-get failed");
  }
  return code === 0;
}

/**
 * Finds a Debian-packaged program, installing its package with apt-get when it is missing and
 * the bench runs as root. Null when it is missing and cannot be installed here.
 */
export async function ensureProgram(
  name: string,
  debianPackage: string,
  logger: Logger,
): Promise<string | null> {
  const found = findProgram(name);
  if (found !== null) {
    return found;
  }
  if (!isRoot() || findProgram("apt-get") === null) {
    logger.warn({ program: name, package: debianPackage }, "program missing; install it as root");
    return null;
  }
  logger.info({ package: debianPackage }, "installing with apt-get");
  if (!aptUpdated) {
    aptUpdated = await runApt(["update", "-qq"], logger);
  }
  await runApt(["install", "-y", "-qq", debianPackage], logger);
  return findProgram(name);
}

/** The first line a program prints for its version flag (nginx writes it to stderr). */
export async function programVersion(path: string, flag: string): Promise<string> {
  const proc = Bun.spawn([path, flag], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return `${stdout}${stderr}`.trim().split("\n")[0] ?? "";
}
