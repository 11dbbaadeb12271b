/**
 * The memory floor of a command's code: import its module graph, do nothing else, print RSS (MB) after a GC.
 * Usage: node --expose-gc bench/workers/import-floor.ts <module path relative to the repo>
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const target = process.argv[2] ?? "";
await import(pathToFileURL(join(import.meta.dirname, "..", "..", target)).href);
(globalThis as { gc?: () => void }).gc?.();
const m = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({ rss_mb: m.rss / 1048576, heap_mb: m.heapUsed / 1048576, external_mb: m.external / 1048576 })}\n`,
);
