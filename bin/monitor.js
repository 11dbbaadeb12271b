#!/usr/bin/env node
// Entry point of the `monitor` bin. Turns on Node's on-disk compile cache first (the bundle is one 3.6 MB script:
// from the second run on V8 reuses its code cache; opt out with NODE_DISABLE_COMPILE_CACHE=1), then runs the bundle
// that `npm run build` writes (dist/cli/main.js, shipped by `npm pack`), or the TypeScript sources in a checkout
// that has not been built (development; src/ is not in the package).
import { existsSync } from "node:fs";
import { enableCompileCache } from "node:module";
import { URL } from "node:url";

enableCompileCache?.();
const bundle = new URL("../dist/cli/main.js", import.meta.url);
await import(existsSync(bundle) ? bundle.href : new URL("../src/cli/main.ts", import.meta.url).href);
