/**
 * 2. Steady-state cost: daemon cycles (createDaemon + runCycleNow, the persistent validator cache in the state db)
 * over an unchanged world, with a GitHub token. Requests per registry, how many were 304, billable GitHub requests.
 */
import { join } from "node:path";
import { plasmiteProject, writeConfig } from "../lib/config.ts";
import { BENCH_TOKEN, type BenchContext, type SectionResult } from "../lib/context.ts";
import { runNode } from "../lib/proc.ts";
import { REPO_ROOT, startSimServer } from "../lib/sim-client.ts";
import type { SimStatsSnapshot } from "../lib/sim-protocol.ts";
import { row, type TargetRow } from "../lib/table.ts";
import type { DaemonCyclesResult } from "../workers/daemon-cycles.ts";
import { DAEMON_WORKER_V8_FLAGS } from "../lib/daemon-run.ts";

export const REGISTRIES: Record<string, string[]> = {
  github: ["github-api", "github-web", "github-download"],
  crates: ["crates-api", "crates-index", "crates-static"],
  npm: ["npm"],
  pypi: ["pypi", "pypi-files"],
};

/** Requests and 304s per registry (services grouped), e.g. `github 6 (6x304)`. */
export function perRegistry(sim: SimStatsSnapshot): Record<string, { requests: number; not_modified: number }> {
  const out: Record<string, { requests: number; not_modified: number }> = {};
  for (const [registry, services] of Object.entries(REGISTRIES)) {
    out[registry] = { requests: 0, not_modified: 0 };
    for (const s of services) {
      const c = sim.services[s as keyof SimStatsSnapshot["services"]];
      (out[registry] as { requests: number }).requests += c.requests;
      (out[registry] as { not_modified: number }).not_modified += c.not_modified;
    }
  }
  return out;
}

export function describeRegistries(sim: SimStatsSnapshot): string {
  return Object.entries(perRegistry(sim))
    .map(([k, v]) => `${k} ${v.requests} (${v.not_modified}x304)`)
    .join(", ");
}

export async function runSteady(ctx: BenchContext): Promise<SectionResult> {
  const sim = await startSimServer({ world: { kind: "plasmite" }, latencyMs: 0, token: BENCH_TOKEN });
  try {
    const dir = join(ctx.tmp, "steady");
    const config = writeConfig(ctx.tmp, "steady.yaml", sim.ready.overlay, [plasmiteProject()], {
      settings: { state_dir: dir, watch: { jitter: "0" } },
    });
    ctx.log("steady: 4 daemon cycles over an unchanged world");
    const r = await runNode(
      [
        ...DAEMON_WORKER_V8_FLAGS,
        join(REPO_ROOT, "bench", "workers", "daemon-cycles.ts"),
        JSON.stringify({ config, control: sim.ready.control, rounds: 4, concurrency: 0 }),
      ],
      { timeoutMs: 120_000 },
    );
    if (r.code !== 0) throw new Error(`daemon-cycles exited ${r.code}: ${r.stderr.slice(-1000)}`);
    const out = JSON.parse(r.stdout) as DaemonCyclesResult;
    const rounds = out.rounds.map((rd) => ({
      cycle: rd.round,
      status: rd.statuses,
      wall_ms: rd.wall_ms,
      github_billable: rd.sim.github_billable,
      total: rd.sim.total,
      not_modified: Object.values(rd.sim.services).reduce((n, c) => n + c.not_modified, 0),
      per_registry: perRegistry(rd.sim),
      per_service: rd.sim.services,
    }));
    const second = out.rounds[1] as DaemonCyclesResult["rounds"][number];
    const steady = out.rounds.slice(2);
    const steadyBillable = Math.max(...steady.map((rd) => rd.sim.github_billable));
    const rows: TargetRow[] = [
      row(
        "steady",
        "cycle 1 (cold): requests",
        describeRegistries((out.rounds[0] as typeof second).sim),
        "-",
        null,
        "-",
        null,
      ),
      row(
        "steady",
        "cycle 1 (cold): billable GitHub",
        String((out.rounds[0] as typeof second).sim.github_billable),
        "-",
        null,
        "-",
        null,
      ),
      row("steady", "cycle 2: requests", describeRegistries(second.sim), "-", null, "-", null),
      row(
        "steady",
        "cycle 2: billable GitHub",
        String(second.sim.github_billable),
        "-",
        second.sim.github_billable,
        "-",
        null,
      ),
      ...steady.map((rd) =>
        row("steady", `cycle ${rd.round}: requests`, describeRegistries(rd.sim), "-", null, "-", null),
      ),
      row(
        "steady",
        `steady state (cycles 3-${out.rounds.length}): billable GitHub per cycle`,
        String(steadyBillable),
        "0",
        steadyBillable,
        "-",
        steadyBillable === 0,
      ),
    ];
    return { rows, data: { rounds } };
  } finally {
    await sim.close();
  }
}
