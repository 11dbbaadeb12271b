/**
 * In-process `verifyRelease`, one run per stdin line ("run"), one JSON line per run on stdout. Modules are loaded
 * once; each run builds a fresh runtime (own undici Agent: new connections, empty caches), like one CLI invocation
 * minus Node start-up and module loading. Usage: node bench/workers/verify-inproc.ts <config> <project> <tag>
 */
import { createInterface } from "node:readline";
import { createRuntime } from "../../src/runtime/runtime.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { verifyRelease } from "../../src/verify/run.ts";

const [configPath = "", projectName = "", tag = ""] = process.argv.slice(2);
const loaded = loadConfigFile(configPath);
const project = loaded.config.projects.find((p) => p.name === projectName);
if (!project) throw new Error(`no project ${projectName} in ${configPath}`);
const quiet = { write: () => {} };

export interface InprocRun {
  ms: number;
  status: string;
  report_ms: number;
  requests: number;
  /** Longest chain of requests that each started after the previous one ended (from the evidence timestamps). */
  hops: number;
  hops_by_channel: Record<string, number>;
}

async function once(): Promise<InprocRun> {
  const rt = createRuntime(loaded, { logDestination: quiet });
  const t0 = performance.now();
  const report = await verifyRelease(rt, loaded, project as NonNullable<typeof project>, tag);
  const ms = performance.now() - t0;
  await rt.close();
  const all = report.channels.flatMap((c) =>
    c.evidence.map((e) => ({ channel: c.channel, start: Date.parse(e.at), end: Date.parse(e.at) + e.duration_ms })),
  );
  const byChannel: Record<string, number> = {};
  for (const c of report.channels) byChannel[c.channel] = chainLength(all.filter((e) => e.channel === c.channel));
  return {
    ms,
    status: report.status,
    report_ms: report.duration_ms,
    requests: all.length,
    hops: chainLength(all),
    hops_by_channel: byChannel,
  };
}

/** Rounds of latency: depth(e) = 1 + the deepest exchange that had ended when e started (1 ms timestamp slack). */
function chainLength(list: readonly { start: number; end: number }[]): number {
  const sorted = [...list].sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  sorted.forEach((e, i) => {
    let d = 1;
    for (let j = 0; j < i; j++) {
      const prior = sorted[j] as { end: number };
      if (prior.end <= e.start + 1) d = Math.max(d, (depth[j] ?? 0) + 1);
    }
    depth[i] = d;
  });
  return Math.max(0, ...depth);
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "quit") break;
  if (line.trim() !== "run") continue;
  process.stdout.write(`${JSON.stringify(await once())}\n`);
}
