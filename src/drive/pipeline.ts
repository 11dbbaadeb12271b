import path from "node:path";
import { parseDuration } from "../config/duration.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ReleaseStepName } from "../config/release-schema.ts";
import type { ProjectConfig } from "../config/schema.ts";
import { AppError, errorMessage, UsageError } from "../errors.ts";
import { ExitCode, exitCodeForErrorCode } from "../cli/exit-codes.ts";
import { versionFromTag } from "../plan/build-plan.ts";
import { readCheckpoint, writeCheckpoint, writeFileAtomic } from "./checkpoint.ts";
import { renderEvidence } from "./evidence.ts";
import { formatArgv } from "./exec.ts";
import { bypassReason } from "./bypass.ts";
import { fileBlocker } from "./failure.ts";
import { GithubApi } from "./github.ts";
import type { Progress } from "./progress.ts";
import { pathFor, stepForPath } from "./paths.ts";
import { STEPS } from "./steps/registry.ts";
import {
  CHECKPOINT_SCHEMA,
  StepFailure,
  StepUnknown,
  type BlockerFacts,
  type BypassPlan,
  type Checkpoint,
  type DriveFacts,
  type DriveMode,
  type DriveOutcome,
  type DriveRuntime,
  type FailureEvidence,
  type ResolvedRelease,
  type Step,
  type StepContext,
  type StepRecord,
} from "./types.ts";

/**
 * The release pipeline: the configured steps in order. For each step, `check()` judges from reality whether it is
 * already done; if not, `run()` does it (dry-run: plans it). Checkpoint and evidence report are written after
 * every step (atomically). The first failure stops the run: evidence, an ergo blocker (live), a recovery command.
 */

export interface DriveOptions {
  tag: string;
  mode: DriveMode;
  agent: string;
  resume: boolean;
  /** `monitor release <tag>` plus the flags that select this config and project; recovery commands extend it. */
  commandPrefix: string;
  /** `--build-run-id`: publish-only rerun from this build run. */
  buildRunId?: number | null;
  /** `--skip-channel … --allow-partial`: planned by planBypass (the workflow's own inputs). */
  bypass?: BypassPlan | null;
}

export interface DriveDeps {
  loaded: LoadedConfig;
  project: ProjectConfig;
  rt: DriveRuntime;
  progress: Progress;
  signal: AbortSignal;
  steps?: { readonly [N in ReleaseStepName]: Step };
}

export interface DriveResult {
  outcome: DriveOutcome;
  checkpoint: Checkpoint;
  failedStep: ReleaseStepName | null;
  message: string | null;
  blocker: BlockerFacts | null;
  evidencePath: string;
  checkpointPath: string;
}

export function resolveRelease(loaded: LoadedConfig, project: ProjectConfig, tag: string): ResolvedRelease {
  const config = project.release;
  if (!config) throw new UsageError(`project ${project.name} has no release section in ${loaded.source}`);
  const repoDir = path.resolve(loaded.baseDir, config.repo_dir);
  const evidenceDir = path.resolve(repoDir, config.evidence_dir);
  const ms = (d: string): number => parseDuration(d) ?? 0;
  return {
    config,
    repoDir,
    tapDir: config.tap_dir ? path.resolve(loaded.baseDir, config.tap_dir) : path.resolve(repoDir, "..", "homebrew-tap"),
    evidenceDir,
    logsDir: path.join(evidenceDir, "logs"),
    ergoDir: config.ergo.dir ? path.resolve(loaded.baseDir, config.ergo.dir) : repoDir,
    evidencePath: path.join(evidenceDir, `evidence-${tag}.md`),
    checkpointPath: path.join(evidenceDir, `checkpoint-${tag}.json`),
    pollMs: Math.max(10, ms(config.poll_interval)),
    runTimeoutMs: ms(config.run_timeout),
    appearTimeoutMs: ms(config.run_appear_timeout),
    verifyWaitMs: ms(config.verify_wait),
  };
}

export async function runRelease(deps: DriveDeps, o: DriveOptions): Promise<DriveResult> {
  const steps = deps.steps ?? STEPS;
  let release = resolveRelease(deps.loaded, deps.project, o.tag);
  let hint = await readCheckpoint(release.checkpointPath, o.tag);
  const decisions: string[] = [];
  if (o.mode === "dry-run" && hint?.mode === "live") {
    // Never clobber a live release's checkpoint and evidence with a rehearsal of the plan.
    release = {
      ...release,
      evidencePath: release.evidencePath.replace(/\.md$/, ".dry-run.md"),
      checkpointPath: release.checkpointPath.replace(/\.json$/, ".dry-run.json"),
    };
    decisions.push(`a live checkpoint exists: this dry-run writes ${path.basename(release.evidencePath)} instead`);
    hint = await readCheckpoint(release.checkpointPath, o.tag);
  }
  const progressed = (cp: Checkpoint | null): boolean =>
    cp !== null &&
    cp.mode === "live" &&
    Object.entries(cp.steps).some(
      ([n, s]) => STEPS[n as ReleaseStepName]?.mutates && (s.status === "ok" || s.status === "done"),
    );
  const buildRunId = o.buildRunId ?? null;
  const bypass = o.bypass ?? null;
  const path_ = pathFor(buildRunId, bypass !== null);
  if (!o.resume && buildRunId === null && o.mode === "live" && progressed(hint)) {
    throw new UsageError(
      `a live release of ${o.tag} is already in progress (${release.checkpointPath}, last outcome ${hint?.outcome ?? "?"}); continue it with: ${o.commandPrefix} --mode live --resume`,
    );
  }
  const facts: DriveFacts = o.resume && hint ? structuredClone(hint.facts) : {};
  delete facts.failed_jobs;
  delete facts.verify;
  delete facts.preconditions;
  if (o.resume)
    decisions.push(
      hint
        ? `resumed from ${path.basename(release.checkpointPath)} (last outcome ${hint.outcome}); every step re-checked against reality`
        : "resume without a checkpoint: reconciling from reality only",
    );

  const now = () => deps.rt.now().toISOString();
  const cp: Checkpoint = {
    schema: CHECKPOINT_SCHEMA,
    project: deps.project.name,
    repo: deps.project.repo,
    tag: o.tag,
    version: versionFromTag(o.tag, deps.project.tag_prefix),
    mode: o.mode,
    agent: o.agent,
    path: path_,
    path_reason: pathReason(buildRunId, bypass, o.agent),
    bypass,
    initialized_at: hint && (o.resume || hint.mode === o.mode) ? hint.initialized_at : now(),
    updated_at: now(),
    current_step: null,
    outcome: "running",
    steps: {},
    facts,
    decisions: [...(o.resume && hint ? hint.decisions : []), ...decisions],
    recovery: [],
    alternatives: [],
    evidence_report: release.evidencePath,
  };
  const save = async (): Promise<void> => {
    cp.updated_at = now();
    await writeCheckpoint(release.checkpointPath, cp);
    await writeFileAtomic(release.evidencePath, renderEvidence(cp));
  };
  const settings = deps.loaded.config.settings;
  const ctx: StepContext = {
    mode: o.mode,
    tag: o.tag,
    version: cp.version,
    agent: o.agent,
    resume: o.resume,
    path: path_,
    buildRunId,
    bypass,
    project: deps.project,
    loaded: deps.loaded,
    release,
    rt: deps.rt,
    gh: new GithubApi({
      http: deps.rt.http,
      apiUrl: settings.github.api_url,
      repo: deps.project.repo,
      token: deps.loaded.githubToken,
      downloadHosts: settings.github.download_hosts,
      signal: deps.signal,
    }),
    progress: deps.progress,
    signal: deps.signal,
    facts,
    hint: o.resume ? hint : null,
    save,
    decide: (note) => {
      cp.decisions.push(note);
    },
    command: (extra) => `${o.commandPrefix}${extra ? ` ${extra}` : ""}`,
  };

  const names = release.config.steps;
  for (const n of names) cp.steps[n] = { status: "pending", detail: "" };
  if (bypass) await recordBypass(deps, ctx, bypass);
  deps.progress.begin(
    `release ${o.tag} · ${deps.project.name} (${deps.project.repo}) · ${o.mode}${o.resume ? " · resume" : ""} · agent ${o.agent}\nevidence: ${release.evidencePath}`,
    names.map((n) => ({ name: n, title: steps[n].title })),
  );
  await save();

  let outcome: DriveOutcome = o.mode === "live" ? "complete" : "planned";
  let failedStep: ReleaseStepName | null = null;
  let message: string | null = null;
  let blocker: BlockerFacts | null = null;
  let internal: Error | null = null;
  for (const [i, name] of names.entries()) {
    const step = stepForPath(path_, steps[name]);
    const started = Date.now();
    const rec: StepRecord = { status: "running", detail: "", started_at: now() };
    cp.steps[name] = rec;
    cp.current_step = name;
    deps.progress.stepStart(i, name, step.title);
    let failure: FailureEvidence | null = null;
    try {
      if (deps.signal.aborted) throw deps.signal.reason as Error;
      const check = await step.check(ctx);
      if (check.done) {
        rec.status = "done";
        rec.detail = check.detail;
        if (o.resume) cp.decisions.push(`resume: ${name} already done (${check.detail})`);
      } else {
        const out = await step.run(ctx);
        rec.status = out.status;
        rec.detail = out.detail;
        if (out.actions) rec.actions = out.actions;
      }
    } catch (err) {
      if (deps.signal.aborted) {
        rec.status = "interrupted";
        rec.detail = `interrupted (SIGINT) during ${name}`;
        outcome = "interrupted";
        cp.recovery = [ctx.command(`--mode ${o.mode} --resume`)];
      } else if (err instanceof StepFailure && err.evidence.refused) {
        // The operator's input cannot be used: nothing happened, so it is refused (exit 2), not an incident.
        rec.status = "failed";
        rec.detail = `refused: ${err.evidence.summary}`;
        outcome = "refused";
        cp.recovery = err.evidence.recovery;
        cp.alternatives = err.evidence.alternative ? [err.evidence.alternative] : [];
        for (const d of err.evidence.details ?? []) cp.decisions.push(`${name}: ${d}`);
      } else if (err instanceof StepFailure) {
        rec.status = "failed";
        rec.detail = err.evidence.summary;
        failure = err.evidence;
        outcome = "failed";
      } else if (err instanceof StepUnknown) {
        rec.status = "unknown";
        rec.detail = err.message;
        outcome = "unknown";
        cp.recovery = err.recovery;
      } else if (err instanceof AppError && exitCodeForErrorCode(err.code) === ExitCode.unknown) {
        rec.status = "unknown";
        rec.detail = `could not tell: ${errorMessage(err)}`;
        outcome = "unknown";
        cp.recovery = [ctx.command(`--mode ${o.mode} --resume`)];
      } else {
        rec.status = "failed";
        rec.detail =
          err instanceof AppError && err.code === "E_STEP_FAILED"
            ? errorMessage(err)
            : `internal error: ${errorMessage(err)}`;
        failure = {
          title: `${name} failed`,
          summary: rec.detail,
          recovery: [ctx.command(`--mode ${o.mode} --resume`)],
        };
        outcome = "failed";
        if (!(err instanceof AppError)) internal = err instanceof Error ? err : new Error(errorMessage(err));
      }
    }
    rec.finished_at = now();
    rec.duration_ms = Date.now() - started;
    if (failure) {
      failedStep = name;
      message = failure.summary;
      cp.recovery = failure.recovery;
      cp.alternatives = failure.alternative ? [failure.alternative] : [];
      if (failure.failed_jobs) facts.failed_jobs = failure.failed_jobs;
      if (failure.open_blockers && failure.open_blockers.length > 0) {
        const ids = failure.open_blockers.map((b) => b.id).join(", ");
        cp.decisions.push(`no new blocker filed: ${o.tag} is already blocked by open blocker(s) ${ids}`);
      } else if (o.mode === "live") {
        deps.progress.status("filing a release blocker");
        blocker = await fileBlocker(ctx, name, failure);
        facts.blockers = [...(facts.blockers ?? []), blocker];
        if (blocker.epic_id) facts.blocker_epic = blocker.epic_id;
        if (blocker.task_id && blocker.created) facts.open_blockers = (facts.open_blockers ?? 0) + 1;
        if (blocker.task_id) {
          // The preconditions refuse to continue while the blocker is open: closing it is part of the recovery.
          const close = formatArgv([release.config.ergo.binary, "--dir", release.ergoDir, "done", blocker.task_id]);
          const at = cp.recovery.findIndex((c) => c.startsWith(o.commandPrefix));
          cp.recovery =
            at < 0 ? [...cp.recovery, close] : [...cp.recovery.slice(0, at), close, ...cp.recovery.slice(at)];
        }
      } else {
        cp.decisions.push(`dry-run: would file blocker "${name}: ${failure.title}" under "Release blockers: ${o.tag}"`);
      }
    } else if (rec.status === "unknown" || rec.status === "interrupted" || outcome === "refused") {
      failedStep = name;
      message = rec.detail;
    }
    await save();
    deps.progress.stepEnd(name, rec.status, rec.detail, rec.duration_ms);
    if (failedStep) break;
  }
  cp.outcome = outcome;
  cp.current_step = failedStep ?? names.at(-1) ?? null;
  if (outcome === "complete") cp.recovery = [];
  if (outcome === "planned") cp.recovery = [ctx.command("--mode live")];
  await save();
  deps.progress.end();
  if (internal !== null) throw internal;
  return {
    outcome,
    checkpoint: cp,
    failedStep,
    message,
    blocker,
    evidencePath: release.evidencePath,
    checkpointPath: release.checkpointPath,
  };
}

function pathReason(buildRunId: number | null, bypass: BypassPlan | null, agent: string): string {
  const parts: string[] = [];
  if (buildRunId !== null) {
    parts.push(
      `--build-run-id ${buildRunId}: publish-only rerun from an explicit build run (incident recovery, e.g. after a credential fix); no tag, no rebuild; release-publish dispatched with build_run_id`,
    );
  }
  if (bypass) {
    parts.push(
      `--skip-channel ${bypass.channels.join(",")} --allow-partial: intentional channel bypass by ${agent}; release-publish dispatched with ${Object.keys(bypass.inputs).join(", ")}`,
    );
  }
  return parts.length > 0 ? parts.join("; ") : "routine release: release-publish dispatched with release_tag";
}

/**
 * A bypass is a maintainer's decision: recorded in the evidence, and (live) as a silence per channel in the
 * project's state store, so the daemon does not alert on a channel that was skipped on purpose.
 */
async function recordBypass(deps: DriveDeps, ctx: StepContext, bypass: BypassPlan): Promise<void> {
  const reason = bypassReason(ctx.agent);
  const flags = Object.entries(bypass.inputs)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  ctx.decide(
    `bypass: ${ctx.agent} bypassed ${bypass.channels.join(", ")} for ${ctx.tag} (${flags} in the same dispatch); verify expects ${bypass.channels.join(", ")} skipped ("${reason}")`,
  );
  if (ctx.mode !== "live") {
    ctx.decide(
      `dry-run: would silence ${bypass.channels.join(", ")} of ${deps.project.name} until ${bypass.until} (${reason})`,
    );
    return;
  }
  if (bypass.silence_ids.length > 0) return;
  // node:sqlite and the state store load only when a bypass is recorded, not on every CLI start.
  const { openStateStore, stateDbPath } = await import("../state/sqlite.ts");
  const settings = deps.loaded.config.settings;
  const store = openStateStore(stateDbPath(deps.loaded.baseDir, settings.state_dir));
  try {
    for (const channel of bypass.channels) {
      const s = store.addSilence({
        project: deps.project.name,
        channel,
        until: bypass.until,
        reason,
        created_at: deps.rt.now().toISOString(),
      });
      bypass.silence_ids.push(s.id);
    }
  } finally {
    store.close();
  }
  ctx.decide(
    `silenced ${bypass.channels.join(", ")} of ${deps.project.name} until ${bypass.until} in ${stateDbPath(deps.loaded.baseDir, settings.state_dir)} (silence ${bypass.silence_ids.join(", ")}: "${reason}")`,
  );
}
