/**
 * Preload (`node --import bench/workers/rss-at-exit.ts …`): at exit, writes the process's peak resident set size
 * (`process.resourceUsage().maxRSS`, kilobytes on Linux) to $BENCH_RSS_FILE.
 */
import { writeFileSync } from "node:fs";

const file = process.env["BENCH_RSS_FILE"];
if (file) {
  process.on("exit", () => {
    writeFileSync(file, JSON.stringify({ max_rss_kb: process.resourceUsage().maxRSS }));
  });
}
