#!/usr/bin/env node
// Entry point of the `monitor` bin. Turns on Node's on-disk compile cache first (from the second run on V8 reuses
// its code cache; opt out with NODE_DISABLE_COMPILE_CACHE=1), then runs the bundle that `npm run build` writes
// (dist/cli/main.js and its chunks, shipped by `npm pack`), or the TypeScript sources in a checkout that has not
// been built (development; src/ is not in the package).
//
// The daemon (`watch`, `demo`) and `verify --deep` run with a small young generation (MEMORY_FLAGS): V8's default
// semi-spaces grow to 16 MB and, under a stream of downloaded chunks, keep dead Buffers' backing stores alive until
// a scavenge (docs/benchmarks.md, "Memory"). V8 reads these flags only when the heap is set up
// (v8.setFlagsFromString is too late), so this process replaces itself with `node <flags> <this file> <args>`
// through process.execve: same pid, same stdio, signals and exit code, one more Node start-up (~30 ms) for these
// long commands only. Skipped when the flag is already set (node's own options or NODE_OPTIONS), where execve is
// unavailable (Windows, worker threads), or with MONITOR_NO_V8_FLAGS=1.
//
// The same execve sets MEMORY_ENV unless the environment already has it: glibc reads MALLOC_ARENA_MAX only at
// start-up. Without it every thread that allocates (V8's GC helpers, libuv's pool) gets its own 64 MB malloc arena,
// and the freed Buffers of a busy cycle stay resident in them (one tick of 300 projects: 327 MB peak RSS, 254 MB
// with two arenas; docs/benchmarks.md, "Memory").
import { existsSync } from "node:fs";
import nodeModule from "node:module";
import process from "node:process";
import { fileURLToPath, URL } from "node:url";

// package.json engines.node: ^22.22.2 || >=24.15.0. An older Node fails somewhere inside the bundle with a
// message about a missing export; say what is needed instead (a named import of a Node 22 API would not even load).
const [major = 0, minor = 0, patch = 0] = process.versions.node.split(".").map(Number);
const supported =
  major > 24 || (major === 24 && minor >= 15) || (major === 22 && (minor > 22 || (minor === 22 && patch >= 2)));
if (!supported) {
  process.stderr.write(
    `error: release-monitor needs Node.js ^22.22.2 || >=24.15.0 (package.json engines); this is ${process.version}\n`,
  );
  process.exit(2);
}

const MEMORY_FLAGS = ["--max-semi-space-size=1"];
const MEMORY_ENV = { MALLOC_ARENA_MAX: "2" };
/** Global options that take a value (src/cli/program.ts), skipped when looking for the command name. */
const GLOBAL_VALUE_OPTIONS = new Set(["-c", "--config", "--sim", "--log-level"]);

/** @param {readonly string[]} args */
function wantsMemoryFlags(args) {
  /** @type {string | null} */
  let command = null;
  for (let i = 0; i < args.length && command === null; i++) {
    const arg = String(args[i]);
    if (arg === "--") break;
    if (arg.startsWith("-")) {
      if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
    } else command = arg;
  }
  return command === "watch" || command === "demo" || (command === "verify" && args.includes("--deep"));
}

const args = process.argv.slice(2);
const alreadySet = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].some((f) =>
  /^--max-semi-space-size(=|$)/.test(f),
);
if (
  wantsMemoryFlags(args) &&
  !alreadySet &&
  process.env.MONITOR_NO_V8_FLAGS !== "1" &&
  typeof process.execve === "function" &&
  process.platform !== "win32"
) {
  try {
    process.execve(
      process.execPath,
      [process.execPath, ...MEMORY_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...args],
      { ...MEMORY_ENV, ...process.env },
    );
  } catch {
    // execve refused (a sandbox, a worker): run with the default heap instead
  }
}

nodeModule.enableCompileCache?.();
const bundle = new URL("../dist/cli/main.js", import.meta.url);
await import(existsSync(bundle) ? bundle.href : new URL("../src/cli/main.ts", import.meta.url).href);
