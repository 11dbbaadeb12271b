/**
 * Issue 16 item 3: one cron tick for N projects (1000; 200 with --quick) with the global scheduler cap
 * (`settings.watch.max_concurrent_cycles`, default 16): every project's cycle started at once, a cold tick then a
 * steady one, in one daemon process. Target: peak RSS under 250 MB (it was 556 MB with every cycle in flight).
 */
import type { BenchContext, SectionResult } from "../lib/context.ts";
import { overLimit, peaks, runDaemonRounds } from "../lib/daemon-run.ts";
import { mib, ms, row, times } from "../lib/table.ts";
import type { RoundResult } from "../workers/daemon-cycles.ts";

const CAP = 16;

export async function runTick(ctx: BenchContext): Promise<SectionResult> {
  const n = ctx.scaleProjects ?? (ctx.quick ? 200 : 1000);
  const latency = 20;
  const run = await runDaemonRounds(ctx, {
    name: "tick",
    projects: n,
    latencyMs: latency,
    rounds: 2,
    concurrency: 0,
    githubRateLimit: 1_000_000,
  });
  const [cold, steady] = run.out.rounds as [RoundResult, RoundResult];
  const over = [...overLimit(cold.sim), ...overLimit(steady.sim)];
  const rows = [
    row("tick", `projects @${latency}ms, max_concurrent_cycles`, `${n} x 5, cap ${CAP}`, "-", n, "-", null),
    row("tick", "cold tick: wall", ms(cold.wall_ms), "-", cold.wall_ms, "-", null),
    row("tick", "steady tick: wall", `${ms(steady.wall_ms)} (${steady.sim.total} req)`, "-", steady.wall_ms, "-", null),
    row(
      "tick",
      "peak RSS, one tick with the cap",
      mib(run.max_rss_mb),
      "< 250 MB",
      run.max_rss_mb,
      times(run.max_rss_mb / 250),
      run.max_rss_mb < 250,
    ),
    row(
      "tick",
      "live heap after the steady tick (forced GC)",
      mib(steady.after_gc?.heap_mb ?? Number.NaN),
      "-",
      null,
      "-",
      null,
    ),
    row(
      "tick",
      "per-host peak concurrency / limit (steady)",
      peaks(steady.sim),
      "none over",
      over.length,
      "-",
      over.length === 0,
    ),
  ];
  return {
    rows,
    data: {
      projects: n,
      latency_ms: latency,
      cap: CAP,
      rounds: run.out.rounds,
      max_rss_mb: run.max_rss_mb,
      profile: run.profile,
    },
  };
}
