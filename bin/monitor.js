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
// The daemon also caps V8's old space at 512 MB (DAEMON_FLAGS; not `verify --deep`, whose peak it raised). The cap
// is far above what the daemon keeps (a live heap of ~75 MB for 1,000 watched projects, ~110 MB for 5,000), but V8
// sizes its heap growth by it: with the default limit of this machine class (4 GB and up) the heap may grow to 4x
// the live data before a full collection, under 2 GB to 1.3-2x, so the peak RSS of one cron tick of 1,000 projects
// fell from 329-425 MB to 225-228 MB (docs/benchmarks.md, "Memory"). A limit the user set (node's options or
// NODE_OPTIONS, e.g. NODE_OPTIONS=--max-old-space-size=4096 for a very large installation) is kept, flag by flag.
//
// `verify --deep` also runs without V8's optimising compilers (DEEP_FLAGS): its CPU is OpenSSL's hashing.
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
const DAEMON_FLAGS = ["--max-old-space-size=512"];
/**
 * `verify --deep` runs without V8's optimising tiers (TurboFan, Maglev, and TurboFan for WebAssembly: undici's HTTP
 * parser is wasm). Their compilers' code pages and zones are ~12 MB of a deep run's peak (108-118 -> 95-97 MB),
 * and a deep run's CPU is hashing, which is OpenSSL's, not JavaScript's (docs/benchmarks.md, "Deep verification").
 */
const DEEP_FLAGS = ["--no-opt", "--no-maglev", "--liftoff-only"];
const MEMORY_ENV = { MALLOC_ARENA_MAX: "2" };
/** Global options that take a value (src/cli/program.ts), skipped when looking for the command name. */
const GLOBAL_VALUE_OPTIONS = new Set(["-c", "--config", "--sim", "--log-level"]);

/**
 * The V8 flags for the command in `args`: MEMORY_FLAGS and DAEMON_FLAGS for the daemon, MEMORY_FLAGS for
 * `verify --deep`, none for the rest.
 * @param {readonly string[]} args
 */
function memoryFlagsFor(args) {
  /** @type {string | null} */
  let command = null;
  for (let i = 0; i < args.length && command === null; i++) {
    const arg = String(args[i]);
    if (arg === "--") break;
    if (arg.startsWith("-")) {
      if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
    } else command = arg;
  }
  if (command === "watch" || command === "demo") return [...MEMORY_FLAGS, ...DAEMON_FLAGS];
  return command === "verify" && args.includes("--deep") ? [...MEMORY_FLAGS, ...DEEP_FLAGS] : [];
}

/** A V8 flag's name as V8 reads it (dashes and underscores are the same; `--opt` and `--no-opt` set one flag). */
const flagName = (/** @type {string} */ f) => (f.split("=")[0] ?? f).replaceAll("_", "-").replace(/^--no-/, "--");

const args = process.argv.slice(2);
const given = new Set([...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].map(flagName));
const missing = memoryFlagsFor(args).filter((f) => !given.has(flagName(f)));
if (
  missing.length > 0 &&
  process.env.MONITOR_NO_V8_FLAGS !== "1" &&
  typeof process.execve === "function" &&
  process.platform !== "win32"
) {
  try {
    process.execve(
      process.execPath,
      [process.execPath, ...missing, ...process.execArgv, fileURLToPath(import.meta.url), ...args],
      { ...MEMORY_ENV, ...process.env },
    );
  } catch {
    // execve refused (a sandbox, a worker): run with the default heap instead
  }
}

nodeModule.enableCompileCache?.();
const bundle = new URL("../dist/cli/main.js", import.meta.url);
await import(existsSync(bundle) ? bundle.href : new URL("../src/cli/main.ts", import.meta.url).href);
