import path from "node:path";
import { parseDuration } from "../config/duration.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ReleaseStepName } from "../config/release-schema.ts";
import type { ProjectConfig } from "../config/schema.ts";
import { AppError, errorMessage, UsageError } from "../errors.ts";
import { ExitCode, exitCodeForErrorCode } from "../exit-codes.ts";
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
import { releaseSummary } from "./summary.ts";
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
  type StepSummary,
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
  /** What the steps expose to the summary (their `summary(facts)`, merged). */
  summary: StepSummary;
  /** Jobs of the failed workflow run, when a run failed. */
  failedJobs: { name: string; url: string }[];
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
  const run = openRun(deps, o, await prepare(deps, o));
  const names = run.release.config.steps;
  for (const n of names) run.cp.steps[n] = { status: "pending", detail: "" };
  if (o.bypass) await recordBypass(deps, run.ctx, o.bypass);
  deps.progress.begin(
    `release ${o.tag} · ${deps.project.name} (${deps.project.repo}) · ${o.mode}${o.resume ? " · resume" : ""} · agent ${o.agent}\nevidence: ${run.release.evidencePath}`,
    names.map((n) => ({ name: n, title: steps[n].title })),
  );
  await run.save();
  const end = await runSteps(deps, o, run, steps);
  return finish(deps, run, end, steps);
}

/** Before any step: where the checkpoint and evidence go, the previous checkpoint, the facts a resume keeps. */
interface Prepared {
  release: ResolvedRelease;
  hint: Checkpoint | null;
  decisions: string[];
  facts: DriveFacts;
}

async function prepare(deps: DriveDeps, o: DriveOptions): Promise<Prepared> {
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
  if (!o.resume && (o.buildRunId ?? null) === null && o.mode === "live" && progressed(hint)) {
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
  return { release, hint, decisions, facts };
}

/** One run: its checkpoint (saved with the evidence report after every step) and the steps' context. */
interface Run {
  release: ResolvedRelease;
  cp: Checkpoint;
  ctx: StepContext;
  save(): Promise<void>;
  now(): string;
}

function openRun(deps: DriveDeps, o: DriveOptions, p: Prepared): Run {
  const { release, hint, facts } = p;
  const now = () => deps.rt.now().toISOString();
  const buildRunId = o.buildRunId ?? null;
  const bypass = o.bypass ?? null;
  const path_ = pathFor(buildRunId, bypass !== null);
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
    decisions: [...(o.resume && hint ? hint.decisions : []), ...p.decisions],
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
  return { release, cp, ctx, save, now };
}

/** How the steps ended: the outcome, the step that stopped the run and why, and a blocker filed for it. */
interface StepsEnd {
  outcome: DriveOutcome;
  failedStep: ReleaseStepName | null;
  message: string | null;
  blocker: BlockerFacts | null;
  /** A programming error (not an AppError): rethrown after the checkpoint is saved. */
  internal: Error | null;
}

async function runSteps(
  deps: DriveDeps,
  o: DriveOptions,
  run: Run,
  steps: { readonly [N in ReleaseStepName]: Step },
): Promise<StepsEnd> {
  const { cp, ctx } = run;
  const end: StepsEnd = {
    outcome: o.mode === "live" ? "complete" : "planned",
    failedStep: null,
    message: null,
    blocker: null,
    internal: null,
  };
  for (const [i, name] of run.release.config.steps.entries()) {
    const step = stepForPath(ctx.path, steps[name]);
    const started = Date.now();
    const rec: StepRecord = { status: "running", detail: "", started_at: run.now() };
    cp.steps[name] = rec;
    cp.current_step = name;
    deps.progress.stepStart(i, name, step.title);
    let failure: FailureEvidence | null = null;
    try {
      await checkThenRun(deps, o, run, name, step, rec);
    } catch (err) {
      const settled = settle(deps, o, run, name, rec, err);
      end.outcome = settled.outcome;
      failure = settled.failure;
      if (settled.internal) end.internal = settled.internal;
    }
    rec.finished_at = run.now();
    rec.duration_ms = Date.now() - started;
    if (failure) {
      end.failedStep = name;
      end.message = failure.summary;
      end.blocker = (await onFailure(deps, o, run, name, failure)) ?? end.blocker;
    } else if (rec.status === "unknown" || rec.status === "interrupted" || end.outcome === "refused") {
      end.failedStep = name;
      end.message = rec.detail;
    }
    await run.save();
    deps.progress.stepEnd(name, rec.status, rec.detail, rec.duration_ms);
    if (end.failedStep) break;
  }
  return end;
}

/** `check()` judges from reality whether the step is done; if not, `run()` does it (dry-run: plans it). */
async function checkThenRun(
  deps: DriveDeps,
  o: DriveOptions,
  run: Run,
  name: ReleaseStepName,
  step: Step,
  rec: StepRecord,
): Promise<void> {
  if (deps.signal.aborted) throw deps.signal.reason as Error;
  const check = await step.check(run.ctx);
  if (check.done) {
    rec.status = "done";
    rec.detail = check.detail;
    if (o.resume) run.cp.decisions.push(`resume: ${name} already done (${check.detail})`);
    return;
  }
  const out = await step.run(run.ctx);
  rec.status = out.status;
  rec.detail = out.detail;
  if (out.actions) rec.actions = out.actions;
}

/** What a step's error means: interrupted, refused, failed (with evidence for a blocker), or unknown. */
function settle(
  deps: DriveDeps,
  o: DriveOptions,
  run: Run,
  name: ReleaseStepName,
  rec: StepRecord,
  err: unknown,
): { outcome: DriveOutcome; failure: FailureEvidence | null; internal: Error | null } {
  const { cp, ctx } = run;
  const resume = () => [ctx.command(`--mode ${o.mode} --resume`)];
  if (deps.signal.aborted) {
    rec.status = "interrupted";
    rec.detail = `interrupted (SIGINT) during ${name}`;
    cp.recovery = resume();
    return { outcome: "interrupted", failure: null, internal: null };
  }
  if (err instanceof StepFailure && err.evidence.refused) {
    // The operator's input cannot be used: nothing happened, so it is refused (exit 2), not an incident.
    rec.status = "failed";
    rec.detail = `refused: ${err.evidence.summary}`;
    cp.recovery = err.evidence.recovery;
    cp.alternatives = err.evidence.alternative ? [err.evidence.alternative] : [];
    for (const d of err.evidence.details ?? []) cp.decisions.push(`${name}: ${d}`);
    return { outcome: "refused", failure: null, internal: null };
  }
  if (err instanceof StepFailure) {
    rec.status = "failed";
    rec.detail = err.evidence.summary;
    return { outcome: "failed", failure: err.evidence, internal: null };
  }
  if (err instanceof StepUnknown) {
    rec.status = "unknown";
    rec.detail = err.message;
    cp.recovery = err.recovery;
    return { outcome: "unknown", failure: null, internal: null };
  }
  if (err instanceof AppError && exitCodeForErrorCode(err.code) === ExitCode.unknown) {
    rec.status = "unknown";
    rec.detail = `could not tell: ${errorMessage(err)}`;
    cp.recovery = resume();
    return { outcome: "unknown", failure: null, internal: null };
  }
  rec.status = "failed";
  rec.detail =
    err instanceof AppError && err.code === "E_STEP_FAILED"
      ? errorMessage(err)
      : `internal error: ${errorMessage(err)}`;
  const failure = { title: `${name} failed`, summary: rec.detail, recovery: resume() };
  const internal = err instanceof AppError ? null : err instanceof Error ? err : new Error(errorMessage(err));
  return { outcome: "failed", failure, internal };
}

/** A failed step: its recovery in the checkpoint, and (live) a blocker filed in ergo unless one is already open. */
async function onFailure(
  deps: DriveDeps,
  o: DriveOptions,
  run: Run,
  name: ReleaseStepName,
  failure: FailureEvidence,
): Promise<BlockerFacts | null> {
  const { cp, ctx, release } = run;
  const facts = ctx.facts;
  cp.recovery = failure.recovery;
  cp.alternatives = failure.alternative ? [failure.alternative] : [];
  if (failure.failed_jobs) facts.failed_jobs = failure.failed_jobs;
  if (failure.open_blockers && failure.open_blockers.length > 0) {
    const ids = failure.open_blockers.map((b) => b.id).join(", ");
    cp.decisions.push(`no new blocker filed: ${o.tag} is already blocked by open blocker(s) ${ids}`);
    return null;
  }
  if (o.mode !== "live") {
    cp.decisions.push(`dry-run: would file blocker "${name}: ${failure.title}" under "Release blockers: ${o.tag}"`);
    return null;
  }
  deps.progress.status("filing a release blocker");
  const blocker = await fileBlocker(ctx, name, failure);
  facts.blockers = [...(facts.blockers ?? []), blocker];
  if (blocker.epic_id) facts.blocker_epic = blocker.epic_id;
  if (blocker.task_id && blocker.created) facts.open_blockers = (facts.open_blockers ?? 0) + 1;
  if (blocker.task_id) {
    // The preconditions refuse to continue while the blocker is open: closing it is part of the recovery.
    const close = formatArgv([release.config.ergo.binary, "--dir", release.ergoDir, "done", blocker.task_id]);
    const at = cp.recovery.findIndex((c) => c.startsWith(o.commandPrefix));
    cp.recovery = at < 0 ? [...cp.recovery, close] : [...cp.recovery.slice(0, at), close, ...cp.recovery.slice(at)];
  }
  return blocker;
}

/** The report: final outcome and recovery in the checkpoint, saved with the evidence. */
async function finish(
  deps: DriveDeps,
  run: Run,
  end: StepsEnd,
  steps: { readonly [N in ReleaseStepName]: Step },
): Promise<DriveResult> {
  const { cp, ctx, release } = run;
  cp.outcome = end.outcome;
  cp.current_step = end.failedStep ?? release.config.steps.at(-1) ?? null;
  if (end.outcome === "complete") cp.recovery = [];
  if (end.outcome === "planned") cp.recovery = [ctx.command("--mode live")];
  await run.save();
  deps.progress.end();
  if (end.internal !== null) throw end.internal;
  return {
    outcome: end.outcome,
    checkpoint: cp,
    failedStep: end.failedStep,
    message: end.message,
    blocker: end.blocker,
    evidencePath: release.evidencePath,
    checkpointPath: release.checkpointPath,
    summary: releaseSummary(cp.facts, Object.values(steps)),
    failedJobs: cp.facts.failed_jobs ?? [],
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
      const s = await store.addSilence({
        project: deps.project.name,
        channel,
        until: bypass.until,
        reason,
        created_at: deps.rt.now().toISOString(),
      });
      bypass.silence_ids.push(s.id);
    }
  } finally {
    await store.close();
  }
  ctx.decide(
    `silenced ${bypass.channels.join(", ")} of ${deps.project.name} until ${bypass.until} in ${stateDbPath(deps.loaded.baseDir, settings.state_dir)} (silence ${bypass.silence_ids.join(", ")}: "${reason}")`,
  );
}
