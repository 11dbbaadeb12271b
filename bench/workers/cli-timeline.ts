/**
 * Preload (`node --import bench/workers/cli-timeline.ts …`): where a CLI verify's wall goes. Through undici's
 * diagnostics channels (the bundle's copy publishes on them too) it notes, in ms since the process started, when
 * the first request was created, when the last response's headers came, and the exit, and writes them to
 * $BENCH_TIMELINE_FILE at exit.
 */
import { subscribe } from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";

export interface CliTimeline {
  first_request_ms: number | null;
  last_headers_ms: number | null;
  exit_ms: number;
  requests: number;
}

const file = process.env["BENCH_TIMELINE_FILE"];
if (file) {
  const t: CliTimeline = { first_request_ms: null, last_headers_ms: null, exit_ms: 0, requests: 0 };
  const now = () => Math.round(performance.now() * 10) / 10;
  subscribe("undici:request:create", () => {
    t.requests++;
    t.first_request_ms ??= now();
  });
  subscribe("undici:request:headers", () => {
    t.last_headers_ms = now();
  });
  process.on("exit", () => {
    t.exit_ms = now();
    writeFileSync(file, JSON.stringify(t));
  });
}
