import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { unzipSync } from "fflate";
import { buildPlan, renderTemplate } from "../../../plan/build-plan.ts";
import { parseTargetsManifest, type TargetsManifest } from "../../../plan/targets-manifest.ts";
import { writeFileAtomic } from "../../checkpoint.ts";
import { formulaProblems, formulaVersion, updateFormula, type FormulaTarget } from "../../formula.ts";
import { Git } from "../../git.ts";
import { StepFailure, type CheckResult, type Step, type StepContext, type StepOutcome } from "../../types.ts";

/**
 * Homebrew tap (release-hygiene.md "Align Homebrew tap before final publish"): rewrite the formula from the
 * build's checksums (sha256 of each `dist-<rust_target>` artifact's tarball; or, when there is no build run but the
 * release exists, the release's checksum file, or each archive's `.sha256` sidecar with `checksums: { sidecar }`), following update_homebrew_formula.sh, verify alignment with the
 * formula parser, then `git commit -m "<name>: update to <version>"` and push in the tap checkout (live only).
 * Done when the tap remote's formula is already aligned.
 */

interface Prepared {
  formula: string;
  branch: string;
  artifacts: { platform: string; url: string; archive: string; rustTarget: string | null }[];
}

async function prepare(ctx: StepContext): Promise<Prepared | null> {
  const hb = ctx.project.channels.homebrew;
  if (!hb) return null;
  const manifest = await localManifest(ctx);
  const plan = buildPlan({
    project: ctx.project,
    settings: ctx.loaded.config.settings,
    tag: ctx.tag,
    expectLatest: false,
    manifest,
  });
  const home = plan.homebrew;
  if (!home) return null;
  if (home.artifacts.length === 0) {
    throw new StepFailure({
      title: "no Homebrew platforms",
      summary: "channels.homebrew has no platforms (set channels.homebrew.platforms or release.targets_manifest)",
      recovery: ["fix the config"],
    });
  }
  const rustTargets = ctx.release.config.rust_targets ?? {};
  return {
    formula: home.path,
    branch: home.ref,
    artifacts: home.artifacts.map((a) => ({
      platform: a.platform,
      url: a.url,
      archive: decodeURIComponent(a.url.split("/").pop() ?? ""),
      rustTarget:
        rustTargets[a.platform] ?? manifest?.targets.find((t) => t.sdk_platform === a.platform)?.rust_target ?? null,
    })),
  };
}

/** release/targets.json from the project checkout at the tag (HEAD before tagging). */
async function localManifest(ctx: StepContext): Promise<TargetsManifest | null> {
  const file = ctx.release.config.targets_manifest ?? ctx.project.targets_manifest;
  if (!file) return null;
  const git = new Git(ctx.release.repoDir, ctx.signal);
  const rev = (await git.commitOf(`refs/tags/${ctx.tag}`)) ?? "HEAD";
  const text = await git.show(rev, file);
  if (text === null) {
    throw new StepFailure({
      title: `${file} missing`,
      summary: `${file} does not exist at ${rev} in ${ctx.release.repoDir}`,
      recovery: ["fix release.targets_manifest"],
    });
  }
  return parseTargetsManifest(text, `${file}@${rev}`);
}

const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

/** Checksums per platform, from the build run's dist artifacts or the release's checksum file or sidecars; null if neither exists yet. */
async function checksums(ctx: StepContext, p: Prepared): Promise<Record<string, string> | null> {
  const run = ctx.facts.build_run;
  if (run && run.conclusion === "success") {
    const source = `${ctx.release.config.dist_artifact} artifacts of run ${run.id}`;
    if (ctx.facts.checksums && ctx.facts.checksum_source === source) return ctx.facts.checksums;
    const listed = await ctx.gh.artifacts(run.id);
    const out: Record<string, string> = {};
    for (const a of p.artifacts) {
      if (!a.rustTarget) {
        throw new StepFailure({
          title: `no rust target for ${a.platform}`,
          summary: `cannot name the dist artifact of ${a.platform}: set release.targets_manifest or release.rust_targets`,
          recovery: ["fix the config"],
        });
      }
      const name = renderTemplate(ctx.release.config.dist_artifact, {
        rust_target: a.rustTarget,
        platform: a.platform,
      });
      const artifact = listed.find((x) => x.name === name && !x.expired);
      if (!artifact) {
        throw new StepFailure({
          title: `build run ${run.id} has no ${name} artifact`,
          summary: `artifact ${name} (platform ${a.platform}) is missing from run ${run.id} (${run.url})`,
          run,
          recovery: [`gh run rerun ${run.id} --repo ${ctx.project.repo}`, ctx.command("--mode live --resume")],
        });
      }
      ctx.progress.status(`sha256 of ${a.archive} from ${name}`);
      const files = unzipSync(new Uint8Array(await ctx.gh.downloadArtifact(artifact)));
      const entry = Object.entries(files).find(([n]) => n === a.archive || n.endsWith(`/${a.archive}`));
      if (!entry) {
        throw new StepFailure({
          title: `${name} lacks ${a.archive}`,
          summary: `artifact ${name} of run ${run.id} holds ${Object.keys(files).join(", ") || "nothing"}, not ${a.archive}`,
          run,
          recovery: [ctx.command("--mode live --resume")],
        });
      }
      out[a.platform] = sha256(entry[1]);
    }
    ctx.facts.checksums = out;
    ctx.facts.checksum_source = source;
    return out;
  }
  const release = await ctx.gh.releaseByTag(ctx.tag);
  const checksums = ctx.project.channels.github?.checksums ?? null;
  if (!release || checksums === null) return null;
  const got = await sumsFromRelease(
    checksums,
    release.assets,
    p.artifacts,
    ctx.tag,
    (url) => ctx.gh.downloadAsset(url),
    ctx.command("--mode live --resume"),
  );
  if (!got) return null;
  ctx.facts.checksums = got.sums;
  ctx.facts.checksum_source = got.source;
  return got.sums;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Checksums per platform from the release: its checksum file's line per archive, or (`{ sidecar }`, cargo-dist) each
 * archive's `<archive><suffix>` sidecar (`<hex> *<name>`, `<hex>  <name>` or the bare hex). Null while the file or a
 * sidecar is not on the release yet; a file without a sha256 for an archive is a step failure naming it.
 */
export async function sumsFromRelease(
  checksums: string | { sidecar: string },
  assets: readonly { name: string; url: string }[],
  artifacts: readonly { platform: string; archive: string }[],
  tag: string,
  download: (url: string) => Promise<Buffer>,
  resume = "monitor release --mode live --resume",
): Promise<{ sums: Record<string, string>; source: string } | null> {
  const out: Record<string, string> = {};
  const noLine = (file: string, archive: string) =>
    new StepFailure({
      title: `${file} has no line for ${archive}`,
      summary: `${file} of release ${tag} lists no sha256 for ${archive}`,
      recovery: [resume],
    });
  if (typeof checksums === "object") {
    for (const a of artifacts) {
      const name = `${a.archive}${checksums.sidecar}`;
      const asset = assets.find((x) => x.name === name);
      if (!asset) return null;
      const text = (await download(asset.url)).toString("utf8").replace(/^\uFEFF/, "");
      const line = text.split(/\r?\n/).find((l) => l.trim() !== "");
      const [hex, file] = (line ?? "").trim().split(/\s+\*?/);
      if (!hex || !HEX64.test(hex.toLowerCase()) || (file !== undefined && file !== a.archive)) {
        throw noLine(name, a.archive);
      }
      out[a.platform] = hex.toLowerCase();
    }
    return { sums: out, source: `${checksums.sidecar} sidecars of release ${tag}` };
  }
  const asset = assets.find((x) => x.name === checksums);
  if (!asset) return null;
  const text = (await download(asset.url)).toString("utf8");
  for (const a of artifacts) {
    const line = text.split("\n").find((l) => l.trim().split(/\s+\*?/)[1] === a.archive);
    const hex = line?.trim().split(/\s+/)[0];
    if (!hex || !HEX64.test(hex)) throw noLine(checksums, a.archive);
    out[a.platform] = hex;
  }
  return { sums: out, source: `${checksums} of release ${tag}` };
}

function target(ctx: StepContext, p: Prepared, sums: Record<string, string>): FormulaTarget {
  return {
    version: ctx.version,
    tag: ctx.tag,
    artifacts: p.artifacts.map((a) => ({ platform: a.platform, url: a.url, sha256: sums[a.platform] ?? "" })),
  };
}

/** The tap remote's branch tip and its formula text (git fetch: updates FETCH_HEAD only). */
async function remoteFormula(ctx: StepContext, p: Prepared): Promise<{ sha: string; text: string | null }> {
  const git = new Git(ctx.release.tapDir, ctx.signal);
  await git.run(["fetch", "--quiet", "--no-tags", ctx.release.config.remote, p.branch]);
  const sha = await git.run(["rev-parse", "FETCH_HEAD"]);
  return { sha, text: await git.show(sha, p.formula) };
}

export const homebrewStep: Step = {
  name: "homebrew",
  title: "tap formula aligned, committed and pushed",
  section: "Release Mechanics",
  summary: (f) => (f.tap ? { tap: f.tap } : {}),
  mutates: true,
  irreversible: false,

  async check(ctx: StepContext): Promise<CheckResult> {
    const p = await prepare(ctx);
    if (!p) return { done: false, detail: "no homebrew channel" };
    const sums = await checksums(ctx, p);
    if (!sums) return { done: false, detail: "checksums not available yet (no build run, no release)" };
    const remote = await remoteFormula(ctx, p);
    if (remote.text !== null && formulaProblems(remote.text, target(ctx, p, sums)).length === 0) {
      ctx.facts.tap = {
        path: p.formula,
        from_version: ctx.hint?.facts.tap?.from_version ?? null,
        commit: remote.sha,
        pushed: true,
        aligned: true,
      };
      return {
        done: true,
        detail: `${ctx.release.config.remote}/${p.branch} (${remote.sha.slice(0, 12)}) already has ${p.formula} at ${ctx.version} with the build's sha256s`,
      };
    }
    return {
      done: false,
      detail: `${p.formula} on ${ctx.release.config.remote}/${p.branch} is not aligned with ${ctx.version}`,
    };
  },

  async run(ctx: StepContext): Promise<StepOutcome> {
    const p = await prepare(ctx);
    if (!p) return { status: "skipped", detail: "the project has no homebrew channel" };
    const git = new Git(ctx.release.tapDir, ctx.signal);
    const remote = ctx.release.config.remote;
    const message = renderTemplate(ctx.release.config.tap_commit_message, {
      name: ctx.project.name,
      version: ctx.version,
      tag: ctx.tag,
    });
    const commands = [
      git.display(["add", p.formula]),
      git.display(["commit", "-m", message, "--", p.formula]),
      git.display(["push", remote, p.branch]),
    ];
    const file = path.join(ctx.release.tapDir, p.formula);
    const current = await readFile(file, "utf8").catch(() => null);
    if (current === null) {
      throw new StepFailure({
        title: `${p.formula} missing in the tap`,
        summary: `${file} does not exist`,
        recovery: ["fix release.tap_dir / channels.homebrew.formula"],
      });
    }
    const from = formulaVersion(current);
    const sums = await checksums(ctx, p);
    if (!sums) {
      if (ctx.mode === "dry-run") {
        const actions = [
          `sha256 of ${p.artifacts.map((a) => a.archive).join(", ")} from the ${ctx.release.config.dist_artifact} artifacts of the ${ctx.release.config.workflows.build} run for ${ctx.tag}`,
          `rewrite ${file}: version ${from ?? "?"} → ${ctx.version}, /download/${ctx.tag}/ urls, sha256 per platform`,
          ...commands,
        ];
        for (const a of actions) ctx.progress.line(`would run: ${a}`);
        return {
          status: "planned",
          detail: `would update ${p.formula} from ${from ?? "?"} to ${ctx.version} once the build's checksums exist`,
          actions,
        };
      }
      throw new StepFailure({
        title: "no checksums for the formula",
        summary: `no successful build run and no release for ${ctx.tag}: nothing to take sha256s from`,
        recovery: [ctx.command("--mode live --resume")],
      });
    }
    const t = target(ctx, p, sums);
    const updated = updateFormula(current, t);
    const problems = formulaProblems(updated.text, t);
    if (problems.length > 0) {
      throw new StepFailure({
        title: `cannot align ${p.formula}`,
        summary: `after rewriting ${p.formula} it is still not aligned: ${problems.join("; ")}`,
        details: problems,
        recovery: [`edit ${file} by hand, commit and push it, then: ${ctx.command("--mode live --resume")}`],
      });
    }
    const changes = t.artifacts.map((a) => `${a.platform} sha256 ${a.sha256.slice(0, 12)}…`);
    if (ctx.mode === "dry-run") {
      const actions = [`write ${file}: version ${from ?? "?"} → ${ctx.version}; ${changes.join(", ")}`, ...commands];
      for (const a of actions) ctx.progress.line(`would run: ${a}`);
      ctx.facts.tap = { path: p.formula, from_version: from, commit: null, pushed: false, aligned: false };
      return {
        status: "planned",
        detail: `would commit "${message}" to the tap and push it to ${remote}/${p.branch}`,
        actions,
      };
    }

    const st = await git.status();
    if (st.branch !== p.branch) {
      throw new StepFailure({
        title: `tap checkout is on ${st.branch ?? "a detached HEAD"}`,
        summary: `${ctx.release.tapDir} must be on ${p.branch} to push the formula (it is on ${st.branch ?? "a detached HEAD"})`,
        recovery: [`git -C ${ctx.release.tapDir} checkout ${p.branch}`, ctx.command("--mode live --resume")],
      });
    }
    const before = await remoteFormula(ctx, p);
    const head = await git.head();
    if (before.sha !== head && !(await git.isAncestor(before.sha, head))) {
      throw new StepFailure({
        title: `tap checkout is behind ${remote}/${p.branch}`,
        summary: `${remote}/${p.branch} (${before.sha.slice(0, 12)}) has commits the tap checkout (${head.slice(0, 12)}) lacks`,
        recovery: [
          `git -C ${ctx.release.tapDir} pull --ff-only ${remote} ${p.branch}`,
          ctx.command("--mode live --resume"),
        ],
      });
    }
    if (updated.text !== current) await writeFileAtomic(file, updated.text);
    await git.run(["add", p.formula]);
    const staged = await git.exec(["diff", "--cached", "--quiet", "--", p.formula]);
    let commit = head;
    if (staged.code === 1) {
      ctx.progress.status(commands[1] ?? "");
      await git.run(["commit", "-m", message, "--", p.formula]);
      commit = await git.head();
      ctx.decide(`committed "${message}" (${commit.slice(0, 12)}) in the tap`);
    } else {
      ctx.decide(`the tap checkout already had ${p.formula} aligned at ${head.slice(0, 12)}; nothing to commit`);
    }
    ctx.facts.tap = { path: p.formula, from_version: from, commit, pushed: false, aligned: true };
    await ctx.save();
    ctx.progress.status(commands[2] ?? "");
    await git.run(
      ["push", remote, p.branch],
      [`git -C ${ctx.release.tapDir} push ${remote} ${p.branch}`, ctx.command("--mode live --resume")],
    );
    const after = await remoteFormula(ctx, p);
    const remaining = after.text === null ? ["formula missing on the remote"] : formulaProblems(after.text, t);
    if (after.sha !== commit || remaining.length > 0) {
      throw new StepFailure({
        title: "tap not aligned after push",
        summary: `${remote}/${p.branch} is at ${after.sha.slice(0, 12)} (expected ${commit.slice(0, 12)}): ${remaining.join("; ") || "different commit"}`,
        recovery: [ctx.command("--mode live --resume")],
      });
    }
    ctx.facts.tap = { path: p.formula, from_version: from, commit, pushed: true, aligned: true };
    return {
      status: "ok",
      detail: `${p.formula} ${from ?? "?"} → ${ctx.version}, commit ${commit.slice(0, 12)} "${message}" pushed to ${remote}/${p.branch}; aligned on ${t.artifacts.length} platforms`,
    };
  },
};
