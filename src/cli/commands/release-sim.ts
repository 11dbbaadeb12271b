import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../../config/load.ts";
import type { DriveResult } from "../../drive/pipeline.ts";
import { UsageError } from "../../errors.ts";
import { RELEASE_SIM_SCENARIOS } from "../../sim/release-scenarios.ts";
import { createRehearsal, REHEARSAL_REPO, type Rehearsal } from "../../sim/release-rehearsal.ts";
import {
  confirmLive,
  driveRelease,
  EXIT,
  summaryJson,
  summaryText,
  type PathFlags,
  type ReleaseFlags,
} from "./release-driver.ts";

/**
 * `monitor release <tag> --sim <scenario>`: an offline rehearsal of the driver. Builds temp repositories with
 * bare origins (project and tap), starts the simulated GitHub (Actions included) and registries, scripts the
 * scenario, runs the driver against them (the recovery scenarios run it twice: the failure, the fix, the
 * recovery), prints the evidence report path and cleans up unless --keep.
 */

export { RELEASE_SIM_SCENARIOS } from "../../sim/release-scenarios.ts";

export const SIM_SCHEMA = "release-monitor/release-sim@1";

export async function rehearseRelease(
  scenarioName: string,
  tagArg: string,
  flags: ReleaseFlags,
  p: PathFlags,
): Promise<number> {
  const scenario = RELEASE_SIM_SCENARIOS[scenarioName];
  if (!scenario) {
    throw new UsageError(
      `--sim: unknown release scenario "${scenarioName}" (one of ${Object.keys(RELEASE_SIM_SCENARIOS).join(", ")})`,
    );
  }
  if (flags.config) throw new UsageError("--sim: the rehearsal writes its own config; drop --config");
  if (scenario.recovery && p.mode !== "live") {
    throw new UsageError(`--sim ${scenarioName} rehearses a live failure and its recovery: add --mode live`);
  }
  if (scenario.recovery === "resume" && !flags.resume) {
    throw new UsageError(`--sim ${scenarioName} needs --resume: the rehearsal fails, fixes, then resumes`);
  }
  if (p.mode === "live" && !flags.yes) await confirmLive(tagArg, "plasmite (simulated)", p.skip);
  const r = await createRehearsal(scenario.options?.() ?? {});
  let exit: number;
  try {
    initErgo(r.work);
    scenario.script?.(r);
    const loaded = loadConfigFile(r.config);
    const run = (o: { resume?: boolean; buildRunId?: number | null }): Promise<DriveResult> =>
      driveRelease(loaded, tagArg, flags, p, r.config, { ...o, confirmed: true });
    const phases: { label: string; result: DriveResult; firstRunId: number; pushesBefore: number }[] = [];
    const nextRunId = (): number => Math.max(0, ...r.sim.world.actions.runs(REHEARSAL_REPO).map((x) => x.id)) + 1;
    if (!scenario.recovery) {
      phases.push({ label: scenarioName, firstRunId: 0, pushesBefore: 0, result: await run({}) });
    } else {
      const first = await run({ resume: false, buildRunId: null });
      phases.push({ label: "the failure", firstRunId: 0, pushesBefore: 0, result: first });
      if (first.outcome === "failed") {
        fix(r, first);
        const buildRunId =
          scenario.recovery === "build-run-id" ? (p.buildRunId ?? first.checkpoint.facts.build_run?.id ?? null) : null;
        const firstRunId = nextRunId();
        const pushesBefore = r.sim.world.actions.pushes.length;
        const second = await run({ resume: scenario.recovery === "resume", buildRunId });
        phases.push({
          label: `the recovery (${scenario.recovery === "resume" ? "--resume" : `--build-run-id ${buildRunId ?? "?"}`})`,
          firstRunId,
          pushesBefore,
          result: second,
        });
      }
    }
    const last = phases.at(-1)!;
    exit = EXIT[last.result.outcome];
    const evidence = keepEvidence(last.result.evidencePath, scenarioName);
    const sim = simFacts(r, last, evidence, Boolean(flags.keep));
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ schema: SIM_SCHEMA, scenario: scenarioName, phases: phases.map((x) => ({ label: x.label, ...summaryJson(x.result) })), sim }, null, 2)}\n`,
      );
    } else {
      const out: string[] = [`rehearsal: --sim ${scenarioName}: ${scenario.description}`];
      for (const [i, ph] of phases.entries()) {
        if (phases.length > 1) out.push(`== run ${i + 1}/${phases.length}: ${ph.label} ==`);
        const text = summaryText(ph.result).trimEnd().split("\n");
        // The temp checkout's paths are gone after the cleanup: the kept copy is printed below.
        out.push(...(flags.keep ? text : text.filter((l) => !/^(evidence|checkpoint): /.test(l))));
      }
      out.push(...simLines(sim), `evidence report: ${evidence}`);
      out.push(flags.keep ? `kept: ${r.root}` : `cleaned up ${r.root} (pass --keep to keep the repositories)`);
      process.stdout.write(`${out.join("\n")}\n`);
    }
  } finally {
    await r.close({ keep: Boolean(flags.keep) });
  }
  return exit;
}

/** `ergo init` in the project checkout: blockers are filed with the real ergo 6 on PATH. */
function initErgo(work: string): void {
  try {
    execFileSync("ergo", ["init"], { cwd: work, stdio: "ignore" });
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new UsageError(
      missing
        ? "--sim: ergo 6 is not on PATH; the rehearsal files its release blockers with it (install ergo, or put it on PATH)"
        : `--sim: "ergo init" failed in ${work}`,
    );
  }
}

/** The fix between the two runs: the cause is repaired (the next publish run succeeds) and the blocker closed. */
function fix(r: Rehearsal, failed: DriveResult): void {
  const task = failed.blocker?.task_id;
  if (task) execFileSync("ergo", ["--dir", r.work, "done", task], { cwd: r.work, stdio: "ignore" });
}

/** The evidence report outlives the temp repositories: copied to <tmpdir>/monitor-release-sim/<scenario>/. */
function keepEvidence(from: string, scenario: string): string {
  const dir = join(tmpdir(), "monitor-release-sim", scenario);
  mkdirSync(dir, { recursive: true });
  const to = join(dir, from.split("/").at(-1) ?? "evidence.md");
  copyFileSync(from, to);
  return to;
}

interface SimFacts {
  root: string;
  kept: boolean;
  evidence_report: string;
  /** workflow_dispatch runs the sim's Actions received during the last run of the driver. */
  dispatches: { workflow: string; run_id: number; inputs: Record<string, string>; conclusion: string | null }[];
  dispatches_total: number;
  tag_pushes: { tag: string; sha: string }[];
  origin_tags: string[];
  tap_head: { sha: string; subject: string };
  published: string[];
}

function simFacts(
  r: Rehearsal,
  since: { firstRunId: number; pushesBefore: number },
  evidence: string,
  kept: boolean,
): SimFacts {
  const actions = r.sim.world.actions;
  const dispatched = actions.runs(REHEARSAL_REPO, { event: "workflow_dispatch" }).reverse();
  const tap = r.tapOriginHead();
  return {
    root: r.root,
    kept,
    evidence_report: evidence,
    dispatches: dispatched
      .filter((x) => x.id >= since.firstRunId)
      .map((x) => ({ workflow: x.workflow.file, run_id: x.id, inputs: x.inputs, conclusion: x.conclusion })),
    dispatches_total: dispatched.length,
    tag_pushes: actions.pushes.slice(since.pushesBefore).map((x) => ({ tag: x.tag, sha: x.sha })),
    origin_tags: Object.keys(r.originTags()).filter((t) => !t.endsWith("^{}")),
    tap_head: { sha: tap, subject: r.git(r.root, ["--git-dir", r.tapOrigin, "log", "-1", "--format=%s", tap]) },
    published: r.sim.world.versions("plasmite").flatMap((v) => {
      const art = r.sim.world.artifacts("plasmite", v);
      return v === "0.7.2" || v === "0.8.0" ? [] : [...art.published].map((c) => `${c}@${v}`);
    }),
  };
}

function simLines(s: SimFacts): string[] {
  const lines = [
    `sim: release-publish dispatches in this run: ${s.dispatches.length} (${s.dispatches_total} in the rehearsal)`,
  ];
  for (const d of s.dispatches) {
    const inputs = Object.entries(d.inputs)
      .filter(([, v]) => v !== "" && v !== "false")
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    lines.push(`sim:   ${d.workflow} run ${d.run_id} ${d.conclusion ?? "running"}: ${inputs}`);
  }
  lines.push(
    `sim: tag pushes in this run: ${s.tag_pushes.map((t) => t.tag).join(", ") || "none"}; origin tags: ${s.origin_tags.join(", ")}`,
    `sim: tap origin main: ${s.tap_head.sha.slice(0, 12)} "${s.tap_head.subject}"`,
    `sim: published: ${s.published.join(", ") || "nothing"}`,
  );
  return lines;
}
