import type { LoadedConfig } from "../config/load.ts";
import type { ReleaseConfig, ReleaseStepName } from "../config/release-schema.ts";
import type { ChannelId } from "../channels.ts";
import type { ProjectConfig } from "../config/schema.ts";
import { AppError } from "../errors.ts";
import type { HttpClient } from "../http/client.ts";
import type { GithubClientFactory } from "../http/github.ts";
import type { Logger } from "../log.ts";
import type { ProbeEndpoints } from "../probes/types.ts";
import type { GithubApi } from "./github.ts";
import type { Progress } from "./progress.ts";

/**
 * The release driver (`monitor release <tag>`): an ordered list of named steps around the same probes and
 * report as `monitor verify`. Each step is one module behind `Step`; steps/registry.ts maps names to them.
 */

export type DriveMode = "dry-run" | "live";

/**
 * done: already done, judged from reality (check); ok: ran now and succeeded; planned: dry-run, would act;
 * skipped: not applicable to this project; failed / unknown (could not tell) / interrupted stop the run.
 */
export type StepStatus =
  "pending" | "running" | "done" | "ok" | "planned" | "skipped" | "failed" | "unknown" | "interrupted";

export type DriveOutcome = "complete" | "planned" | "failed" | "refused" | "unknown" | "interrupted";

export interface CheckResult {
  /** The step's effect is already in place (the tag points at HEAD, the run succeeded, the tap is aligned). */
  done: boolean;
  detail: string;
}

export interface StepOutcome {
  status: "ok" | "planned" | "skipped";
  detail: string;
  /** Dry-run: the exact commands and API calls the step would make. */
  actions?: string[];
}

/** One workflow run as the evidence report and checkpoint keep it. */
export interface RunFacts {
  id: number;
  url: string;
  workflow: string;
  event: string;
  status: string;
  conclusion: string | null;
  created_at: string;
}

export interface GateFacts {
  name: string;
  command: string;
  /** skipped: a conditional gate (`when.changed`) whose globs matched no changed file. */
  status: "passed" | "failed" | "skipped";
  exit_code: number | null;
  duration_ms: number;
  log: string;
  /** Conditional gates: why it ran or was skipped, with the diff base. */
  condition?: string;
}

/**
 * Which runbook path a run takes: normal (tag, build, publish), publish-only (`--build-run-id`: a rerun of publish
 * from an explicit, validated build run, no tag and no build) or bypass (`--skip-channel … --allow-partial`).
 */
export type DrivePath = "normal" | "publish-only" | "bypass";

/** An intentional channel bypass: the channels and the publish workflow inputs that skip them. */
export interface BypassPlan {
  channels: ChannelId[];
  /** Inputs added to every release-publish dispatch (`skip_pypi: "true"`, `allow_partial_release: "true"`). */
  inputs: Record<string, string>;
  /** Silence recorded in the state store for the bypassed channels (null: not recorded yet, e.g. dry-run). */
  silence_ids: number[];
  until: string;
}

export interface CheckLine {
  name: string;
  /** null: could not tell. */
  ok: boolean | null;
  detail: string;
}

export interface BlockerFacts {
  step: string;
  title: string;
  epic_id: string | null;
  task_id: string | null;
  created: boolean;
  at: string;
  /** Why filing failed (ergo missing, …), when it did. */
  error?: string;
}

/** What the steps learned; persisted in the checkpoint (a hint on resume: reality wins). */
export interface DriveFacts {
  base_tag?: string | null;
  branch?: string;
  head_sha?: string;
  remote_tag?: { object: string; commit: string; annotated: boolean } | null;
  tag_created?: boolean;
  tag_pushed?: boolean;
  preconditions?: CheckLine[];
  workflows?: { file: string; id: number; state: string; url: string }[];
  version_alignment?: { ok: boolean; command: string; output: string };
  gates?: GateFacts[];
  gates_head?: string;
  build_run?: RunFacts;
  metadata?: Record<string, string>;
  checksums?: Record<string, string>;
  checksum_source?: string;
  tap?: { path: string; from_version: string | null; commit: string | null; pushed: boolean; aligned: boolean };
  rehearsal_run?: RunFacts;
  publish_run?: RunFacts;
  last_run?: RunFacts;
  failed_jobs?: { name: string; url: string }[];
  verify?: {
    status: string;
    checked_at: string;
    channels: { channel: string; status: string; note: string; evidence_url: string | null }[];
  };
  /** The immutable-release check after publish (null: the repository does not enable immutable releases). */
  immutable?: { enabled: boolean; ok: boolean | null; detail: string } | null;
  blockers?: BlockerFacts[];
  open_blockers?: number;
  blocker_epic?: string | null;
}

export interface StepRecord {
  status: StepStatus;
  detail: string;
  actions?: string[];
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
}

export const CHECKPOINT_SCHEMA = "release-monitor/checkpoint@1";

export interface Checkpoint {
  schema: typeof CHECKPOINT_SCHEMA;
  project: string;
  repo: string;
  tag: string;
  version: string;
  mode: DriveMode;
  agent: string;
  /** The runbook path of the latest run, and why it was taken. */
  path?: DrivePath;
  path_reason?: string;
  bypass?: BypassPlan | null;
  initialized_at: string;
  updated_at: string;
  current_step: ReleaseStepName | null;
  outcome: DriveOutcome | "running";
  steps: Partial<Record<ReleaseStepName, StepRecord>>;
  facts: DriveFacts;
  decisions: string[];
  /** Commands that continue or recover the release, in order. */
  recovery: string[];
  /** Equivalent alternatives to `recovery`. */
  alternatives: string[];
  evidence_report: string;
}

/** Paths of the release section, resolved. */
export interface ResolvedRelease {
  config: ReleaseConfig;
  repoDir: string;
  tapDir: string;
  evidenceDir: string;
  logsDir: string;
  ergoDir: string;
  evidencePath: string;
  checkpointPath: string;
  pollMs: number;
  runTimeoutMs: number;
  appearTimeoutMs: number;
  verifyWaitMs: number;
}

/** What the verify step needs from the runtime (the same deps `monitor verify` uses). */
export interface DriveRuntime {
  http: HttpClient;
  github: GithubClientFactory;
  endpoints: ProbeEndpoints;
  log: Logger;
  now: () => Date;
}

export interface StepContext {
  readonly mode: DriveMode;
  readonly tag: string;
  readonly version: string;
  readonly agent: string;
  readonly resume: boolean;
  readonly path: DrivePath;
  /** `--build-run-id`: publish from this build run (validated by the build step) instead of finding one. */
  readonly buildRunId: number | null;
  readonly bypass: BypassPlan | null;
  readonly project: ProjectConfig;
  readonly loaded: LoadedConfig;
  readonly release: ResolvedRelease;
  readonly rt: DriveRuntime;
  readonly gh: GithubApi;
  readonly progress: Progress;
  readonly signal: AbortSignal;
  /** Facts of this run (mutable); starts from the checkpoint's facts on --resume. */
  readonly facts: DriveFacts;
  /** The previous checkpoint for this tag, if any: a hint only. */
  readonly hint: Checkpoint | null;
  /** Persist checkpoint and evidence now (atomic), e.g. right after a dispatch identified its run. */
  save(): Promise<void>;
  decide(note: string): void;
  /** `monitor release <tag> …` with the flags that reach this config and project, plus `extra`. */
  command(extra: string): string;
}

/** The sections of the evidence report (src/drive/evidence.ts) a step's findings and blocker link appear in. */
export type EvidenceSection = "Release Context" | "QA Gate Evidence" | "Release Mechanics" | "Delivery Verification";

/**
 * What a step exposes to the release summary (`monitor release` text and release-run@1 JSON), read by the step
 * from the facts it wrote: the CLI reads this, never the facts themselves.
 */
export interface StepSummary {
  base_tag?: string | null;
  runs?: Partial<Record<"build" | "rehearsal" | "publish", RunFacts>>;
  tap?: NonNullable<DriveFacts["tap"]>;
  verify?: NonNullable<DriveFacts["verify"]>;
  immutable?: DriveFacts["immutable"];
}

export interface Step {
  readonly name: ReleaseStepName;
  readonly title: string;
  /** The evidence report section its blocker is linked from. */
  readonly section: EvidenceSection;
  /** The facts it exposes to the release summary; absent: it exposes none. */
  summary?(facts: DriveFacts): StepSummary;
  /** Changes something outside this process (remote, tap, Actions). In dry-run its run() only plans. */
  readonly mutates: boolean;
  /** Cannot be taken back once done (a pushed tag, a registry publish). */
  readonly irreversible: boolean;
  /** Is it already done, judged from reality (never from the checkpoint alone). */
  check(ctx: StepContext): Promise<CheckResult>;
  run(ctx: StepContext): Promise<StepOutcome>;
}

/** Machine-readable evidence of a failed step: what the blocker task and the evidence report carry. */
export interface FailureEvidence {
  title: string;
  summary: string;
  command?: string;
  exit_code?: number | null;
  log?: string;
  log_tail?: string[];
  run?: RunFacts;
  failed_jobs?: { name: string; url: string }[];
  details?: string[];
  /** Exact commands that recover, to run in this order. */
  recovery: string[];
  /** An equivalent way to do the same (e.g. the `gh` command for a publish-only rerun). */
  alternative?: string;
  /** The operator's input cannot be used (e.g. --build-run-id of another workflow): refused (exit 2), no blocker. */
  refused?: boolean;
  /**
   * The release is already blocked by these open blocker tasks: report them and stop, but file no new blocker
   * (a blocker about the blockers would itself block the next run).
   */
  open_blockers?: { id: string; title: string; state: string }[];
}

/** A step failed (exit 1): carries the evidence for the blocker. */
export class StepFailure extends AppError {
  readonly evidence: FailureEvidence;
  constructor(evidence: FailureEvidence) {
    super("E_STEP_FAILED", evidence.summary, { details: { title: evidence.title } });
    this.name = "StepFailure";
    this.evidence = evidence;
  }
}

/** A step could not tell (exit 3): an upstream answered nothing usable. */
export class StepUnknown extends AppError {
  readonly recovery: string[];
  constructor(message: string, recovery: string[], cause?: unknown) {
    super("E_PROBE_FAILED", message, cause === undefined ? undefined : { cause });
    this.name = "StepUnknown";
    this.recovery = recovery;
  }
}
