/**
 * 3. `monitor verify --deep --channel github` on a release whose one asset is 1 GiB (256 MiB with --quick),
 * generated and streamed by the sim, against sha256sum on the same bytes: from a temp file written once (hash only,
 * page cache) and through `curl | sha256sum` from the same sim URL (same transfer path). Peak RSS of the verifying
 * process from a preload that records process.resourceUsage().maxRSS at exit.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/report/types.ts";
import { deepProject, writeConfig } from "../lib/config.ts";
import { BENCH_TOKEN, type BenchContext, type SectionResult } from "../lib/context.ts";
import { execTimed, runNode } from "../lib/proc.ts";
import { REPO_ROOT, startSimServer } from "../lib/sim-client.ts";
import { roundSummary, summarize } from "../lib/stats.ts";
import { mib, ms, row, times, type TargetRow } from "../lib/table.ts";
import { BENCH_TAG, BENCH_VERSION } from "../lib/worlds.ts";

/** The installed entry point: runs the bundle (dist/cli/, `npm run build`) when built, else src/. */
const CLI = join(REPO_ROOT, "bin", "monitor.js");
const MiB = 1024 * 1024;

/** One way of running the deep verify: node options before the entry point, and environment. */
interface Variant {
  nodeArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

interface DeepRun {
  wall_ms: number;
  stream_ms: number;
  max_rss_mb: number;
  sha256: string;
}

export async function runDeep(ctx: BenchContext): Promise<SectionResult> {
  const bytes = (ctx.quick ? 256 : 1024) * MiB;
  const reps = ctx.quick ? 2 : 3;
  ctx.log(`deep: generating a ${bytes / MiB} MiB asset in the sim`);
  const sim = await startSimServer({ world: { kind: "deep", assetBytes: bytes }, latencyMs: 0, token: BENCH_TOKEN });
  const file = join(ctx.tmp, "asset.bin");
  try {
    const config = writeConfig(ctx.tmp, "deep.yaml", sim.ready.overlay, [deepProject()]);
    const assetUrl = `${sim.ready.urls.githubWeb}/bench/big/releases/download/${BENCH_TAG}/big_${BENCH_VERSION}_linux_amd64.tar.gz`;
    const verify = async (variant: Variant): Promise<DeepRun> => {
      const rssFile = join(ctx.tmp, "deep-rss.json");
      const argv = [CLI, "-c", config, "verify", BENCH_TAG, "--deep", "--channel", "github", "--json"];
      const r = await runNode([...(variant.nodeArgs ?? []), ...argv], {
        rssFile,
        env: { NODE_COMPILE_CACHE: join(ctx.tmp, "compile-cache"), ...variant.env },
      });
      if (r.code !== 0) throw new Error(`verify --deep exited ${r.code}: ${r.stderr.slice(0, 500)}`);
      const report = JSON.parse(r.stdout) as Report;
      const github = report.channels.find((c) => c.channel === "github");
      const download = github?.evidence.filter((e) => e.status === 200).at(-1);
      const observed = github?.observed as { downloads?: Record<string, string> | null } | null;
      const sha = Object.entries(observed?.downloads ?? {}).find(([name]) => name.endsWith(".tar.gz"))?.[1] ?? "";
      return {
        wall_ms: r.wall_ms,
        stream_ms: download?.duration_ms ?? Number.NaN,
        max_rss_mb: r.max_rss_mb ?? Number.NaN,
        sha256: sha,
      };
    };
    const variants: Record<string, Variant> = {
      default: {},
      // bin/monitor.js gives --deep a 1 MB young generation and no optimising JIT itself; this is V8's defaults.
      v8_default_heap: { env: { MONITOR_NO_V8_FLAGS: "1" } },
      // The small young generation, with V8's optimising tiers on (a flag the user gives wins over DEEP_FLAGS).
      optimising_jit: { nodeArgs: ["--opt", "--maglev", "--no-liftoff-only"] },
    };
    await verify({}); // warm the compile cache
    const runs: Record<string, DeepRun[]> = { default: [], v8_default_heap: [], optimising_jit: [] };
    const fileHash: number[] = [];
    const pipeHash: number[] = [];
    ctx.log("deep: writing the same bytes to a temp file (curl -L)");
    await execTimed("/usr/bin/curl", ["-sSfL", "-o", file, assetUrl]);
    let reference = "";
    for (let i = 0; i < reps; i++) {
      ctx.log(`deep: round ${i + 1}/${reps}`);
      for (const [name, env] of Object.entries(variants)) runs[name]?.push(await verify(env));
      const f = await execTimed("/usr/bin/sha256sum", [file]);
      reference = f.stdout.split(/\s+/)[0] ?? "";
      fileHash.push(f.wall_ms);
      const p = await execTimed("/bin/sh", ["-c", `/usr/bin/curl -sSfL '${assetUrl}' | /usr/bin/sha256sum`]);
      pipeHash.push(p.wall_ms);
    }
    const all = Object.values(runs).flat();
    const correct = all.every((r) => r.sha256 === reference);
    const mbps = (ms: number) => bytes / MiB / (ms / 1000);
    const s = (xs: number[]) => summarize(xs);
    const d = runs["default"] as DeepRun[];
    const y = runs["v8_default_heap"] as DeepRun[];
    const streamMbps = mbps(s(d.map((r) => r.stream_ms)).median);
    const endToEndMbps = mbps(s(d.map((r) => r.wall_ms)).median);
    const fileMbps = mbps(s(fileHash).median);
    const pipeMbps = mbps(s(pipeHash).median);
    const rss = s(d.map((r) => r.max_rss_mb)).max;
    const rssYoung = s(y.map((r) => r.max_rss_mb)).max;
    const youngMbps = mbps(s(y.map((r) => r.stream_ms)).median);
    const j = runs["optimising_jit"] as DeepRun[];
    const rssJit = s(j.map((r) => r.max_rss_mb)).max;
    const jitMbps = mbps(s(j.map((r) => r.stream_ms)).median);
    const sha256sumVersion = (await execTimed("/usr/bin/sha256sum", ["--version"])).stdout.split("\n")[0] ?? "";
    const rows: TargetRow[] = [
      row(
        "deep",
        `asset hashes match sha256sum (${bytes / MiB} MiB)`,
        correct ? "yes" : "NO",
        "same digest",
        null,
        "-",
        correct,
      ),
      row(
        "deep",
        "sha256sum, temp file (hash only)",
        `${fileMbps.toFixed(0)} MiB/s (${ms(s(fileHash).median)})`,
        "-",
        fileMbps,
        "-",
        null,
      ),
      row(
        "deep",
        "curl | sha256sum from the sim",
        `${pipeMbps.toFixed(0)} MiB/s (${ms(s(pipeHash).median)})`,
        "-",
        pipeMbps,
        "-",
        null,
      ),
      row(
        "deep",
        "verify --deep: asset stream + sha256",
        `${streamMbps.toFixed(0)} MiB/s`,
        ">= 0.8x sha256sum (file)",
        streamMbps / fileMbps,
        times(streamMbps / fileMbps),
        streamMbps / fileMbps >= 0.8,
      ),
      row(
        "deep",
        "verify --deep: end to end (incl. start-up)",
        `${endToEndMbps.toFixed(0)} MiB/s (${ms(s(d.map((r) => r.wall_ms)).median)})`,
        "-",
        endToEndMbps / fileMbps,
        times(endToEndMbps / fileMbps),
        null,
      ),
      row(
        "deep",
        "verify --deep: peak RSS",
        `${mib(rss)} (max of ${d.length})`,
        "< 100 MB",
        rss,
        times(rss / 100),
        rss < 100,
      ),
      row(
        "deep",
        "same with V8's default heap (MONITOR_NO_V8_FLAGS=1)",
        `${mib(rssYoung)}, ${youngMbps.toFixed(0)} MiB/s`,
        "-",
        rssYoung,
        times(rssYoung / 100),
        null,
      ),
      row(
        "deep",
        "same with V8's optimising JIT (--opt --maglev --no-liftoff-only)",
        `${mib(rssJit)}, ${jitMbps.toFixed(0)} MiB/s`,
        "-",
        rssJit,
        times(rssJit / 100),
        null,
      ),
    ];
    return {
      rows,
      data: {
        bytes,
        reps,
        sha256sum: sha256sumVersion,
        reference_sha256: reference,
        digests_match: correct,
        sha256sum_file_ms: roundSummary(s(fileHash)),
        curl_pipe_sha256sum_ms: roundSummary(s(pipeHash)),
        verify_default: { runs: d, stream_mib_s: streamMbps, end_to_end_mib_s: endToEndMbps, max_rss_mb: rss },
        verify_v8_default_heap: { runs: y, stream_mib_s: youngMbps, max_rss_mb: rssYoung },
        verify_optimising_jit: { runs: j, stream_mib_s: jitMbps, max_rss_mb: rssJit },
        throughput_mib_s: { sha256sum_file: fileMbps, curl_pipe_sha256sum: pipeMbps },
      },
    };
  } finally {
    rmSync(file, { force: true });
    await sim.close();
  }
}
