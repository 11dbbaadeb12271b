import { hostname } from "node:os";
import { createInterface } from "node:readline/promises";
import type { ChannelId } from "../../channels.ts";
import { parseDuration } from "../../config/duration.ts";
import type { LoadedConfig } from "../../config/load.ts";
import { RELEASE_STEP_NAMES } from "../../config/release-schema.ts";
import type { ProjectConfig } from "../../config/schema.ts";
import { parseSkipChannels, planBypass } from "../../drive/bypass.ts";
import { formatArgv } from "../../drive/exec.ts";
import { resolveRelease, runRelease, type DriveResult } from "../../drive/pipeline.ts";
import { createProgress, MARK } from "../../drive/progress.ts";
import type { DriveMode, DriveOutcome } from "../../drive/types.ts";
import { AppError, UsageError } from "../../errors.ts";
import { ExitCode } from "../../exit-codes.ts";
import type { GlobalOptions } from "../load.ts";
import { createRuntime, normalizeTag, selectProject } from "../../runtime/runtime.ts";
import { quote } from "../../quote.ts";

/**
 * The release driver behind `monitor release` (release.ts) and its offline rehearsal (release-sim.ts): flags
 * validated, the bypass planned, live confirmed, the steps run (src/drive), and the summary printed.
 */

export interface ReleaseFlags extends GlobalOptions {
  project?: string;
  mode: string;
  yes?: boolean;
  resume?: boolean;
  json?: boolean;
  agent?: string;
  buildRunId?: string;
  skipChannel?: string[];
  allowPartial?: boolean;
  bypassFor?: string;
  keep?: boolean;
}

export const EXIT: Record<DriveOutcome, number> = {
  complete: ExitCode.ok,
  planned: ExitCode.ok,
  failed: ExitCode.drift,
  refused: ExitCode.usage,
  unknown: ExitCode.unknown,
  interrupted: ExitCode.interrupted,
};

export const RELEASE_RUN_SCHEMA = "release-monitor/release-run@1";

/** The recovery-path flags, validated: `--build-run-id`, `--skip-channel … --allow-partial`, `--bypass-for`. */
export interface PathFlags {
  mode: DriveMode;
  buildRunId: number | null;
  skip: ChannelId[];
  bypassForMs: number | null;
}

export function parsePathFlags(flags: ReleaseFlags): PathFlags {
  if (flags.mode !== "dry-run" && flags.mode !== "live")
    throw new UsageError(`--mode: ${quote(String(flags.mode))} is not dry-run or live`);
  let buildRunId: number | null = null;
  if (flags.buildRunId !== undefined) {
    buildRunId = /^[1-9][0-9]{0,15}$/.test(flags.buildRunId) ? Number(flags.buildRunId) : Number.NaN;
    if (!Number.isSafeInteger(buildRunId))
      throw new UsageError(
        `--build-run-id: ${quote(String(flags.buildRunId))} is not a workflow run id (a positive integer)`,
      );
  }
  const skip = parseSkipChannels(flags.skipChannel ?? []);
  if (skip.length > 0 && !flags.allowPartial)
    throw new UsageError(
      `--skip-channel ${skip.join(",")}: a partial release is a decision: add --allow-partial to publish the other channels without ${skip.join(", ")}`,
    );
  if (flags.allowPartial && skip.length === 0)
    throw new UsageError("--allow-partial: name the channels to bypass with --skip-channel <channel…>");
  let bypassForMs: number | null = null;
  if (flags.bypassFor !== undefined) {
    if (skip.length === 0) throw new UsageError("--bypass-for: only with --skip-channel … --allow-partial");
    bypassForMs = parseDuration(flags.bypassFor);
    if (bypassForMs === null || bypassForMs <= 0)
      throw new UsageError(`--bypass-for: ${quote(String(flags.bypassFor))} is not a positive duration (e.g. 30m, 2h)`);
  }
  return { mode: flags.mode, buildRunId, skip, bypassForMs };
}

export interface DriveTarget {
  project: ProjectConfig;
  tag: string;
}

export function releaseTarget(loaded: LoadedConfig, tagArg: string, projectFlag: string | undefined): DriveTarget {
  const project = selectProject(loaded, projectFlag);
  if (!project.release) throw new UsageError(`project ${project.name} has no release section in ${loaded.source}`);
  const tag = normalizeTag(project, tagArg);
  const version = tag.startsWith(project.tag_prefix) ? tag.slice(project.tag_prefix.length) : "";
  if (!tag.startsWith(project.tag_prefix) || !/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) {
    throw new UsageError(`tag: ${quote(tagArg)} is not a release target ${project.tag_prefix}X.Y.Z`);
  }
  return { project, tag };
}

/** One run of the driver: bypass planned (or refused) first, live confirmed, then the steps. */
export async function driveRelease(
  loaded: LoadedConfig,
  tagArg: string,
  flags: ReleaseFlags,
  p: PathFlags,
  configPath: string | undefined,
  options: { resume?: boolean; buildRunId?: number | null; confirmed?: boolean } = {},
): Promise<DriveResult> {
  const { project, tag } = releaseTarget(loaded, tagArg, flags.project);
  const agent = flags.agent ?? `release-monitor@${hostname()}`;
  const resolved = resolveRelease(loaded, project, tag);
  const bypass =
    p.skip.length > 0
      ? await planBypass(resolved, p.skip, Date.now() + (p.bypassForMs ?? resolved.verifyWaitMs))
      : null;
  if (p.mode === "live" && !flags.yes && !options.confirmed)
    await confirmLive(tag, project.name, bypass?.channels ?? []);
  const prefix = formatArgv([
    "monitor",
    "release",
    tag,
    ...(configPath ? ["--config", configPath] : []),
    ...(flags.project ? ["--project", flags.project] : []),
  ]);
  const rt = createRuntime(loaded, { logLevel: flags.logLevel ?? "warn" });
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    process.stderr.write("\ninterrupted: stopping and writing the checkpoint (Ctrl-C again to quit at once)\n");
    controller.abort(new AppError("E_ABORTED", "interrupted by SIGINT"));
  };
  process.on("SIGINT", onSigint);
  try {
    return await runRelease(
      {
        loaded,
        project,
        rt,
        progress: createProgress(process.stderr, Boolean(process.stderr.isTTY)),
        signal: controller.signal,
      },
      {
        tag,
        mode: p.mode,
        agent,
        resume: options.resume ?? Boolean(flags.resume),
        commandPrefix: prefix,
        buildRunId: options.buildRunId ?? p.buildRunId,
        bypass,
      },
    );
  } finally {
    process.off("SIGINT", onSigint);
    await rt.close();
  }
}

/** Live needs the operator to type the tag on a terminal (or --yes). Without a TTY: refuse. */
export async function confirmLive(tag: string, project: string, bypassed: readonly string[]): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError(`refusing a live release of ${tag} without confirmation: pass --yes or run it on a terminal`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `Live release of ${project} ${tag}: tags, pushes and publishes for real.\nType ${tag} to continue: `,
    );
    if (answer.trim() !== tag)
      throw new UsageError(`confirmation ${quote(answer.trim())} does not match ${tag}: nothing was done`);
    if (bypassed.length > 0) {
      const list = bypassed.join(",");
      const again = await rl.question(
        `Partial release: ${bypassed.join(", ")} will NOT get ${tag} (allow_partial_release=true).\nType ${list} to confirm the bypass: `,
      );
      const typed = again.replace(/\s+/g, "");
      if (typed !== list)
        throw new UsageError(`bypass confirmation ${quote(again.trim())} does not match ${list}: nothing was done`);
    }
  } finally {
    rl.close();
  }
}

export function summaryJson(r: DriveResult): Record<string, unknown> {
  const cp = r.checkpoint;
  const s = r.summary;
  return {
    schema: RELEASE_RUN_SCHEMA,
    project: cp.project,
    repo: cp.repo,
    tag: cp.tag,
    version: cp.version,
    base_tag: s.base_tag ?? null,
    mode: cp.mode,
    agent: cp.agent,
    path: cp.path ?? "normal",
    path_reason: cp.path_reason ?? null,
    bypass: cp.bypass ?? null,
    immutable: s.immutable ?? null,
    outcome: r.outcome,
    exit_code: EXIT[r.outcome],
    failed_step: r.failedStep,
    message: r.message,
    steps: RELEASE_STEP_NAMES.filter((n) => cp.steps[n]).map((n) => ({ name: n, ...cp.steps[n] })),
    runs: {
      build: s.runs?.build ?? null,
      rehearsal: s.runs?.rehearsal ?? null,
      publish: s.runs?.publish ?? null,
    },
    failed_jobs: r.failedJobs,
    tap: s.tap ?? null,
    verify: s.verify ?? null,
    blocker: r.blocker,
    recovery: cp.recovery,
    alternatives: cp.alternatives,
    decisions: cp.decisions,
    evidence_report: r.evidencePath,
    checkpoint: r.checkpointPath,
  };
}

export function summaryText(r: DriveResult): string {
  const cp = r.checkpoint;
  const head: Record<DriveOutcome, string> = {
    complete: cp.bypass
      ? `complete: every step done; every channel ok but ${cp.bypass.channels.join(", ")} (bypassed by maintainer)`
      : "complete: every step done and every channel ok",
    planned: "dry-run plan checked: nothing was changed",
    failed: `FAILED at ${r.failedStep ?? "?"}`,
    refused: `REFUSED at ${r.failedStep ?? "?"}: nothing was changed`,
    unknown: `UNKNOWN at ${r.failedStep ?? "?"} (could not tell)`,
    interrupted: `interrupted at ${r.failedStep ?? "?"}`,
  };
  const lines = [`release ${cp.tag} (${cp.project}, ${cp.mode}, path ${cp.path ?? "normal"}): ${head[r.outcome]}`];
  if (cp.path && cp.path !== "normal") lines.push(`  why: ${cp.path_reason ?? "?"}`);
  for (const n of RELEASE_STEP_NAMES) {
    const s = cp.steps[n];
    if (!s) continue;
    lines.push(`  ${MARK[s.status] ?? " "} ${n.padEnd(13)} ${s.status.padEnd(11)} ${s.detail}`);
    for (const a of s.actions ?? []) lines.push(`        would: ${a}`);
  }
  if (r.blocker) {
    lines.push(
      r.blocker.task_id
        ? `blocker: ${r.blocker.created ? "filed" : "already open"} task ${r.blocker.task_id} in epic ${r.blocker.epic_id ?? "?"} (Release blockers: ${cp.tag})`
        : `blocker: NOT filed (${r.blocker.error ?? "?"})`,
    );
  }
  for (const [i, c] of cp.recovery.entries()) {
    lines.push(`${i === 0 ? (r.outcome === "planned" ? "next" : "recovery") : "    then"}: ${c}`);
  }
  for (const a of cp.alternatives) lines.push(`      or: ${a}`);
  lines.push(`evidence: ${r.evidencePath}`, `checkpoint: ${r.checkpointPath}`);
  return `${lines.join("\n")}\n`;
}
