import { hostname } from "node:os";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { RELEASE_STEP_NAMES } from "../../config/release-schema.ts";
import { formatArgv } from "../../drive/exec.ts";
import { runRelease, type DriveResult } from "../../drive/pipeline.ts";
import { createProgress, MARK } from "../../drive/progress.ts";
import type { DriveMode, DriveOutcome } from "../../drive/types.ts";
import { AppError, UsageError } from "../../errors.ts";
import { quote } from "../../quote.ts";
import { ExitCode } from "../exit-codes.ts";
import { loadForCommand, type GlobalOptions } from "../load.ts";
import { createRuntime, normalizeTag, selectProject } from "../runtime.ts";

interface ReleaseFlags extends GlobalOptions {
  project?: string;
  mode: string;
  yes?: boolean;
  resume?: boolean;
  json?: boolean;
  agent?: string;
}

const EXIT: Record<DriveOutcome, number> = {
  complete: ExitCode.ok,
  planned: ExitCode.ok,
  failed: ExitCode.drift,
  unknown: ExitCode.unknown,
  interrupted: ExitCode.interrupted,
};

export const RELEASE_RUN_SCHEMA = "release-monitor/release-run@1";

export function registerRelease(program: Command): void {
  program
    .command("release")
    .description(
      "drive a release through its steps (dry-run by default); exit 0 complete or plan checked, 1 step failed, 2 usage/refused, 3 unknown, 130 interrupted",
    )
    .argument("<tag>", "release tag vX.Y.Z (a bare X.Y.Z gets the project's tag prefix)")
    .option("-p, --project <name>", "project in the config (required when the file has several)")
    .option("--mode <mode>", "dry-run (read everything, change nothing) or live", "dry-run")
    .option("--yes", "confirm a live release without the interactive prompt")
    .option("--resume", "continue a release: reconcile every step with reality, run from the first incomplete one")
    .option("--json", "print a summary object on stdout")
    .option("--agent <id>", "agent id recorded in the evidence (default release-monitor@<hostname>)")
    .action(async (tagArg: string, flags: ReleaseFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<ReleaseFlags>();
      if (globals.sim)
        throw new UsageError(
          "--sim is not supported by release: point the config at the registries (or a sim) instead",
        );
      if (flags.mode !== "dry-run" && flags.mode !== "live")
        throw new UsageError(`--mode: ${quote(flags.mode)} is not dry-run or live`);
      const mode: DriveMode = flags.mode;
      const session = await loadForCommand(globals);
      try {
        const project = selectProject(session.loaded, flags.project);
        if (!project.release)
          throw new UsageError(`project ${project.name} has no release section in ${session.loaded.source}`);
        const tag = normalizeTag(project, tagArg);
        const version = tag.startsWith(project.tag_prefix) ? tag.slice(project.tag_prefix.length) : "";
        if (!tag.startsWith(project.tag_prefix) || !/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) {
          throw new UsageError(`tag: ${quote(tagArg)} is not a release target ${project.tag_prefix}X.Y.Z`);
        }
        if (mode === "live" && !flags.yes) await confirmLive(tag, project.name);
        const prefix = formatArgv([
          "monitor",
          "release",
          tag,
          ...(globals.config ? ["--config", globals.config] : []),
          ...(flags.project ? ["--project", flags.project] : []),
        ]);
        const rt = createRuntime(session.loaded, { logLevel: globals.logLevel ?? "warn" });
        const controller = new AbortController();
        let interrupts = 0;
        const onSigint = (): void => {
          interrupts++;
          if (interrupts > 1) process.exit(ExitCode.interrupted);
          process.stderr.write("\ninterrupted: stopping and writing the checkpoint (Ctrl-C again to quit at once)\n");
          controller.abort(new AppError("E_ABORTED", "interrupted by SIGINT"));
        };
        process.on("SIGINT", onSigint);
        let result: DriveResult;
        try {
          result = await runRelease(
            {
              loaded: session.loaded,
              project,
              rt,
              progress: createProgress(process.stderr, Boolean(process.stderr.isTTY)),
              signal: controller.signal,
            },
            {
              tag,
              mode,
              agent: flags.agent ?? `release-monitor@${hostname()}`,
              resume: Boolean(flags.resume),
              commandPrefix: prefix,
            },
          );
        } finally {
          process.off("SIGINT", onSigint);
          await rt.close();
        }
        process.stdout.write(flags.json ? `${JSON.stringify(summaryJson(result), null, 2)}\n` : summaryText(result));
        process.exitCode = EXIT[result.outcome];
      } finally {
        await session.close();
      }
    });
}

/** Live needs the operator to type the tag on a terminal (or --yes). Without a TTY: refuse. */
async function confirmLive(tag: string, project: string): Promise<void> {
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
  } finally {
    rl.close();
  }
}

function summaryJson(r: DriveResult): Record<string, unknown> {
  const cp = r.checkpoint;
  return {
    schema: RELEASE_RUN_SCHEMA,
    project: cp.project,
    repo: cp.repo,
    tag: cp.tag,
    version: cp.version,
    base_tag: cp.facts.base_tag ?? null,
    mode: cp.mode,
    agent: cp.agent,
    outcome: r.outcome,
    exit_code: EXIT[r.outcome],
    failed_step: r.failedStep,
    message: r.message,
    steps: RELEASE_STEP_NAMES.filter((n) => cp.steps[n]).map((n) => ({ name: n, ...cp.steps[n] })),
    runs: {
      build: cp.facts.build_run ?? null,
      rehearsal: cp.facts.rehearsal_run ?? null,
      publish: cp.facts.publish_run ?? null,
    },
    failed_jobs: cp.facts.failed_jobs ?? [],
    tap: cp.facts.tap ?? null,
    verify: cp.facts.verify ?? null,
    blocker: r.blocker,
    recovery: cp.recovery,
    alternatives: cp.alternatives,
    decisions: cp.decisions,
    evidence_report: r.evidencePath,
    checkpoint: r.checkpointPath,
  };
}

function summaryText(r: DriveResult): string {
  const cp = r.checkpoint;
  const head: Record<DriveOutcome, string> = {
    complete: "complete: every step done and every channel ok",
    planned: "dry-run plan checked: nothing was changed",
    failed: `FAILED at ${r.failedStep ?? "?"}`,
    unknown: `UNKNOWN at ${r.failedStep ?? "?"} (could not tell)`,
    interrupted: `interrupted at ${r.failedStep ?? "?"}`,
  };
  const lines = [`release ${cp.tag} (${cp.project}, ${cp.mode}): ${head[r.outcome]}`];
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
