/**
 * 5. Daemon footprint: idle RSS of a real `monitor watch` child (status server included) after its first cycle,
 * the memory floor of the code it loads, and a leak check: thousands of cycles back to back in one process,
 * RSS sampled every 500 cycles after a forced GC.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { plasmiteProject, writeConfig } from "../lib/config.ts";
import { BENCH_TOKEN, type BenchContext, type SectionResult } from "../lib/context.ts";
import { runNode } from "../lib/proc.ts";
import { REPO_ROOT, startSimServer } from "../lib/sim-client.ts";
import { mib, ms, row, times, type TargetRow } from "../lib/table.ts";
import type { DaemonCyclesResult } from "../workers/daemon-cycles.ts";
import { DAEMON_WORKER_V8_FLAGS } from "../lib/daemon-run.ts";

/** The installed entry point: runs the bundle (dist/cli/, `npm run build`) when built, else src/. */
const CLI = join(REPO_ROOT, "bin", "monitor.js");
const IDLE_SETTLE_MS = 5_000;

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, "utf8").split("\n")) {
    const m = /^(VmRSS|VmHWM|RssAnon|RssFile):\s+(\d+) kB/.exec(line);
    if (m) out[m[1] as string] = Number(m[2]) / 1024;
  }
  return out;
}

/** `monitor watch` until its first cycle is logged, then IDLE_SETTLE_MS of idling; RSS from /proc/<pid>/status. */
async function idleDaemon(config: string, ctx: BenchContext): Promise<Record<string, number>> {
  const child = spawn(process.execPath, [CLI, "-c", config, "watch"], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NODE_COMPILE_CACHE: join(ctx.tmp, "compile-cache") },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    let atWatching: Record<string, number> = {};
    for await (const line of createInterface({ input: child.stderr })) {
      let msg = "";
      try {
        msg = (JSON.parse(line) as { msg?: string }).msg ?? "";
      } catch {
        continue;
      }
      if (msg === "watching") atWatching = procStatus(child.pid as number);
      if (msg === "cycle") break;
      if (msg === "cycle failed") throw new Error(`monitor watch: first cycle failed: ${line}`);
    }
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const idle = procStatus(child.pid as number);
    return {
      rss_at_watching_mb: atWatching["VmRSS"] ?? Number.NaN,
      idle_rss_mb: idle["VmRSS"] ?? Number.NaN,
      idle_hwm_mb: idle["VmHWM"] ?? Number.NaN,
      idle_rss_anon_mb: idle["RssAnon"] ?? Number.NaN,
      idle_rss_file_mb: idle["RssFile"] ?? Number.NaN,
    };
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

async function floor(target: string | null, ctx: BenchContext): Promise<number> {
  const args = target
    ? ["--expose-gc", join(REPO_ROOT, "bench", "workers", "import-floor.ts"), target]
    : [
        "--expose-gc",
        "-e",
        "globalThis.gc(); process.stdout.write(JSON.stringify({ rss_mb: process.memoryUsage().rss / 1048576 }))",
      ];
  const r = await runNode(args, { env: { NODE_COMPILE_CACHE: join(ctx.tmp, "compile-cache") } });
  return (JSON.parse(r.stdout) as { rss_mb: number }).rss_mb;
}

export async function runFootprint(ctx: BenchContext): Promise<SectionResult> {
  const cycles = ctx.quick ? 1_500 : 5_000;
  const every = ctx.quick ? 250 : 500;
  const sim = await startSimServer({ world: { kind: "plasmite" }, latencyMs: 0, token: BENCH_TOKEN });
  try {
    ctx.log("footprint: idle monitor watch");
    const idleConfig = writeConfig(ctx.tmp, "idle.yaml", sim.ready.overlay, [plasmiteProject()], {
      settings: {
        state_dir: join(ctx.tmp, "idle-state"),
        watch: { jitter: "0" },
        server: { listen: "127.0.0.1:0" },
      },
    });
    const idle = await idleDaemon(idleConfig, ctx);
    const bare = await floor(null, ctx);
    // Twice each: the first run fills the compile cache, as a CLI's first run does.
    await floor("src/cli/commands/watch.ts", ctx);
    const watchCode = await floor("src/cli/commands/watch.ts", ctx);
    await floor("src/cli/commands/verify-action.ts", ctx);
    const verifyCode = await floor("src/cli/commands/verify-action.ts", ctx);

    ctx.log(`footprint: ${cycles} cycles back to back (RSS after GC every ${every})`);
    const leakConfig = writeConfig(ctx.tmp, "leak.yaml", sim.ready.overlay, [plasmiteProject()], {
      settings: { state_dir: join(ctx.tmp, "leak-state"), watch: { jitter: "0" } },
    });
    const r = await runNode(
      [
        ...DAEMON_WORKER_V8_FLAGS,
        "--expose-gc",
        join(REPO_ROOT, "bench", "workers", "daemon-cycles.ts"),
        JSON.stringify({
          config: leakConfig,
          control: sim.ready.control,
          rounds: 0,
          concurrency: 0,
          leak: { rounds: cycles, sampleEvery: every },
        }),
      ],
      { timeoutMs: 3_600_000 },
    );
    if (r.code !== 0) throw new Error(`leak check exited ${r.code}: ${r.stderr.slice(-1500)}`);
    const out = JSON.parse(r.stdout) as DaemonCyclesResult;
    const first = out.leak[0];
    const last = out.leak.at(-1);
    if (!first || !last) throw new Error("leak check produced no samples");
    const growth = (last.rss_mb - first.rss_mb) / first.rss_mb;
    const heapGrowth = (last.heap_mb - first.heap_mb) / first.heap_mb;
    const perCycle = (out.leak_wall_ms ?? 0) / cycles;
    const rows: TargetRow[] = [
      row(
        "footprint",
        "idle RSS, monitor watch (after 1st cycle)",
        mib(idle["idle_rss_mb"] as number),
        "< 70 MB",
        idle["idle_rss_mb"] as number,
        times((idle["idle_rss_mb"] as number) / 70),
        (idle["idle_rss_mb"] as number) < 70,
      ),
      row(
        "footprint",
        "floor: bare node / verify code / watch code",
        `${mib(bare)} / ${mib(verifyCode)} / ${mib(watchCode)}`,
        "-",
        watchCode,
        "-",
        null,
      ),
      row(
        "footprint",
        `RSS after GC, cycle ${first.cycle} -> ${last.cycle}`,
        `${mib(first.rss_mb)} -> ${mib(last.rss_mb)} (${(growth * 100).toFixed(1)}%)`,
        "< 10% growth",
        growth,
        times(growth / 0.1),
        growth < 0.1,
      ),
      row(
        "footprint",
        `live heap, cycle ${first.cycle} -> ${last.cycle}`,
        `${first.heap_mb} -> ${last.heap_mb} MB (${(heapGrowth * 100).toFixed(1)}%)`,
        "-",
        heapGrowth,
        "-",
        null,
      ),
      row(
        "footprint",
        "cycles back to back",
        `${cycles} in ${ms(out.leak_wall_ms ?? 0)} (${perCycle.toFixed(1)} ms/cycle)`,
        "-",
        perCycle,
        "-",
        null,
      ),
    ];
    return {
      rows,
      data: {
        idle,
        floor_mb: { bare_node: bare, verify_command_code: verifyCode, watch_command_code: watchCode },
        leak: {
          cycles,
          sample_every: every,
          samples: out.leak,
          wall_ms: out.leak_wall_ms,
          rss_growth: growth,
          heap_growth: heapGrowth,
        },
      },
    };
  } finally {
    await sim.close();
  }
}
