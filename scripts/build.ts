/**
 * `npm run build`: bundles the CLI with esbuild (every dependency inlined) into dist/cli/: the entry main.js and,
 * with code splitting, one chunk per dynamic import() of src/ (each command, each probe, the simulator, the state
 * store, Sigstore, …) plus the chunks they share. A few dozen files instead of ~470 modules is most of the start-up
 * gain, and a command reads and compiles only the chunks it reaches (docs/benchmarks.md, "Start-up").
 * bin/monitor.js runs the bundle when it exists and src/ otherwise.
 */
import { rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, resolve } from "node:path";
import { build, type Plugin } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
export const BUNDLE = join(ROOT, "dist", "cli", "main.js");
/**
 * esbuild's metafile: which source modules each output file holds. Not shipped (package.json `files`); the tests
 * read it to tell which modules a run of the bundle loaded (test/cli/bundle.test.ts).
 */
export const METAFILE = join(ROOT, "dist", "meta.json");

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
  const result = await build({
    absWorkingDir: ROOT,
    // `monitor verify --help` reaches commander and the verify command's options, ~120 kB of the 5.8 MB. Chunks sit
    // beside main.js (chunkNames), so the Homebrew formula parser's worker thread, its own entry, is found beside
    // the chunk that starts it (parse-off-thread.ts), and import.meta.url-relative lookups hold for every chunk.
    entryPoints: [
      { in: "src/cli/main.ts", out: "cli/main" },
      { in: "src/channels/homebrew/parse-worker.ts", out: "cli/parse-worker" },
    ],
    outdir: join(ROOT, "dist"),
    bundle: true,
    splitting: true,
    chunkNames: "cli/[name]-[hash]",
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
    metafile: true,
    logLevel: "warning",
  });
  writeFileSync(METAFILE, JSON.stringify(result.metafile));
}

if (import.meta.main) await buildBundle();
