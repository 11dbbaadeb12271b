/**
 * `npm run build`: bundles the CLI into one ESM file, dist/cli/main.js, with esbuild (every dependency inlined).
 * One file instead of ~470 modules is most of the start-up gain (docs/benchmarks.md, "Start-up"). Commands, the
 * simulator and the state store stay behind dynamic import()s in src/, which esbuild keeps lazy inside the bundle:
 * their modules are evaluated only when a command needs them. bin/monitor.js runs the bundle when it exists and
 * src/ otherwise.
 */
import { rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, resolve } from "node:path";
import { build, type Plugin } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
export const BUNDLE = join(ROOT, "dist", "cli", "main.js");

/**
 * Node built-ins, bundled as one-line CommonJS shims (`process.getBuiltinModule`). esbuild would otherwise hoist
 * every external `import` to the top of the bundle, so each built-in would load on every start, through its ESM
 * facade: for `node:http` that facade reads every lazy export and evaluates Node's own copy of undici (~15 ms), and
 * `node:sqlite` (the state store) would load for `--help`. As shims they are evaluated by the lazy initializer of
 * the module that imports them, when a command needs it.
 */
const BUILTINS = new Set(builtinModules.flatMap((m) => (m.startsWith("node:") ? [m] : [m, `node:${m}`])));

const lazyBuiltins: Plugin = {
  name: "lazy-builtins",
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) =>
      BUILTINS.has(args.path) && args.kind !== "require-call"
        ? { path: args.path.replace(/^(node:)?/, "node:"), namespace: "lazy-builtin" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

export async function buildBundle(): Promise<void> {
  rmSync(join(ROOT, "dist"), { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    // One file per entry. The Homebrew formula parser's worker thread is its own entry: parse-off-thread.ts finds it
    // beside the module that starts it, which in the bundle is dist/cli/main.js.
    entryPoints: [
      { in: "src/cli/main.ts", out: "cli/main" },
      { in: "src/channels/homebrew/parse-worker.ts", out: "cli/parse-worker" },
    ],
    outdir: join(ROOT, "dist"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22.12",
    // CommonJS dependencies (undici, pino, …) call require() for Node built-ins: give the ESM bundle a real one.
    banner: {
      js: 'import { createRequire as __monitorRequire } from "node:module";\nconst require = __monitorRequire(import.meta.url);',
    },
    // pino-pretty is loaded by createRequire on a TTY only (src/log.ts) and stays an installed dependency.
    external: ["pino-pretty"],
    plugins: [lazyBuiltins],
    legalComments: "none",
    logLevel: "warning",
  });
}

if (import.meta.main) await buildBundle();
