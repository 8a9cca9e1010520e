#!/usr/bin/env node
// The Quick start's entry point on a machine that has only Node.js and npm: it finds Bun (or
// installs the pinned version into .tools/ through npm), installs the locked dependencies, then
// hands over to the Bun script for the command. Plain Node on purpose: Bun may not exist yet.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const bunVersion = "1.4.5";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const localBun = join(root, ".tools", "node_modules", ".bin", "bun");
// Every npm script that needs Bun comes through here, so each works on a machine with only npm.
const commands = {
  start: "scripts/start.ts",
  test: "scripts/test-all.ts",
  bench: "bench/run.ts",
  "db:migrate": "db/src/migrate-cli.ts",
  "test:unit": "scripts/test-matrix.ts",
};

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.error) {
    throw result.error;
  }
  return result.status ?? 1;
}

function versionOf(bin) {
  const result = spawnSync(bin, ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : null;
}

function findBun() {
  if (versionOf("bun") === bunVersion) {
    return "bun";
  }
  if (existsSync(localBun) && versionOf(localBun) === bunVersion) {
    return localBun;
  }
  process.stderr.write(`bootstrap: installing Bun ${bunVersion} into .tools/ through npm\n`);
  const status = run("npm", [
    "install",
    "--prefix",
    join(root, ".tools"),
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    `bun@${bunVersion}`,
  ]);
  if (status !== 0 || versionOf(localBun) !== bunVersion) {
    process.stderr.write("bootstrap: could not install Bun through npm\n");
    process.exit(1);
  }
  return localBun;
}

const command = process.argv[2];
const script = commands[command];
if (!script) {
  process.stderr.write(`usage: node scripts/bootstrap.mjs <${Object.keys(commands).join("|")}>\n`);
  process.exit(2);
}

const bun = findBun();
// Bun's own directory goes first on PATH so scripts and tools that call `bun` find this one.
const env =
  bun === "bun"
    ? process.env
    : { ...process.env, PATH: `${dirname(localBun)}:${process.env.PATH}` };
if (run(bun, ["install", "--frozen-lockfile"], { env }) !== 0) {
  process.stderr.write("bootstrap: bun install failed\n");
  process.exit(1);
}
process.exit(run(bun, ["run", script, ...process.argv.slice(3)], { env }));
