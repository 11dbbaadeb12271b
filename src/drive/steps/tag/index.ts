import { Git } from "../../git.ts";
import { StepFailure, type CheckResult, type Step, type StepContext, type StepOutcome } from "../../types.ts";

/**
 * Tag (release-hygiene.md "Tag + Release"): `git tag -a <tag> -m "Release <tag>"` and `git push <remote> <tag>`,
 * live only. A tag that already points at HEAD (locally or on the remote) is accepted; a tag anywhere else stops
 * the release (a burned tag is never moved).
 */
export const tagStep: Step = {
  name: "tag",
  title: "annotated tag on HEAD, pushed",
  section: "Release Mechanics",
  mutates: true,
  irreversible: true,

  async check(ctx: StepContext): Promise<CheckResult> {
    const git = new Git(ctx.release.repoDir, ctx.signal);
    const remote = ctx.release.config.remote;
    const head = await git.head();
    const onRemote = await git.lsRemote(remote, `refs/tags/${ctx.tag}`);
    const local = await git.commitOf(`refs/tags/${ctx.tag}`);
    if (onRemote) {
      const commit = onRemote.peeled ?? onRemote.object;
      ctx.facts.remote_tag = { object: onRemote.object, commit, annotated: onRemote.peeled !== null };
      if (commit !== head) {
        throw new StepFailure({
          title: `tag ${ctx.tag} on ${remote} points at ${commit.slice(0, 12)}, not HEAD`,
          summary: `${ctx.tag} on ${remote} points at ${commit}, but HEAD is ${head}: refusing to release a different commit or move a pushed tag`,
          details: [
            "a pushed tag is never moved: release the commit it names from a branch at it, or pick a new version",
          ],
          recovery: [`git -C ${ctx.release.repoDir} show --no-patch ${commit}`],
        });
      }
      return {
        done: true,
        detail: `${ctx.tag} on ${remote} → HEAD ${head.slice(0, 12)}${onRemote.peeled ? ` (annotated, tag object ${onRemote.object.slice(0, 12)})` : " (lightweight)"}`,
      };
    }
    ctx.facts.remote_tag = null;
    if (local !== null && local !== head) {
      throw new StepFailure({
        title: `local tag ${ctx.tag} points at ${local.slice(0, 12)}, not HEAD`,
        summary: `local tag ${ctx.tag} points at ${local}, HEAD is ${head}; it was never pushed`,
        details: ["delete the local tag if it is a mistake (it is not on the remote)"],
        recovery: [`git -C ${ctx.release.repoDir} tag -d ${ctx.tag}`, ctx.command(`--mode ${ctx.mode}`)],
      });
    }
    return {
      done: false,
      detail: local ? `${ctx.tag} exists locally at HEAD, not on ${remote}` : `${ctx.tag} does not exist yet`,
    };
  },

  async run(ctx: StepContext): Promise<StepOutcome> {
    const git = new Git(ctx.release.repoDir, ctx.signal);
    const remote = ctx.release.config.remote;
    const head = await git.head();
    const local = await git.commitOf(`refs/tags/${ctx.tag}`);
    const create = ["tag", "-a", ctx.tag, "-m", `Release ${ctx.tag}`];
    const push = ["push", remote, ctx.tag];
    if (ctx.mode === "dry-run") {
      const actions = [...(local === null ? [git.display(create)] : []), git.display(push)];
      for (const a of actions) ctx.progress.line(`would run: ${a}`);
      return {
        status: "planned",
        detail: `would tag HEAD ${head.slice(0, 12)} as ${ctx.tag} and push it to ${remote}`,
        actions,
      };
    }
    const recovery = [ctx.command("--mode live --resume")];
    if (local === null) {
      ctx.progress.status(git.display(create));
      await git.run(create, recovery);
      ctx.facts.tag_created = true;
      ctx.decide(`created annotated tag ${ctx.tag} at ${head}`);
    } else {
      ctx.decide(`kept the existing local tag ${ctx.tag} (already at HEAD ${head.slice(0, 12)})`);
    }
    await ctx.save();
    ctx.progress.status(git.display(push));
    await git.run(push, recovery);
    ctx.facts.tag_pushed = true;
    const onRemote = await git.lsRemote(remote, `refs/tags/${ctx.tag}`);
    const commit = onRemote ? (onRemote.peeled ?? onRemote.object) : null;
    if (!onRemote || commit !== head) {
      throw new StepFailure({
        title: `tag ${ctx.tag} not visible on ${remote} after push`,
        summary: `after ${git.display(push)}, ${remote} has ${ctx.tag} → ${commit ?? "nothing"}, expected ${head}`,
        recovery,
      });
    }
    ctx.facts.remote_tag = { object: onRemote.object, commit, annotated: onRemote.peeled !== null };
    return {
      status: "ok",
      detail: `${ctx.tag} (tag object ${onRemote.object.slice(0, 12)}) → ${head.slice(0, 12)} pushed to ${remote}`,
    };
  },
};
