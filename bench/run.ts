/**
 * `npm run bench [-- --only verify,steady,deep,scale,footprint,parser,first-cycle,tick,scale5k,baseline,ha] [--quick]
 *   [--scale-projects N]`
 *
 * A benchmark harness, not a test: every measure runs against the simulated registries in a separate process
 * (bench/sim-server.ts), prints medians / p90 / min and ratios against its target with PASS/MISS, and writes
 * bench/results.json with the machine it ran on. Method and figures: docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { BenchContext, SectionResult } from "./lib/context.ts";
import { BENCH_DIR } from "./lib/sim-client.ts";
import { renderTable, row, type TargetRow } from "./lib/table.ts";
import { runBaseline } from "./sections/baseline.ts";
import { runDeep } from "./sections/deep.ts";
import { runFirstCycle } from "./sections/first-cycle.ts";
import { runFootprint } from "./sections/footprint.ts";
import { runHa } from "./sections/ha.ts";
import { runParser } from "./sections/parser.ts";
import { runScale } from "./sections/scale.ts";
import { runScale5k } from "./sections/scale5k.ts";
import { runSteady } from "./sections/steady.ts";
import { runTick } from "./sections/tick.ts";
import { runVerify } from "./sections/verify.ts";

const SECTIONS: Record<string, (ctx: BenchContext) => Promise<SectionResult>> = {
  verify: runVerify,
  steady: runSteady,
  deep: runDeep,
  footprint: runFootprint,
  scale: runScale,
  parser: runParser,
  "first-cycle": runFirstCycle,
  tick: runTick,
  scale5k: runScale5k,
  baseline: runBaseline,
  ha: runHa,
};

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    quick: { type: "boolean", default: false },
    "scale-projects": { type: "string" },
    out: { type: "string" },
  },
});

const only = values.only ? values.only.split(",").map((s) => s.trim()) : Object.keys(SECTIONS);
const unknown = only.filter((s) => !(s in SECTIONS));
if (unknown.length) {
  process.stderr.write(`unknown section(s): ${unknown.join(", ")} (have: ${Object.keys(SECTIONS).join(", ")})\n`);
  process.exit(2);
}

const started = Date.now();
mkdirSync(join(BENCH_DIR, "tmp"), { recursive: true });
const tmp = mkdtempSync(join(BENCH_DIR, "tmp", "run-"));
const log = (m: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
const ctx: BenchContext = {
  quick: values.quick,
  tmp,
  log,
  scaleProjects: values["scale-projects"] ? Number(values["scale-projects"]) : null,
};

const machine = {
  cpu_model: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memory_gb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  free_memory_gb_at_start: Math.round((freemem() / 1024 ** 3) * 10) / 10,
  node: process.version,
  platform: `${process.platform} ${release()}`,
  load_average_at_start: loadavg().map((x) => Math.round(x * 100) / 100),
};
log(
  `bench: ${only.join(", ")}${ctx.quick ? " (quick)" : ""} on ${machine.cpu_model}, ${machine.cores} cores, node ${machine.node}`,
);

const rows: TargetRow[] = [];
const sections: Record<string, unknown> = {};
for (const name of Object.keys(SECTIONS).filter((s) => only.includes(s))) {
  const t0 = Date.now();
  try {
    const result = await (SECTIONS[name] as (c: BenchContext) => Promise<SectionResult>)(ctx);
    rows.push(...result.rows);
    sections[name] = { ...result.data, duration_s: Math.round((Date.now() - t0) / 1000) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${name} failed: ${message}`);
    rows.push(row(name, "section failed", message.slice(0, 120), "-", null, "-", false));
    sections[name] = { error: message, duration_s: Math.round((Date.now() - t0) / 1000) };
  }
  log(`${name}: done in ${Math.round((Date.now() - t0) / 1000)} s`);
}

const results = {
  schema: "release-monitor-bench@1",
  date: new Date().toISOString(),
  mode: ctx.quick ? "quick" : "full",
  sections_run: only,
  machine: { ...machine, load_average_at_end: loadavg().map((x) => Math.round(x * 100) / 100) },
  duration_s: Math.round((Date.now() - started) / 1000),
  targets: rows,
  sections,
};
const out = values.out ?? join(BENCH_DIR, "results.json");
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
rmSync(tmp, { recursive: true, force: true });

process.stdout.write(`\n${renderTable(rows)}\n\n`);
const missed = rows.filter((r) => r.verdict === "MISS").length;
const passed = rows.filter((r) => r.verdict === "PASS").length;
process.stdout.write(`${passed} PASS, ${missed} MISS; ${results.duration_s} s; results: ${out}\n`);
