/**
 * Issue 16 item 6, on its own: the runbook as a person runs it (the seed's post-release checks, each request a
 * separate `curl` process, in sequence) against `monitor verify` as a CLI process (bin/monitor.js: the bundle when
 * built), plasmite on the sim at 50 ms per request, rounds in alternating order after a warm-up. Reported as the
 * ratio CLI / runbook (below 1: the CLI is faster) without a target; what must hold is that curl exists and both
 * sides answer.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { plasmiteProject, writeConfig } from "../lib/config.ts";
import { BENCH_TOKEN, type BenchContext, type SectionResult } from "../lib/context.ts";
import { execTimed, runNode } from "../lib/proc.ts";
import { startSimServer } from "../lib/sim-client.ts";
import { roundSummary, summarize } from "../lib/stats.ts";
import { ms, row, times } from "../lib/table.ts";
import { CLI, CURL, seedChecks } from "./verify.ts";

const LATENCY = 50;

export async function runBaseline(ctx: BenchContext): Promise<SectionResult> {
  const rounds = ctx.quick ? 4 : 9;
  if (!existsSync(CURL)) {
    return {
      rows: [row("baseline", "runbook (curl per check)", `${CURL} not found`, "curl present", null, "-", false)],
      data: { error: `${CURL} not found` },
    };
  }
  const curlVersion = (await execTimed(CURL, ["--version"])).stdout.split("\n")[0] ?? "";
  const sim = await startSimServer({ world: { kind: "plasmite" }, latencyMs: LATENCY, token: BENCH_TOKEN });
  try {
    const config = writeConfig(ctx.tmp, "baseline.yaml", sim.ready.overlay, [plasmiteProject()]);
    const compileCache = join(ctx.tmp, "compile-cache");
    const cli = async (): Promise<number> => {
      const r = await runNode([CLI, "-c", config, "verify", "v0.8.0", "--json"], {
        env: { NODE_COMPILE_CACHE: compileCache },
      });
      if (r.code !== 0) throw new Error(`monitor verify exited ${r.code}: ${r.stderr.slice(0, 500)}`);
      return r.wall_ms;
    };
    const runbook = () => seedChecks(sim.ready.urls);
    await cli();
    await runbook();
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        a.push(await cli());
        b.push(await runbook());
      } else {
        b.push(await runbook());
        a.push(await cli());
      }
    }
    const sa = summarize(a);
    const sb = summarize(b);
    const ratio = sa.median / sb.median;
    ctx.log(`baseline: CLI ${Math.round(sa.median)} ms, runbook ${Math.round(sb.median)} ms`);
    return {
      rows: [
        row(
          "baseline",
          `runbook: 5 checks, one curl process each @${LATENCY}ms`,
          ms(sb.median),
          "-",
          sb.median,
          "-",
          null,
        ),
        row(
          "baseline",
          `monitor verify (CLI, 13 requests, 5 channels) @${LATENCY}ms`,
          ms(sa.median),
          "-",
          sa.median,
          "-",
          null,
        ),
        row("baseline", "CLI / runbook", times(ratio), "reported only", ratio, times(ratio), null),
        row("baseline", "curl present, both sides answer", curlVersion.slice(0, 40), "yes", null, "-", true),
      ],
      data: { rounds, latency_ms: LATENCY, curl: curlVersion, cli: roundSummary(sa), runbook: roundSummary(sb), ratio },
    };
  } finally {
    await sim.close();
  }
}
