import { errorMessage } from "../errors.ts";
import { failedJobs, runFacts } from "./failure.ts";
import { dispatchBody, type Run } from "./github.ts";
import { waitForAppearance, waitForCompletion } from "./runs.ts";
import {
  StepFailure,
  StepUnknown,
  type CheckResult,
  type RunFacts,
  type Step,
  type StepContext,
  type StepOutcome,
} from "./types.ts";

/**
 * The rehearsal and publish steps: dispatch `release-publish.yml` with `release_tag=<tag>` and
 * `rehearsal=true|false` (SKILL.md "Build And Publish Procedure"), identify the run the dispatch created (200 with
 * run details, or 204 then poll `runs?event=workflow_dispatch&created>=<t0>` for a new id), wait, require success.
 *
 * Reality check: the runs API does not return dispatch inputs, so a live run is recognised by its marker step
 * (job `release`, step `Create GitHub Release`) having run, a rehearsal by that step being skipped; only runs
 * created after this tag's build run count. The checkpoint's run id is used first (a hint, re-read from the API).
 */

type Kind = "rehearsal" | "publish";

function factsKey(kind: Kind): "rehearsal_run" | "publish_run" {
  return kind === "rehearsal" ? "rehearsal_run" : "publish_run";
}

/** live: the marker step ran; rehearsal: it was skipped; null: not a recognisable release-publish run. */
async function runKind(ctx: StepContext, runId: number): Promise<Kind | null> {
  const marker = ctx.release.config.publish_marker;
  const job = (await ctx.gh.jobs(runId)).find((j) => j.name === marker.job);
  const step = job?.steps?.find((s) => s.name === marker.step);
  if (!step) return null;
  if (step.conclusion === "success") return "publish";
  if (step.conclusion === "skipped") return "rehearsal";
  return null;
}

/** Successful runs of this kind created after the build run (newest first). */
async function findSuccessful(ctx: StepContext, kind: Kind): Promise<Run | null> {
  const build = ctx.facts.build_run;
  if (!build) return null;
  const since = Date.parse(build.created_at);
  const runs = await ctx.gh.runs(ctx.release.config.workflows.publish, {
    event: "workflow_dispatch",
    status: "success",
  });
  for (const run of runs) {
    if (Date.parse(run.created_at) < since || run.conclusion !== "success") continue;
    if ((await runKind(ctx, run.id)) === kind) return run;
  }
  return null;
}

/**
 * Dispatch inputs: `release_tag` on the normal path, `build_run_id` on a publish-only rerun (SKILL.md: "explicit
 * build_run_id only for incident recovery reruns"), plus the bypass flags and `allow_partial_release=true`.
 */
export function publishInputs(ctx: StepContext, kind: Kind): Record<string, string> {
  const source = ctx.buildRunId !== null ? { build_run_id: String(ctx.buildRunId) } : { release_tag: ctx.tag };
  return { ...source, rehearsal: kind === "rehearsal" ? "true" : "false", ...(ctx.bypass?.inputs ?? {}) };
}

const inputs = publishInputs;

function inputText(ctx: StepContext, kind: Kind): string {
  return Object.entries(inputs(ctx, kind))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

function ghEquivalent(ctx: StepContext, kind: Kind): string {
  const cfg = ctx.release.config.workflows;
  const flags = Object.entries(inputs(ctx, kind)).map(([k, v]) => `-f ${k}=${v}`);
  return `gh workflow run ${cfg.publish} --repo ${ctx.project.repo} --ref ${cfg.ref} ${flags.join(" ")}`;
}

export function makePublishStep(kind: Kind): Step {
  const key = factsKey(kind);
  return {
    name: kind,
    title:
      kind === "rehearsal" ? "release-publish rehearsal (rehearsal=true)" : "release-publish live (rehearsal=false)",
    section: "Release Mechanics",
    summary: (f) => {
      const run = f[key];
      return run ? { runs: kind === "rehearsal" ? { rehearsal: run } : { publish: run } } : {};
    },
    mutates: true,
    irreversible: kind === "publish",

    async check(ctx: StepContext): Promise<CheckResult> {
      if (!ctx.facts.build_run || ctx.facts.build_run.conclusion !== "success") {
        return { done: false, detail: "no successful build run known yet" };
      }
      const hinted = ctx.hint?.facts[key];
      if (hinted && Date.parse(hinted.created_at) >= Date.parse(ctx.facts.build_run.created_at)) {
        const run = await ctx.gh.run(hinted.id).catch(() => null);
        if (run?.status === "completed" && run.conclusion === "success" && (await runKind(ctx, run.id)) === kind) {
          ctx.facts[key] = runFacts(run, ctx.release.config.workflows.publish);
          return { done: true, detail: `${kind} run ${run.id} succeeded (${run.html_url})` };
        }
        if (run && run.status !== "completed") {
          ctx.facts[key] = runFacts(run, ctx.release.config.workflows.publish);
          return { done: false, detail: `${kind} run ${run.id} is still ${run.status ?? "running"}: waiting for it` };
        }
      }
      if (kind === "rehearsal") {
        const live = ctx.hint?.facts.publish_run;
        const liveRun = live ? await ctx.gh.run(live.id).catch(() => null) : null;
        const published = liveRun?.conclusion === "success" ? liveRun : await findSuccessful(ctx, "publish");
        if (published) return { done: true, detail: `superseded: live publish run ${published.id} already succeeded` };
      }
      const found = await findSuccessful(ctx, kind);
      if (found) {
        ctx.facts[key] = runFacts(found, ctx.release.config.workflows.publish);
        return { done: true, detail: `${kind} run ${found.id} succeeded after the build (${found.html_url})` };
      }
      return { done: false, detail: `no successful ${kind} run for ${ctx.tag} yet` };
    },

    async run(ctx: StepContext): Promise<StepOutcome> {
      const cfg = ctx.release.config.workflows;
      const post = `POST ${ctx.gh.path(`/actions/workflows/${cfg.publish}/dispatches`)} ${JSON.stringify(dispatchBody(cfg.ref, inputs(ctx, kind)))}`;
      if (ctx.mode === "dry-run") {
        const actions = [post, ghEquivalent(ctx, kind)];
        ctx.progress.line(`would call: ${post}`);
        ctx.progress.line(`(gh equivalent: ${ghEquivalent(ctx, kind)})`);
        return {
          status: "planned",
          detail: `would dispatch ${cfg.publish} with ${inputText(ctx, kind)} and require success`,
          actions,
        };
      }
      const recovery = [ctx.command("--mode live --resume")];
      let run: Run;
      const pending = ctx.facts[key];
      const attach = pending && pending.status !== "completed" ? await ctx.gh.run(pending.id) : null;
      if (attach && attach.status !== "completed") {
        ctx.decide(
          `attached to the ${kind} run ${attach.id} started by an earlier attempt instead of dispatching again`,
        );
        run = attach;
      } else {
        await refuseWhileInFlight(ctx, kind);
        run = await dispatchAndIdentify(ctx, kind, post, recovery);
      }
      ctx.facts[key] = runFacts(run, cfg.publish);
      ctx.facts.last_run = ctx.facts[key];
      await ctx.save();
      const done = await waitForCompletion(ctx, cfg.publish, run);
      const facts: RunFacts = runFacts(done, cfg.publish);
      ctx.facts[key] = facts;
      ctx.facts.last_run = facts;
      if (done.conclusion !== "success") {
        const jobs = await failedJobs(ctx.gh, done.id);
        ctx.facts.failed_jobs = jobs;
        throw new StepFailure({
          title: `${cfg.publish} ${kind} run ${done.id} for ${ctx.tag} concluded ${done.conclusion ?? "without a conclusion"}`,
          summary: `${kind} run ${done.id} (${done.html_url}) concluded ${done.conclusion ?? "?"}; failed jobs: ${jobs.map((j) => j.name).join(", ") || "none reported"}`,
          run: facts,
          failed_jobs: jobs,
          details: [
            `gh run view ${done.id} --repo ${ctx.project.repo} --log-failed`,
            kind === "publish"
              ? `publish-only rerun: fix the cause (credentials, tap), close this blocker, then resume (no re-tag, no rebuild) or rerun publish from this build: ${ctx.command(`--mode live --build-run-id ${ctx.facts.build_run?.id ?? "<build-run-id>"}`)}`
              : "rehearsal failed before any registry write",
          ],
          recovery,
          alternative: ghEquivalent(ctx, kind),
        });
      }
      return { status: "ok", detail: `run ${done.id} success (${done.html_url})` };
    },
  };
}

/**
 * A release-publish run of unknown kind still running since the build (e.g. dispatched just before an interruption,
 * before its id reached the checkpoint): never dispatch a second one next to it. Its kind shows once it completes.
 */
async function refuseWhileInFlight(ctx: StepContext, kind: Kind): Promise<void> {
  const file = ctx.release.config.workflows.publish;
  const since = Date.parse(ctx.facts.build_run?.created_at ?? "");
  const running = (await ctx.gh.runs(file, { event: "workflow_dispatch" })).filter(
    (r) => r.status !== "completed" && !(Date.parse(r.created_at) < since),
  );
  const first = running[0];
  if (first) {
    throw new StepUnknown(
      `${file} run ${first.id} (${first.status ?? "running"}, ${first.html_url}) is still in flight: not dispatching another ${kind} run next to it`,
      [`gh run watch ${first.id} --repo ${ctx.project.repo}`, ctx.command("--mode live --resume")],
    );
  }
}

async function dispatchAndIdentify(ctx: StepContext, kind: Kind, post: string, recovery: string[]): Promise<Run> {
  const cfg = ctx.release.config.workflows;
  // Runs that exist before the dispatch, so the new one can be told apart when the API answers 204.
  const before = new Set((await ctx.gh.runs(cfg.publish, { event: "workflow_dispatch" })).map((r) => r.id));
  const t0 = new Date(Date.now() - 5_000);
  ctx.progress.status(post);
  let dispatched: { status: 200 | 204; runId: number | null };
  try {
    dispatched = await ctx.gh.dispatch(cfg.publish, cfg.ref, inputs(ctx, kind));
  } catch (err) {
    if (err instanceof Error && "code" in err && err.code === "E_STEP_FAILED") {
      throw new StepFailure({
        title: `dispatch of ${cfg.publish} rejected`,
        summary: errorMessage(err),
        command: post,
        recovery,
      });
    }
    throw err;
  }
  ctx.decide(`dispatched ${cfg.publish} (${kind}, ${inputText(ctx, kind)}): HTTP ${dispatched.status}`);
  if (dispatched.runId !== null) return ctx.gh.run(dispatched.runId);
  const created = `>=${t0.toISOString().replace(/\.\d{3}Z$/, "Z")}`;
  const found = await waitForAppearance(ctx, `${cfg.publish} ${kind}`, async () => {
    const fresh = (await ctx.gh.runs(cfg.publish, { event: "workflow_dispatch", created })).filter(
      (r) => !before.has(r.id),
    );
    return fresh.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id)[0] ?? null;
  });
  if (!found) {
    throw new StepFailure({
      title: `the ${kind} run did not appear`,
      summary: `${cfg.publish} was dispatched (HTTP 204) but no new workflow_dispatch run appeared within ${ctx.release.config.run_appear_timeout}`,
      command: post,
      recovery,
    });
  }
  return found;
}
