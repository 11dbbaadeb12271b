/**
 * Issue 16 item 3: the daemon's first cycle for N projects (1000; 200 with --quick) at 20 ms per request, every
 * project's cycle started at once (one cron tick; the global scheduler caps what runs, 16 by default). Target:
 * every channel gets a verdict in under 60 s, with zero crates.io API gaps under 1 s. crates.io from the sparse
 * index; the API's answers (trustpub_data) are queued at one per second and complete the reports later, so a
 * crates channel may be `pending` on its queued API part with the index verdict standing: that counts as a verdict,
 * `unknown` does not. The queue keeps running for SETTLE_MS after the round so its spacing is measured.
 */
import type { BenchContext, SectionResult } from "../lib/context.ts";
import { overLimit, peaks, runDaemonRounds } from "../lib/daemon-run.ts";
import { mib, ms, row, times } from "../lib/table.ts";
import type { RoundResult } from "../workers/daemon-cycles.ts";

const SETTLE_MS = 20_000;

export async function runFirstCycle(ctx: BenchContext): Promise<SectionResult> {
  const n = ctx.scaleProjects ?? (ctx.quick ? 200 : 1000);
  const latency = 20;
  ctx.log(
    `first-cycle: ${n} projects, one cold round with every cycle started at once, then ${SETTLE_MS / 1000} s of the API queue`,
  );
  const run = await runDaemonRounds(ctx, {
    name: "first-cycle",
    projects: n,
    latencyMs: latency,
    rounds: 1,
    concurrency: 0,
    settleMs: SETTLE_MS,
    githubRateLimit: 1_000_000,
  });
  const round = run.out.rounds[0] as RoundResult;
  const settled = run.out.settled ?? round.sim;
  const channels = round.channel_statuses;
  const noVerdict = (channels["unknown"] ?? 0) + (round.statuses["error"] ?? 0);
  const gaps = settled.crates_api_spacing.under_1s;
  const over = overLimit(round.sim);
  const rows = [
    row("first-cycle", `projects x channels @${latency}ms`, `${n} x 5, one tick`, "-", n, "-", null),
    row(
      "first-cycle",
      "every channel a verdict (none unknown)",
      `${noVerdict} without (${JSON.stringify(channels)})`,
      "0",
      noVerdict,
      "-",
      noVerdict === 0,
    ),
    row(
      "first-cycle",
      "first cycle: wall time to every verdict",
      `${ms(round.wall_ms)} (${round.sim.total} req)`,
      "< 60 s",
      round.wall_ms,
      times(round.wall_ms / 60_000),
      round.wall_ms < 60_000,
    ),
    row(
      "first-cycle",
      "crates API answers still queued at the verdict",
      `${round.queued_api} of ${n} reports (completed as they arrive, 1/s)`,
      "-",
      round.queued_api,
      "-",
      null,
    ),
    row(
      "first-cycle",
      "crates.io API gaps < 1 s",
      `${gaps} over ${settled.crates_api_spacing.requests} requests (min gap ${settled.crates_api_spacing.min_gap_ms ?? "-"} ms)`,
      "0",
      gaps,
      "-",
      gaps === 0,
    ),
    row(
      "first-cycle",
      "crates.io API gaps < 1 s, as sent (client side)",
      `${run.out.client_crates_api?.under_1s ?? "-"} over ${run.out.client_crates_api?.requests ?? "-"} (min gap ${run.out.client_crates_api?.min_gap_ms ?? "-"} ms)`,
      "0",
      run.out.client_crates_api?.under_1s ?? null,
      "-",
      null,
    ),
    row(
      "first-cycle",
      "per-host peak concurrency / limit",
      peaks(round.sim),
      "none over",
      over.length,
      "-",
      over.length === 0,
    ),
    row("first-cycle", "peak RSS (daemon process)", mib(run.max_rss_mb), "-", run.max_rss_mb, "-", null),
    row(
      "first-cycle",
      "sim process CPU during the round (the registries, same 2 cores)",
      `${ms(round.sim.cpu_ms)} (${Math.round((100 * round.sim.cpu_ms) / round.wall_ms)} % of the wall time)`,
      "-",
      round.sim.cpu_ms,
      "-",
      null,
    ),
  ];
  return {
    rows,
    data: {
      projects: n,
      latency_ms: latency,
      settle_ms: SETTLE_MS,
      round: { ...round, sim: undefined },
      sim: round.sim,
      settled,
      max_rss_mb: run.max_rss_mb,
      client_crates_api: run.out.client_crates_api,
      profile: run.profile,
    },
  };
}
