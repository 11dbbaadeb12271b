/**
 * Daemon cycles in one process: `createDaemon(loaded)` (state db with the persistent validator cache, the real HTTP
 * limits), then rounds of `runScheduledCycle` for every project, as one cron tick without jitter would start them (no manual-check limit). Between
 * rounds it resets / reads the sim's counters through the sim-server's control API.
 *
 *   node [--expose-gc] bench/workers/daemon-cycles.ts '<DaemonCyclesJob JSON>'
 *
 * Prints one JSON line (DaemonCyclesResult) on stdout; progress on stderr.
 */
import { subscribe } from "node:diagnostics_channel";
import { openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { join } from "node:path";
import { getHeapStatistics, writeHeapSnapshot } from "node:v8";
import pLimit from "p-limit";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { Report } from "../../src/report/types.ts";
import type { SimStatsSnapshot } from "../lib/sim-protocol.ts";
import { round as roundTo, roundSummary, summarize, type Summary } from "../lib/stats.ts";

export interface DaemonCyclesJob {
  config: string;
  control: string;
  /** Rounds over every project (cold first); each reports wall time, statuses, RSS and the sim's counters. */
  rounds: number;
  /** Concurrent cycles (0: all projects at once, like one cron tick). */
  concurrency: number;
  /** Leak check: after the rounds, this many more back-to-back rounds, RSS sampled after a forced GC. */
  leak?: { rounds: number; sampleEvery: number };
  /** After the rounds, keep the process (and the crates.io API queue) running this long, then read the sim again. */
  settleMs?: number;
  /**
   * BENCH_CPU_PROF=steady: profile from this round on (node:inspector, 1 ms sampling) and write the
   * `.cpuprofile` into profileDir, so a steady round's CPU is seen without the cold round's.
   */
  profileFrom?: number;
  profileDir?: string;
}

export interface RoundResult {
  round: number;
  wall_ms: number;
  cycles: number;
  statuses: Record<string, number>;
  /** Channel statuses over every report of the round (`unknown`: no verdict). */
  channel_statuses: Record<string, number>;
  /** Reports whose crates.io API answer was still queued (the index verdict stands; completed later). */
  queued_api: number;
  errors: string[];
  rss_mb: number;
  heap_mb: number;
  /** After a forced GC (only with --expose-gc): what stays live. */
  after_gc: {
    rss_mb: number;
    heap_mb: number;
    /** V8 heap committed (used plus what V8 keeps for growth), and how much of it is resident. */
    heap_total_mb: number;
    heap_physical_mb: number;
    /** V8's own malloc (zones, compiler) now and at its peak. */
    v8_malloced_mb: number;
    v8_peak_malloced_mb: number;
    external_mb: number;
    /** Resident anonymous memory (V8 heap, malloc) and file-backed pages (the node binary, libraries). */
    rss_anon_mb: number | null;
    rss_file_mb: number | null;
    anon_by_kind_mb: Record<string, number> | null;
  } | null;
  sim: SimStatsSnapshot;
  /**
   * The GitHub API requests of the round, from undici's diagnostics channels: created (handed to undici) to written
   * on the socket (undici defers a write on a reused keep-alive socket by one event-loop turn, to read anything the
   * server sent while it was idle), and written to the answer's headers parsed here (the network and the sim, then
   * this thread's event loop). Their sum is most of what a GitHub lane is held per request.
   */
  github_api_timing: { requests: number; created_to_written_ms: Spread; written_to_headers_ms: Spread };
  /**
   * Where the round's wall went on the daemon's thread: its CPU time (user + system, all threads of the process),
   * the event loop's delay (a 1 ms timer's lateness: how long an answer can wait for the thread), and V8's GC
   * pauses by kind (scavenges, mark-compacts) with the longest.
   */
  thread: {
    cpu_ms: number;
    loop_delay_ms: { p50: number; p99: number; max: number; mean: number };
    gc: Record<string, { count: number; total_ms: number; max_ms: number }>;
    /**
     * Sampled every 250 ms during the round: the largest RSS and V8 heap (used, committed) seen, when in the round
     * the RSS peaked, and the completions waiting then (what a cold tick's peak is made of).
     */
    peak: { rss_mb: number; heap_used_mb: number; heap_total_mb: number; rss_at_s: number; pending_at_rss: number };
  };
}

export type Spread = Summary & { mean: number };

export interface DaemonCyclesResult {
  projects: number;
  rounds: RoundResult[];
  leak: {
    cycle: number;
    rss_mb: number;
    heap_mb: number;
    heap_total_mb: number;
    external_mb: number;
    rss_anon_mb: number | null;
    rss_file_mb: number | null;
  }[];
  leak_wall_ms: number | null;
  max_rss_mb: number;
  /** The sim's counters after settleMs (cumulative since the last round's reset). */
  settled?: SimStatsSnapshot;
  /** crates.io API request starts as this process sent them (from its exchange events), over the whole run. */
  client_crates_api?: { requests: number; min_gap_ms: number | null; under_1s: number };
}

const job = JSON.parse(process.argv[2] ?? "{}") as DaemonCyclesJob;
const devNull = openSync("/dev/null", "w");
// pino at info, as the daemon runs; the lines are serialized but not kept.
const logDestination = { write: (line: string) => void writeSync(devNull, line) };

async function control(method: "GET" | "POST", path: string): Promise<unknown> {
  const res = await fetch(`${job.control}${path}`, { method });
  if (!res.ok) throw new Error(`sim control ${path}: HTTP ${res.status}`);
  return res.json();
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** RssAnon / RssFile of this process (MB), from /proc/self/status. */
function procStatus(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync("/proc/self/status", "utf8").split("\n")) {
    const m = /^(RssAnon|RssFile):\s+(\d+) kB/.exec(line);
    if (m) out[m[1] as string] = Math.round((Number(m[2]) / 1024) * 10) / 10;
  }
  return out;
}

/**
 * Resident anonymous memory by kind of mapping, from /proc/self/smaps: glibc's main heap (`[heap]`), mappings of
 * 64 MiB or less that start on a 64 MiB boundary (glibc's other arenas), mappings of 256 KiB (V8's heap pages), and
 * the rest (V8's large objects and code range, thread stacks, other mmaps).
 */
function anonByKind(): Record<string, number> {
  const out: Record<string, number> = { glibc_heap: 0, glibc_arenas: 0, v8_pages: 0, other: 0 };
  let kind: string | null = null;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const [, from = "0", to = "0", inode = "0", path = ""] = head;
      const start = parseInt(from, 16);
      const size = parseInt(to, 16) - start;
      if (path === "[heap]") kind = "glibc_heap";
      else if (inode !== "0" || path !== "") kind = null;
      else if (size === 256 * 1024) kind = "v8_pages";
      else if (start % (64 * 1024 * 1024) === 0 && size <= 64 * 1024 * 1024) kind = "glibc_arenas";
      else kind = "other";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind) out[kind] = (out[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  for (const k of Object.keys(out)) out[k] = Math.round((out[k] ?? 0) * 10) / 10;
  return out;
}

const loaded = loadConfigFile(job.config);
const names = loaded.config.projects.map((p) => p.name);
const { daemon } = createDaemon(loaded, { logDestination, daemon: { flushMs: 1_000 } });
// When each crates.io API request left this process (exchange end minus its duration): the spacing at our end.
const cratesApiHost = new URL(loaded.config.settings.crates.api_url).host;
const apiStarts: number[] = [];
daemon.onExchange((e) => {
  if (e.host === cratesApiHost) apiStarts.push(Date.now() - e.duration_ms);
});

// The GitHub API requests' timeline (RoundResult.github_api_timing), per round.
const githubOrigin = new URL(loaded.config.settings.github.api_url).origin;
const requestTimes = new WeakMap<object, [number, number]>();
let githubTimes: { written: number[]; headers: number[] } = { written: [], headers: [] };
subscribe("undici:request:create", (m) => {
  const { request } = m as { request: { origin?: string } };
  if (request.origin === githubOrigin) requestTimes.set(request, [performance.now(), 0]);
});
subscribe("undici:client:sendHeaders", (m) => {
  const t = requestTimes.get((m as { request: object }).request);
  if (t) t[1] = performance.now();
});
subscribe("undici:request:headers", (m) => {
  const { request } = m as { request: object };
  const t = requestTimes.get(request);
  if (!t || t[1] === 0) return;
  requestTimes.delete(request);
  githubTimes.written.push(t[1] - t[0]);
  githubTimes.headers.push(performance.now() - t[1]);
});

/** The mean (the waits add up to a lane's hold per request) beside the percentiles of bench/lib/stats.ts. */
function spread(values: readonly number[]): Spread {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return { mean: roundTo(mean, 2), ...roundSummary(summarize(values), 2) };
}

/** What a round keeps of its reports: counts only, folded in as each cycle ends (the daemon keeps none either). */
interface RoundTally {
  wall: number;
  cycles: number;
  statuses: Record<string, number>;
  channel_statuses: Record<string, number>;
  queued_api: number;
  errors: string[];
  firstError: Error | null;
}

function tally(t: RoundTally, rep: Report | Error): void {
  t.cycles++;
  const key = rep instanceof Error ? "error" : rep.status;
  t.statuses[key] = (t.statuses[key] ?? 0) + 1;
  if (rep instanceof Error) {
    t.firstError ??= rep;
    if (t.errors.length < 5) t.errors.push(rep.message);
    return;
  }
  for (const c of rep.channels) t.channel_statuses[c.status] = (t.channel_statuses[c.status] ?? 0) + 1;
  if (rep.channels.some((c) => c.findings.some((f) => f.code === "cross-check-skipped" && /queued/.test(f.message))))
    t.queued_api++;
}

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: "mark-compact",
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: "weak-callbacks",
};

/** Starts watching the thread; the function returned stops and reports (RoundResult.thread). */
function watchThread(): () => RoundResult["thread"] {
  const cpu0 = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const gc: RoundResult["thread"]["gc"] = {};
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const detail = (e as unknown as { detail?: { kind?: number } }).detail;
      const kind = GC_KINDS[detail?.kind ?? -1] ?? "other";
      const g = (gc[kind] ??= { count: 0, total_ms: 0, max_ms: 0 });
      g.count++;
      g.total_ms += e.duration;
      g.max_ms = Math.max(g.max_ms, e.duration);
    }
  });
  obs.observe({ entryTypes: ["gc"] });
  const t0 = performance.now();
  const peak = { rss_mb: 0, heap_used_mb: 0, heap_total_mb: 0, rss_at_s: 0, pending_at_rss: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    if (mb(m.rss) > peak.rss_mb) {
      peak.rss_mb = mb(m.rss);
      peak.rss_at_s = Math.round((performance.now() - t0) / 100) / 10;
      peak.pending_at_rss = daemon.pendingCompletions();
    }
    peak.heap_used_mb = Math.max(peak.heap_used_mb, mb(m.heapUsed));
    peak.heap_total_mb = Math.max(peak.heap_total_mb, mb(m.heapTotal));
  };
  const sampler = setInterval(sample, 250);
  return () => {
    clearInterval(sampler);
    sample();
    loop.disable();
    obs.disconnect();
    const cpu = process.cpuUsage(cpu0);
    const r1 = (n: number) => Math.round(n * 10) / 10;
    for (const g of Object.values(gc)) {
      g.total_ms = Math.round(g.total_ms);
      g.max_ms = r1(g.max_ms);
    }
    return {
      cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
      loop_delay_ms: {
        p50: r1(loop.percentile(50) / 1e6),
        p99: r1(loop.percentile(99) / 1e6),
        max: r1(loop.max / 1e6),
        mean: r1(loop.mean / 1e6),
      },
      gc,
      peak,
    };
  };
}

async function round(): Promise<RoundTally> {
  const limit = pLimit(job.concurrency > 0 ? job.concurrency : names.length);
  const t: RoundTally = {
    wall: 0,
    cycles: 0,
    statuses: {},
    channel_statuses: {},
    queued_api: 0,
    errors: [],
    firstError: null,
  };
  const t0 = performance.now();
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        const rep = await daemon
          .runScheduledCycle(name)
          .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
        tally(t, rep);
      }),
    ),
  );
  t.wall = performance.now() - t0;
  return t;
}

const result: DaemonCyclesResult = { projects: names.length, rounds: [], leak: [], leak_wall_ms: null, max_rss_mb: 0 };
let profiler: Session | null = null;
const allocProfile = process.env["BENCH_ALLOC_PROF"] === "1";
for (let r = 1; r <= job.rounds; r++) {
  await control("POST", "/reset");
  if (job.profileFrom === r) {
    profiler = new Session();
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.setSamplingInterval", { interval: 1000 });
    await profiler.post("Profiler.start");
    // BENCH_ALLOC_PROF=1: also sample allocations (garbage included: what the scavenges pay for) into alloc.heapprofile.
    if (allocProfile) {
      await profiler.post("HeapProfiler.startSampling", {
        samplingInterval: 16384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
  }
  githubTimes = { written: [], headers: [] };
  const stopWatching = watchThread();
  const { wall, cycles, statuses, channel_statuses, queued_api, errors } = await round();
  const thread = stopWatching();
  const sim = (await control("GET", "/stats")) as SimStatsSnapshot;
  const mem = process.memoryUsage();
  let after_gc: RoundResult["after_gc"] = null;
  const gcNow = (globalThis as { gc?: () => void }).gc;
  if (gcNow) {
    gcNow();
    gcNow();
    const m = process.memoryUsage();
    const status = procStatus();
    const v8 = getHeapStatistics();
    after_gc = {
      rss_mb: mb(m.rss),
      heap_mb: mb(m.heapUsed),
      heap_total_mb: mb(m.heapTotal),
      heap_physical_mb: mb(v8.total_physical_size),
      v8_malloced_mb: mb(v8.malloced_memory),
      v8_peak_malloced_mb: mb(v8.peak_malloced_memory),
      external_mb: mb(m.external),
      rss_anon_mb: status["RssAnon"] ?? null,
      rss_file_mb: status["RssFile"] ?? null,
      anon_by_kind_mb: process.platform === "linux" ? anonByKind() : null,
    };
  }
  result.rounds.push({
    round: r,
    wall_ms: Math.round(wall),
    cycles,
    statuses,
    channel_statuses,
    queued_api,
    errors,
    rss_mb: mb(mem.rss),
    heap_mb: mb(mem.heapUsed),
    after_gc,
    sim,
    github_api_timing: {
      requests: githubTimes.written.length,
      created_to_written_ms: spread(githubTimes.written),
      written_to_headers_ms: spread(githubTimes.headers),
    },
    thread,
  });
  process.stderr.write(`round ${r}: ${Math.round(wall)} ms ${JSON.stringify(statuses)}\n`);
}
if (profiler && job.profileDir) {
  if (allocProfile) {
    const { profile: hp } = await profiler.post("HeapProfiler.stopSampling");
    writeFileSync(join(job.profileDir, `alloc.heapprofile`), JSON.stringify(hp));
  }
  const { profile } = await profiler.post("Profiler.stop");
  writeFileSync(join(job.profileDir, `rounds-from-${job.profileFrom}.cpuprofile`), JSON.stringify(profile));
  profiler.disconnect();
}

// BENCH_HEAP_SNAPSHOT=<dir>: a heap snapshot after the rounds (what a steady daemon keeps live, for docs §6).
const snapshotDir = process.env["BENCH_HEAP_SNAPSHOT"];
if (snapshotDir) writeHeapSnapshot(join(snapshotDir, `after-round-${job.rounds}.heapsnapshot`));

if (job.leak) {
  const gc = (globalThis as { gc?: (o?: object) => void }).gc;
  if (!gc) throw new Error("the leak check needs node --expose-gc");
  const t0 = performance.now();
  for (let c = 1; c <= job.leak.rounds; c++) {
    const { firstError } = await round();
    if (firstError) throw firstError;
    if (c % job.leak.sampleEvery === 0) {
      // A "last resort" GC also gives unused heap pages back to the OS, so RSS shows what stays live.
      gc({ type: "major", execution: "sync", flavor: "last-resort" });
      const mem = process.memoryUsage();
      const status = procStatus();
      result.leak.push({
        cycle: c,
        rss_mb: mb(mem.rss),
        heap_mb: mb(mem.heapUsed),
        heap_total_mb: mb(mem.heapTotal),
        external_mb: mb(mem.external),
        rss_anon_mb: status["RssAnon"] ?? null,
        rss_file_mb: status["RssFile"] ?? null,
      });
      process.stderr.write(`leak: cycle ${c} rss ${mb(mem.rss)} MB heap ${mb(mem.heapUsed)} MB\n`);
    }
  }
  result.leak_wall_ms = Math.round(performance.now() - t0);
}

if (job.settleMs) {
  // Let the queued crates.io API requests run on for a while (their spacing is measured at the sim).
  await new Promise((resolve) => setTimeout(resolve, job.settleMs));
  result.settled = (await control("GET", "/stats")) as SimStatsSnapshot;
}
const sorted = [...apiStarts].sort((a, b) => a - b);
const gaps = sorted.slice(1).map((t, i) => t - (sorted[i] as number));
result.client_crates_api = {
  requests: sorted.length,
  min_gap_ms: gaps.length ? Math.min(...gaps) : null,
  under_1s: gaps.filter((g) => g < 1000).length,
};
await daemon.stop();
result.max_rss_mb = Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
process.stdout.write(`${JSON.stringify(result)}\n`);
// Deferred crates.io API requests may still be queued (one per second): they are not waited for.
process.exit(0);
