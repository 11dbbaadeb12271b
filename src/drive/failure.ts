import { errorMessage } from "../errors.ts";
import { renderBlockerBody } from "../ergo/blocker-body.ts";
import { fileReleaseBlocker } from "../ergo/client.ts";
import type { GithubApi, Job, Run } from "./github.ts";
import type { BlockerFacts, FailureEvidence, RunFacts, StepContext } from "./types.ts";

/**
 * Failure handling (the runbook's "Failure Handling"): stop, collect machine-readable evidence, file one blocker
 * under `Release blockers: <tag>` (ergo, idempotent per title), print the exact recovery command.
 */

/** Failed jobs of a run, with their URLs (`gh run view <id> --json url,jobs` → conclusion == failure). */
export async function failedJobs(gh: GithubApi, runId: number): Promise<{ name: string; url: string }[]> {
  const jobs: Job[] = await gh.jobs(runId);
  return jobs
    .filter((j) => j.conclusion === "failure" || j.conclusion === "timed_out" || j.conclusion === "cancelled")
    .map((j) => ({ name: j.name, url: j.html_url ?? "" }));
}

export function blockerBody(ctx: StepContext, step: string, e: FailureEvidence): string {
  const evidence: string[] = [
    `step: ${step}`,
    `mode: ${ctx.mode}; agent: ${ctx.agent}; project: ${ctx.project.name} (${ctx.project.repo})`,
  ];
  if (e.run)
    evidence.push(
      `run_id: ${e.run.id}; run_url: ${e.run.url}; workflow: ${e.run.workflow}; conclusion: ${e.run.conclusion ?? e.run.status}`,
    );
  for (const j of e.failed_jobs ?? []) evidence.push(`failed job: ${j.name} — ${j.url}`);
  if (e.command)
    evidence.push(
      `failing command: ${e.command}${e.exit_code !== undefined ? ` (exit ${e.exit_code ?? "none"})` : ""}`,
    );
  if (e.log) evidence.push(`log file: ${e.log}`);
  for (const line of (e.log_tail ?? []).slice(-12))
    if (line.trim() !== "" && line.trim() !== "---") evidence.push(`log: ${line}`);
  for (const d of e.details ?? []) evidence.push(d);
  return renderBlockerBody({
    goal: `Unblock release ${ctx.tag} of ${ctx.project.name}: ${e.title}.`,
    background: `\`monitor release ${ctx.tag}\` stopped at the ${step} step: ${e.summary}`,
    evidence,
    acceptance: [
      `The ${step} step succeeds for ${ctx.tag}.`,
      `\`monitor verify ${ctx.tag}\` reports ok on every channel.`,
    ],
    gates: e.recovery.map((r) => `\`${r}\``),
    extra: [
      {
        heading: "Consult Me",
        lines: ["Mark this task done once fixed, then resume with the recovery command above."],
      },
    ],
  });
}

/** File (or find) the blocker; never throws: an ergo problem is recorded and reported instead. */
export async function fileBlocker(ctx: StepContext, step: string, e: FailureEvidence): Promise<BlockerFacts> {
  const at = new Date().toISOString();
  const cfg = ctx.release.config.ergo;
  try {
    const r = await fileReleaseBlocker({
      dir: ctx.release.ergoDir,
      binary: cfg.binary,
      tag: ctx.tag,
      title: `${step}: ${e.title}`,
      body: blockerBody(ctx, step, e),
      log: ctx.rt.log,
    });
    return { step, title: `${step}: ${e.title}`, epic_id: r.epicId, task_id: r.taskId, created: r.created, at };
  } catch (err) {
    return {
      step,
      title: `${step}: ${e.title}`,
      epic_id: null,
      task_id: null,
      created: false,
      at,
      error: errorMessage(err),
    };
  }
}

export function runFacts(run: Run, workflow: string): RunFacts {
  return {
    id: run.id,
    url: run.html_url,
    workflow,
    event: run.event,
    status: run.status ?? "unknown",
    conclusion: run.conclusion ?? null,
    created_at: run.created_at,
  };
}
