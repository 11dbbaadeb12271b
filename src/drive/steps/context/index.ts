import semver from "semver";
import { Git } from "../../git.ts";
import { StepFailure, type CheckResult, type Step, type StepContext, type StepOutcome } from "../../types.ts";

/**
 * Release context (runbook "Required Inputs"): the validated target, the base tag (highest semver tag below the
 * target, from `git tag --list`), the source branch and HEAD, mode and agent. Always recomputed.
 */
export const contextStep: Step = {
  name: "context",
  title: "release target, base tag, source and agent",
  section: "Release Context",
  summary: (f) => (f.base_tag !== undefined ? { base_tag: f.base_tag } : {}),
  mutates: false,
  irreversible: false,

  check(): Promise<CheckResult> {
    return Promise.resolve({ done: false, detail: "always recomputed" });
  },

  async run(ctx: StepContext): Promise<StepOutcome> {
    const prefix = ctx.project.tag_prefix;
    if (!ctx.tag.startsWith(prefix) || !/^[0-9]+\.[0-9]+\.[0-9]+$/.test(ctx.version) || !semver.valid(ctx.version)) {
      throw new StepFailure({
        title: `invalid release target ${ctx.tag}`,
        summary: `release target ${ctx.tag} is not ${prefix}X.Y.Z`,
        recovery: [ctx.command("")],
      });
    }
    const git = new Git(ctx.release.repoDir, ctx.signal);
    if (!(await git.isRepo())) {
      throw new StepFailure({
        title: "repo_dir is not a git checkout",
        summary: `${ctx.release.repoDir} is not a git work tree (release.repo_dir)`,
        recovery: ["fix release.repo_dir in the config"],
      });
    }
    const head = await git.head();
    const branch = (await git.status()).branch ?? "(detached)";
    const below = (await git.tags(`${prefix}[0-9]*.[0-9]*.[0-9]*`))
      .map((t) => ({ tag: t, v: semver.valid(t.slice(prefix.length)) }))
      .filter((x): x is { tag: string; v: string } => x.v !== null && semver.lt(x.v, ctx.version))
      .sort((a, b) => semver.rcompare(a.v, b.v));
    const base = below[0]?.tag ?? null;
    ctx.facts.base_tag = base;
    ctx.facts.head_sha = head;
    ctx.facts.branch = branch;
    return {
      status: "ok",
      detail: `${ctx.tag} (version ${ctx.version}), base tag ${base ?? "none (first release)"}, source ${branch} @ ${head.slice(0, 12)}, mode ${ctx.mode}, agent ${ctx.agent}`,
    };
  },
};
