/**
 * The memory floor of a command's code: import its module graph, do nothing else, print RSS (MB) after a GC.
 * Usage: node --expose-gc bench/workers/import-floor.ts <source module path relative to the repo>
 *
 * When the bundle is built (dist/meta.json, `npm run build`), the chunk esbuild wrote for that source module is
 * imported instead: the code as `monitor` runs it (no TypeScript stripper, one file per chunk). `--src` forces src/.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = join(import.meta.dirname, "..", "..");
const target = process.argv[2] ?? "";
const meta = join(root, "dist", "meta.json");
const chunk =
  !process.argv.includes("--src") && existsSync(meta)
    ? Object.entries(
        (JSON.parse(readFileSync(meta, "utf8")) as { outputs: Record<string, { entryPoint?: string }> }).outputs,
      ).find(([, out]) => out.entryPoint === target)?.[0]
    : undefined;
await import(pathToFileURL(join(root, chunk ?? target)).href);
(globalThis as { gc?: () => void }).gc?.();
const m = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({ rss_mb: m.rss / 1048576, heap_mb: m.heapUsed / 1048576, external_mb: m.external / 1048576, code: chunk ?? target })}\n`,
);
