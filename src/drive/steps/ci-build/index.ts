import { strFromU8, unzipSync } from "fflate";
import { z } from "zod";
import { AppError, errorMessage } from "../../../errors.ts";
import { failedJobs, runFacts } from "../../failure.ts";
import { Git } from "../../git.ts";
import type { Run } from "../../github.ts";
import { waitForAppearance, waitForCompletion } from "../../runs.ts";
import { StepFailure, type CheckResult, type Step, type StepContext, type StepOutcome } from "../../types.ts";

/**
 * Build (release-hygiene.md "Track build workflow first"): the `release` workflow run for the tag (event push,
 * branch = tag; else head_sha = the tag's commit), polled until it completes; success required. Then its
 * `release-metadata` artifact (zip through the API: archive_download_url → 302 → download host) must say
 * tag == target, version == X.Y.Z and source_sha == the tag's commit (inspect_release_build_metadata.sh).
 */

const Metadata = z.looseObject({
  tag: z.string(),
  version: z.string(),
  source_sha: z.string(),
  source_ref: z.string().optional(),
  source_run_id: z.union([z.string(), z.number()]).optional(),
  source_workflow: z.string().optional(),
});

export async function findBuildRun(ctx: StepContext, tagCommit: string): Promise<Run | null> {
  const file = ctx.release.config.workflows.build;
  const byTag = await ctx.gh.runs(file, { event: "push", branch: ctx.tag });
  if (byTag[0]) return byTag[0];
  const bySha = await ctx.gh.runs(file, { head_sha: tagCommit });
  return bySha[0] ?? null;
}

async function tagCommit(ctx: StepContext): Promise<string | null> {
  if (ctx.facts.remote_tag) return ctx.facts.remote_tag.commit;
  const onRemote = await new Git(ctx.release.repoDir, ctx.signal).lsRemote(
    ctx.release.config.remote,
    `refs/tags/${ctx.tag}`,
  );
  if (!onRemote) return null;
  const commit = onRemote.peeled ?? onRemote.object;
  ctx.facts.remote_tag = { object: onRemote.object, commit, annotated: onRemote.peeled !== null };
  return commit;
}

export const buildStep: Step = {
  name: "build",
  title: "release workflow run for the tag, metadata provenance",
  mutates: false,
  irreversible: false,

  check(): Promise<CheckResult> {
    return Promise.resolve({
      done: false,
      detail: "the build run is read (and waited for) every time; it is never re-triggered",
    });
  },

  async run(ctx: StepContext): Promise<StepOutcome> {
    const file = ctx.release.config.workflows.build;
    const commit = await tagCommit(ctx);
    if (ctx.buildRunId !== null) return publishOnlyBuild(ctx, ctx.buildRunId, commit);
    const runsPath = ctx.gh.path(`/actions/workflows/${file}/runs?event=push&branch=${ctx.tag}`);
    if (commit === null) {
      if (ctx.mode === "dry-run") {
        const actions = [
          `GET ${runsPath} (the run the tag push starts), then poll GET ${ctx.gh.path("/actions/runs/{id}")} until completed; require conclusion success`,
          `GET ${ctx.gh.path("/actions/runs/{id}/artifacts")}?name=${ctx.release.config.build_artifact} → archive_download_url → metadata.json: tag ${ctx.tag}, version ${ctx.version}, source_sha = the tag's commit`,
        ];
        for (const a of actions) ctx.progress.line(`would check: ${a}`);
        return {
          status: "planned",
          detail: `${ctx.tag} is not on the remote yet: would wait for its ${file} run and check its metadata`,
          actions,
        };
      }
      throw new StepFailure({
        title: `${ctx.tag} is not on the remote`,
        summary: `cannot find the ${file} run: ${ctx.tag} was not pushed to ${ctx.release.config.remote}`,
        recovery: [ctx.command("--mode live --resume")],
      });
    }
    ctx.progress.status(`looking for the ${file} run of ${ctx.tag} (GET ${runsPath})`);
    const found = await waitForAppearance(ctx, file, () => findBuildRun(ctx, commit));
    if (!found) {
      throw new StepFailure({
        title: `no ${file} run for ${ctx.tag}`,
        summary: `no ${file} run appeared for ${ctx.tag} (push event, or head_sha ${commit}) within ${ctx.release.config.run_appear_timeout}`,
        details: [
          `is the push trigger of ${file} matching the tag? check ${ctx.gh.path(`/actions/workflows/${file}`)}`,
        ],
        recovery: [`gh workflow run ${file} -f tag=${ctx.tag}`, ctx.command("--mode live --resume")],
      });
    }
    ctx.facts.build_run = runFacts(found, file);
    ctx.facts.last_run = ctx.facts.build_run;
    await ctx.save();
    const run = await waitForCompletion(ctx, "release", found);
    ctx.facts.build_run = runFacts(run, file);
    ctx.facts.last_run = ctx.facts.build_run;
    if (run.conclusion !== "success") {
      const jobs = await failedJobs(ctx.gh, run.id);
      ctx.facts.failed_jobs = jobs;
      throw new StepFailure({
        title: `${file} run ${run.id} for ${ctx.tag} concluded ${run.conclusion ?? "without a conclusion"}`,
        summary: `build run ${run.id} (${run.html_url}) concluded ${run.conclusion ?? "?"}; failed jobs: ${jobs.map((j) => j.name).join(", ") || "none reported"}`,
        run: ctx.facts.build_run,
        failed_jobs: jobs,
        recovery: [`gh run rerun ${run.id} --failed --repo ${ctx.project.repo}`, ctx.command("--mode live --resume")],
      });
    }

    await checkMetadata(ctx, run, commit, false);
    return {
      status: "ok",
      detail: `run ${run.id} success (${run.html_url}); metadata tag ${ctx.tag}, version ${ctx.version}, source_sha ${commit.slice(0, 12)} = tag commit`,
    };
  },
};

/**
 * The release-metadata artifact of a build run must say tag == target, version == X.Y.Z and source_sha == the
 * tag's commit (inspect_release_build_metadata.sh). `refused`: the run was the operator's --build-run-id.
 */
async function checkMetadata(ctx: StepContext, run: Run, commit: string, refused: boolean): Promise<void> {
  const facts = runFacts(run, ctx.release.config.workflows.build);
  const name = ctx.release.config.build_artifact;
  ctx.progress.status(`downloading ${name} of run ${run.id}`);
  const artifact = (await ctx.gh.artifacts(run.id, name)).find((a) => a.name === name && !a.expired);
  if (!artifact) {
    throw new StepFailure({
      title: `build run ${run.id} has no ${name} artifact`,
      summary: `run ${run.id} (${run.html_url}) succeeded but has no (unexpired) ${name} artifact: publish would have no provenance`,
      run: facts,
      recovery: [`gh run rerun ${run.id} --repo ${ctx.project.repo}`, ctx.command("--mode live --resume")],
      refused,
    });
  }
  const zip = await ctx.gh.downloadArtifact(artifact);
  let metadata: z.infer<typeof Metadata>;
  try {
    const files = unzipSync(new Uint8Array(zip));
    const entry = Object.entries(files).find(([n]) => n === "metadata.json" || n.endsWith("/metadata.json"));
    if (!entry) throw new Error(`the zip holds ${Object.keys(files).join(", ") || "nothing"}, not metadata.json`);
    metadata = Metadata.parse(JSON.parse(strFromU8(entry[1])));
  } catch (err) {
    throw new AppError("E_UPSTREAM_MALFORMED", `${name} of run ${run.id}: ${errorMessage(err)}`, { cause: err });
  }
  ctx.facts.metadata = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, String(v)]));
  const problems: string[] = [];
  if (metadata.tag !== ctx.tag) problems.push(`tag ${metadata.tag} != ${ctx.tag}`);
  if (metadata.version !== ctx.version) problems.push(`version ${metadata.version} != ${ctx.version}`);
  if (metadata.source_sha !== commit) problems.push(`source_sha ${metadata.source_sha} != tag commit ${commit}`);
  if (problems.length > 0) {
    throw new StepFailure({
      title: `release metadata of run ${run.id} does not match ${ctx.tag}`,
      summary: `metadata.json of run ${run.id}: ${problems.join("; ")}`,
      run: facts,
      details: problems,
      recovery: [
        `bash skills/plasmite-release-manager/scripts/inspect_release_build_metadata.sh --run-id ${run.id} --expect-tag ${ctx.tag}`,
      ],
      refused,
    });
  }
}

const INSPECT = "bash skills/plasmite-release-manager/scripts/inspect_release_build_metadata.sh";

/**
 * Publish-only recovery (`--build-run-id`, release-hygiene.md "Publish-only rerun after fixing credentials"):
 * validate the given run as inspect_release_build_metadata.sh does (workflow `release`, conclusion success,
 * matching release-metadata) instead of finding the tag's run. Nothing is waited for or rebuilt.
 */
async function publishOnlyBuild(ctx: StepContext, id: number, commit: string | null): Promise<StepOutcome> {
  const file = ctx.release.config.workflows.build;
  const inspect = `${INSPECT} --run-id ${id} --expect-tag ${ctx.tag}`;
  if (commit === null) {
    throw new StepFailure({
      title: `${ctx.tag} is not on the remote`,
      summary: `--build-run-id ${id}: ${ctx.tag} is not on ${ctx.release.config.remote}; a publish-only rerun needs the pushed tag`,
      recovery: [ctx.command("--mode live")],
      refused: true,
    });
  }
  const run = await ctx.gh.run(id).catch((err: unknown) => {
    if (err instanceof AppError && (err.details as { status?: number } | undefined)?.status === 404) return null;
    throw err;
  });
  if (!run) {
    throw new StepFailure({
      title: `build run ${id} not found`,
      summary: `--build-run-id ${id}: no such workflow run in ${ctx.project.repo} (GET ${ctx.gh.path(`/actions/runs/${id}`)}: 404)`,
      recovery: [`gh run list --workflow ${file} --repo ${ctx.project.repo} --limit 5`, inspect],
      refused: true,
    });
  }
  ctx.facts.build_run = runFacts(run, file);
  ctx.facts.last_run = ctx.facts.build_run;
  const wf = await ctx.gh.workflow(file);
  const sameWorkflow = wf !== null && (run.workflow_id === wf.id || (run.path ?? "").split("@")[0] === wf.path);
  if (!sameWorkflow) {
    const from = `${run.name ?? "?"}${run.path ? ` (${run.path})` : ""}`;
    throw new StepFailure({
      title: `run/workflow mismatch for build_run_id ${id}`,
      summary: `run/workflow mismatch: --build-run-id ${id} (${run.html_url}) is a run of workflow ${from}, not ${wf?.name ?? "release"} (${file}); release-publish would fail resolve-build-run`,
      run: ctx.facts.build_run,
      details: [
        `likely cause: the run came from a workflow other than ${wf?.name ?? "release"}`,
        `immediate fix: choose a successful ${wf?.name ?? "release"} run and validate it with: ${inspect.replace(String(id), "<id>")}`,
      ],
      recovery: [
        `gh run list --workflow ${file} --repo ${ctx.project.repo} --limit 5 --json databaseId,conclusion,headBranch`,
        `${INSPECT} --run-id <id> --expect-tag ${ctx.tag}`,
        ctx.command("--mode live --build-run-id <id>"),
      ],
      refused: true,
    });
  }
  if (run.status !== "completed" || run.conclusion !== "success") {
    throw new StepFailure({
      title: `build run ${id} did not succeed`,
      summary: `--build-run-id ${id} (${run.html_url}) is ${run.status ?? "?"}/${run.conclusion ?? "no conclusion"}: publish only from a successful ${file} run`,
      run: ctx.facts.build_run,
      recovery: [`gh run list --workflow ${file} --repo ${ctx.project.repo} --limit 5`, inspect],
      refused: true,
    });
  }
  await checkMetadata(ctx, run, commit, true);
  return {
    status: "ok",
    detail: `publish-only: --build-run-id ${id} validated (${run.html_url}): workflow ${run.name ?? file}, success; metadata tag ${ctx.tag}, version ${ctx.version}, source_sha ${commit.slice(0, 12)} = tag commit; nothing rebuilt`,
  };
}
