/**
 * Issue 16 item 5: a steady cycle for N projects x 5 channels (5000; 1000 with --quick) at 20 ms per request, in
 * one daemon process, every cycle started at once (one cron tick, the scheduler's cap of 16), with the default
 * provenance policy. Two ticks first fill the state (validator cache, attestation cache, crates.io documents; the
 * second still pays for the download_count the first one's checksum downloads bumped); the third is measured. In
 * steady state every crates.io API document is cached (asked once per version, ever); filling that cache for N
 * versions takes N seconds at the real 1 request/s, so this section runs with `api_min_interval: 0` (the spacing
 * is measured by the first-cycle section; the steady tick asks the API nothing). Targets: under 60 s, peak RSS under 300 MB, no host over its concurrency limit,
 * 0 billable GitHub requests.
 */
import type { BenchContext, SectionResult } from "../lib/context.ts";
import { overLimit, peaks, runDaemonRounds, HOST_CONCURRENCY } from "../lib/daemon-run.ts";
import { mib, ms, row, times } from "../lib/table.ts";
import type { RoundResult } from "../workers/daemon-cycles.ts";

export async function runScale5k(ctx: BenchContext): Promise<SectionResult> {
  const n = ctx.scaleProjects ?? (ctx.quick ? 1000 : 5000);
  const latency = 20;
  const run = await runDaemonRounds(ctx, {
    name: "scale5k",
    projects: n,
    latencyMs: latency,
    rounds: 3,
    concurrency: 0,
    githubRateLimit: 10_000_000,
    cratesApiMinInterval: "0",
  });
  const [cold, , steady] = run.out.rounds as [RoundResult, RoundResult, RoundResult];
  const over = run.out.rounds.flatMap((r) => overLimit(r.sim));
  const gh = steady.sim.services["github-api"];
  // The floor set by GitHub's per-host limit: its requests in sequence over HOST_CONCURRENCY lanes at the latency.
  const ghFloorMs = (gh.requests * latency) / HOST_CONCURRENCY;
  // The same floor from the sim's own time per GitHub request (the latency plus its timer and event loop).
  const served = steady.sim.github_api_time_ms;
  const servedFloorMs = served ? served.total / HOST_CONCURRENCY : null;
  const allOk = (steady.statuses["ok"] ?? 0) === n;
  const timing = steady.github_api_timing;
  const laneMs = (steady.wall_ms * HOST_CONCURRENCY) / Math.max(1, gh.requests);
  const ms2 = (v: number) => `${v.toFixed(1)} ms`;
  const rows = [
    row("scale5k", `projects x channels @${latency}ms`, `${n} x 5, one tick, cap 16`, "-", n, "-", null),
    row("scale5k", "cold tick: wall", `${ms(cold.wall_ms)} (${cold.sim.total} req)`, "-", cold.wall_ms, "-", null),
    row(
      "scale5k",
      "steady: every report ok",
      allOk ? "yes" : JSON.stringify(steady.statuses),
      "all ok",
      null,
      "-",
      allOk,
    ),
    row(
      "scale5k",
      "steady cycle: wall",
      `${ms(steady.wall_ms)} (${steady.sim.total} req, ${gh.requests} to api.github.com)`,
      "< 60 s",
      steady.wall_ms,
      times(steady.wall_ms / 60_000),
      steady.wall_ms < 60_000,
    ),
    row(
      "scale5k",
      "GitHub per-host floor (requests x latency / 8 lanes)",
      ms(ghFloorMs),
      "-",
      ghFloorMs,
      times(steady.wall_ms / Math.max(1, ghFloorMs)),
      null,
    ),
    row(
      "scale5k",
      "GitHub floor as the sim served it (its time per request x requests / 8 lanes)",
      served && servedFloorMs !== null
        ? `${ms(servedFloorMs)} (${served.mean} ms mean, p99 ${served.p99} ms per request)`
        : "not logged",
      "-",
      servedFloorMs,
      servedFloorMs ? times(steady.wall_ms / servedFloorMs) : "-",
      null,
    ),
    // The lanes are never idle in a steady tick (the queue for them is not empty), so the wall is what each request
    // holds a lane: the latency, the sim's own time, and the two waits on the daemon's side measured here.
    row(
      "scale5k",
      "GitHub lane held per request (wall x 8 / requests): created to written / written to headers",
      `${ms2(laneMs)}: ${ms2(timing.created_to_written_ms.mean)} (p90 ${ms2(timing.created_to_written_ms.p90)}) / ` +
        `${ms2(timing.written_to_headers_ms.mean)} (p90 ${ms2(timing.written_to_headers_ms.p90)})`,
      "-",
      laneMs,
      "-",
      null,
    ),
    row(
      "scale5k",
      "peak RSS (daemon process)",
      mib(run.max_rss_mb),
      "< 300 MB",
      run.max_rss_mb,
      times(run.max_rss_mb / 300),
      run.max_rss_mb < 300,
    ),
    row(
      "scale5k",
      "per-host peak concurrency / limit",
      peaks(steady.sim),
      "none over",
      over.length,
      "-",
      over.length === 0,
    ),
    row(
      "scale5k",
      "billable GitHub requests, steady cycle",
      String(steady.sim.github_billable),
      "0",
      steady.sim.github_billable,
      "-",
      steady.sim.github_billable === 0,
    ),
  ];
  return {
    rows,
    data: {
      projects: n,
      latency_ms: latency,
      rounds: run.out.rounds,
      max_rss_mb: run.max_rss_mb,
      github_floor_ms: ghFloorMs,
      github_served_floor_ms: servedFloorMs,
      github_lane_ms_per_request: laneMs,
      profile: run.profile,
    },
  };
}
