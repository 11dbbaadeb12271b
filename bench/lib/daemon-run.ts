/**
 * The daemon sections' common part (first-cycle, tick, scale5k): a scale world of N projects x 5 channels in the
 * sim process at a latency, one config with the default settings (8 requests per host, crates.io API 1/s, default
 * provenance policy, `max_concurrent_cycles` 16) and no jitter, and one worker process
 * (bench/workers/daemon-cycles.ts) that runs rounds of cycles and reports the sim's counters per round.
 * With BENCH_CPU_PROF=1 the worker runs under `node --cpu-prof` and the profile is summarized by module
 * (BENCH_CPU_PROF_KEEP=<dir> keeps the raw profiles); BENCH_CPU_PROF=steady profiles the steady rounds only, and
 * BENCH_ALLOC_PROF=1 adds an allocation-sampling profile of them (alloc.heapprofile).
 */
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { scaleProject, writeConfig } from "./config.ts";
import { BENCH_TOKEN, type BenchContext } from "./context.ts";
import { summarizeProfileDir, type ProfileSummary } from "./cpuprofile.ts";
import { runNode } from "./proc.ts";
import { REPO_ROOT, startSimServer } from "./sim-client.ts";
import type { SimStatsSnapshot } from "./sim-protocol.ts";
import type { DaemonCyclesResult } from "../workers/daemon-cycles.ts";

export const HOST_CONCURRENCY = 8;
/**
 * The V8 flags bin/monitor.js applies to `monitor watch` (its MEMORY_FLAGS; test/bench/worker-flags.test.ts keeps
 * them equal), so the worker's memory figures are the shipped daemon's.
 */
export const DAEMON_WORKER_V8_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--max-old-space-size=512"];
/** The environment bin/monitor.js gives `monitor watch` (its MEMORY_ENV: glibc's malloc arenas), kept equal the same way. */
export const DAEMON_WORKER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" };
const LIMITS: Record<string, number> = { "crates-api": 1 };

export interface DaemonRun {
  out: DaemonCyclesResult;
  max_rss_mb: number;
  profile: ProfileSummary | null;
}

export interface DaemonRunOptions {
  name: string;
  projects: number;
  latencyMs: number;
  rounds: number;
  /** 0: every project at once (one cron tick; the daemon's scheduler caps what runs). */
  concurrency: number;
  settleMs?: number;
  /** Authenticated GitHub quota per hour at the sim. */
  githubRateLimit: number;
  /** settings.crates.api_min_interval (default: the real 1 s). */
  cratesApiMinInterval?: string;
}

export async function runDaemonRounds(ctx: BenchContext, o: DaemonRunOptions): Promise<DaemonRun> {
  ctx.log(`${o.name}: building a sim world with ${o.projects} projects x 5 channels at ${o.latencyMs} ms`);
  const sim = await startSimServer({
    world: { kind: "scale", projects: o.projects },
    latencyMs: o.latencyMs,
    token: BENCH_TOKEN,
    logLimit: Math.max(4_000_000, o.projects * 40),
    githubRateLimit: o.githubRateLimit,
  });
  try {
    const config = writeConfig(
      ctx.tmp,
      `${o.name}.yaml`,
      sim.ready.overlay,
      Array.from({ length: o.projects }, (_, i) => scaleProject(i)),
      {
        settings: {
          state_dir: join(ctx.tmp, `${o.name}-state`),
          watch: { jitter: "0" },
          ...(o.cratesApiMinInterval ? { crates: { api_min_interval: o.cratesApiMinInterval } } : {}),
        },
      },
    );
    const profDir = join(ctx.tmp, `${o.name}-prof`);
    // BENCH_CPU_PROF=1: the whole worker under --cpu-prof; BENCH_CPU_PROF=steady: from round 2 on (in the worker).
    const steadyOnly = process.env["BENCH_CPU_PROF"] === "steady" && o.rounds > 1;
    const profiling = process.env["BENCH_CPU_PROF"] === "1" || steadyOnly;
    if (profiling) mkdirSync(profDir, { recursive: true });
    const rssFile = join(ctx.tmp, `${o.name}-rss.json`);
    const job = {
      config,
      control: sim.ready.control,
      rounds: o.rounds,
      concurrency: o.concurrency,
      ...(o.settleMs ? { settleMs: o.settleMs } : {}),
      ...(steadyOnly ? { profileFrom: 2, profileDir: profDir } : {}),
    };
    const r = await runNode(
      [
        ...(profiling && !steadyOnly ? ["--cpu-prof", "--cpu-prof-interval", "10000", "--cpu-prof-dir", profDir] : []),
        ...DAEMON_WORKER_V8_FLAGS,
        "--expose-gc",
        join(REPO_ROOT, "bench", "workers", "daemon-cycles.ts"),
        JSON.stringify(job),
      ],
      { rssFile, timeoutMs: 3_600_000, env: { ...DAEMON_WORKER_ENV, ...process.env } },
    );
    if (r.code !== 0) throw new Error(`daemon-cycles exited ${r.code}: ${r.stderr.slice(-1500)}`);
    const out = JSON.parse(r.stdout) as DaemonCyclesResult;
    for (const round of out.rounds) {
      const t = round.thread;
      const gh = round.github_api_timing;
      const gc = Object.entries(t.gc)
        .map(([kind, g]) => `${kind} ${g.count}x ${g.total_ms} ms (max ${g.max_ms})`)
        .join(", ");
      ctx.log(
        `${o.name}: round ${round.round}: ${round.wall_ms} ms wall, ${t.cpu_ms} ms CPU; event-loop delay p50 ` +
          `${t.loop_delay_ms.p50} / p99 ${t.loop_delay_ms.p99} / max ${t.loop_delay_ms.max} ms; GC ${gc}; peak RSS ` +
          `${t.peak.rss_mb} MB at ${t.peak.rss_at_s} s (${t.peak.pending_at_rss} completions waiting), heap peak ` +
          `${t.peak.heap_used_mb} used / ${t.peak.heap_total_mb} MB committed; ${gh.requests} GitHub API requests, ` +
          `created to written ${gh.created_to_written_ms.mean} ms (p90 ${gh.created_to_written_ms.p90}), written to ` +
          `headers ${gh.written_to_headers_ms.mean} ms (p90 ${gh.written_to_headers_ms.p90})` +
          (round.after_gc
            ? `; after a GC: RSS ${round.after_gc.rss_mb} MB (anon ${round.after_gc.rss_anon_mb}), heap ` +
              `${round.after_gc.heap_mb} of ${round.after_gc.heap_total_mb} MB, external ${round.after_gc.external_mb} MB` +
              (round.after_gc.anon_by_kind_mb
                ? `; anon by mapping ${JSON.stringify(round.after_gc.anon_by_kind_mb)}`
                : "")
            : ""),
      );
    }
    const profile = profiling ? summarizeProfileDir(profDir) : null;
    // BENCH_CPU_PROF_KEEP=<dir>: keep the raw .cpuprofile files (the run's tmp dir is removed at the end).
    const keep = process.env["BENCH_CPU_PROF_KEEP"];
    if (profiling && keep) cpSync(profDir, join(keep, o.name), { recursive: true });
    if (profile) {
      ctx.log(`${o.name}: CPU profile, ${profile.total_ms} ms sampled; self time by module, then by function:`);
      for (const m of [...profile.by_module, ...profile.by_function]) ctx.log(`  ${m.ms} ms ${m.share} % ${m.owner}`);
    }
    return { out, max_rss_mb: r.max_rss_mb ?? out.max_rss_mb, profile };
  } finally {
    await sim.close();
  }
}

/** Hosts whose peak concurrency went over their limit, with the peaks. */
export function overLimit(sim: SimStatsSnapshot): string[] {
  return Object.entries(sim.peak_concurrency)
    .filter(([service, peak]) => peak > (LIMITS[service] ?? HOST_CONCURRENCY))
    .map(([service, peak]) => `${service} ${peak} > ${LIMITS[service] ?? HOST_CONCURRENCY}`);
}

export function peaks(sim: SimStatsSnapshot): string {
  return Object.entries(sim.peak_concurrency)
    .filter(([, p]) => p > 0)
    .map(([service, peak]) => `${service} ${peak}/${LIMITS[service] ?? HOST_CONCURRENCY}`)
    .join(", ");
}
