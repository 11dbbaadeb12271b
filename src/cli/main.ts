#!/usr/bin/env node
import { enableCompileCache } from "node:module";

/**
 * `monitor` entry point. Turns on Node's on-disk compile cache (V8 code cache, and on Node 24 the type-stripped
 * sources) before any of the program's modules load, which is why the program is imported dynamically: every run
 * after the first skips most module compilation (see docs/benchmarks.md, "Start-up"). Opt out with
 * NODE_DISABLE_COMPILE_CACHE=1; NODE_COMPILE_CACHE=<dir> moves the cache (default: the OS temp dir).
 */
enableCompileCache?.();
const { main } = await import("./program.ts");
await main(process.argv);
