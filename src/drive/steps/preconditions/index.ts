import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import { ErgoClient, findBlockerEpics, openBlockers } from "../../../ergo/client.ts";
import { errorMessage } from "../../../errors.ts";
import { execToLog, formatArgv } from "../../exec.ts";
import { Git } from "../../git.ts";
import {
  StepFailure,
  StepUnknown,
  type CheckLine,
  type CheckResult,
  type Step,
  type StepContext,
  type StepOutcome,
} from "../../types.ts";

/**
 * Preconditions (release-hygiene.md "Preconditions"), all read-only, all checked (not just up to the first
 * failure) so one run shows everything to fix: clean and pushed release source, GitHub auth, Actions secrets,
 * no open release blockers, version alignment, a writable tap checkout, and both release workflows active.
 */
export const preconditionsStep: Step = {
  name: "preconditions",
  title: "clean pushed source, auth, secrets, blockers, versions, tap, workflows",
  section: "QA Gate Evidence",
  mutates: false,
  irreversible: false,

  check(): Promise<CheckResult> {
    return Promise.resolve({ done: false, detail: "always re-checked" });
  },

  async run(ctx: StepContext): Promise<StepOutcome> {
    const lines: CheckLine[] = [];
    let blockers: { id: string; title: string; state: string }[] = [];
    const guard = async (name: string, fn: () => Promise<CheckLine | CheckLine[] | null>): Promise<void> => {
      ctx.progress.status(name);
      try {
        const r = await fn();
        if (r === null) return;
        for (const l of Array.isArray(r) ? r : [r]) {
          lines.push(l);
          ctx.progress.line(`${l.ok === null ? "?" : l.ok ? "ok" : "FAIL"}  ${l.name}: ${l.detail}`);
        }
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        if (err instanceof StepFailure) {
          lines.push({ name, ok: false, detail: err.message });
          ctx.progress.line(`FAIL  ${name}: ${err.message}`);
          return;
        }
        lines.push({ name, ok: null, detail: `could not tell: ${errorMessage(err)}` });
        ctx.progress.line(`?  ${name}: could not tell: ${errorMessage(err)}`);
      }
    };

    await guard("release source", () => sourceChecks(ctx));
    await guard("github auth", async () => {
      const u = await ctx.gh.user();
      return u.ok
        ? { name: "github auth", ok: true, detail: `GET /user: authenticated as ${u.login}` }
        : {
            name: "github auth",
            ok: false,
            detail: `GET /user: HTTP ${u.status}${u.message ? ` (${u.message})` : ""}; set settings.github.token or GITHUB_TOKEN`,
          };
    });
    await guard("actions secrets", async () => {
      const names = new Set(await ctx.gh.secretNames());
      const cfg = ctx.release.config;
      const wanted = [...cfg.required_secrets, ...(ctx.mode === "live" ? cfg.live_secrets : [])];
      const missing = wanted.filter((n) => !names.has(n));
      return {
        name: "actions secrets",
        ok: missing.length === 0,
        detail:
          missing.length === 0
            ? `${wanted.join(", ")} present (GET ${ctx.gh.path("/actions/secrets")})`
            : `missing ${missing.join(", ")} in ${ctx.project.repo} (GET ${ctx.gh.path("/actions/secrets")})`,
      };
    });
    await guard("release blockers", async () => {
      const opts = {
        dir: ctx.release.ergoDir,
        binary: ctx.release.config.ergo.binary,
        tag: ctx.tag,
        log: ctx.rt.log,
        signal: ctx.signal,
      };
      const open = await openBlockers(opts);
      blockers = open.map((t) => ({ id: t.id, title: t.title, state: t.state }));
      const epics = await findBlockerEpics(new ErgoClient(opts), ctx.tag);
      ctx.facts.open_blockers = open.length;
      ctx.facts.blocker_epic = epics[0]?.id ?? null;
      return {
        name: "release blockers",
        ok: open.length === 0,
        detail:
          open.length === 0
            ? `no open tasks under "Release blockers: ${ctx.tag}"${epics[0] ? ` (epic ${epics[0].id})` : ""}`
            : `${open.length} open: ${open.map((t) => `${t.id} ${t.title} [${t.state}]`).join("; ")}`,
      };
    });
    await guard("version alignment", async () => {
      const argv = ctx.release.config.version_alignment;
      if (!argv) return { name: "version alignment", ok: true, detail: "no version_alignment command configured" };
      const r = await execToLog(argv, {
        cwd: ctx.release.repoDir,
        logFile: path.join(ctx.release.logsDir, "version-alignment.log"),
        signal: ctx.signal,
        timeoutMs: 600_000,
      });
      const output = r.tail
        .filter((l) => l.trim() !== "")
        .slice(-3)
        .join(" / ");
      const ok = r.code === 0;
      ctx.facts.version_alignment = { ok, command: formatArgv(argv), output };
      return {
        name: "version alignment",
        ok,
        detail: `${formatArgv(argv)}: ${ok ? "exit 0" : r.error ? `could not start (${r.error})` : `exit ${r.code ?? r.signal ?? "?"}`}${output ? ` — ${output}` : ""}`,
      };
    });
    if (ctx.project.channels.homebrew && ctx.release.config.steps.includes("homebrew")) {
      await guard("tap checkout", () => tapCheck(ctx));
    }
    await guard("release workflows", async () => {
      const cfg = ctx.release.config;
      const files = [
        ...(cfg.steps.includes("build") ? [cfg.workflows.build] : []),
        ...(cfg.steps.some((s) => s === "rehearsal" || s === "publish") ? [cfg.workflows.publish] : []),
      ];
      const out: CheckLine[] = [];
      ctx.facts.workflows = [];
      for (const file of files) {
        const wf = await ctx.gh.workflow(file);
        if (wf) ctx.facts.workflows.push({ file, id: wf.id, state: wf.state, url: wf.html_url ?? "" });
        out.push({
          name: `workflow ${file}`,
          ok: wf !== null && wf.state === "active",
          detail: wf
            ? `"${wf.name}" (${wf.path}, id ${wf.id}) is ${wf.state}`
            : `GET ${ctx.gh.path(`/actions/workflows/${file}`)}: not found`,
        });
      }
      return out;
    });

    ctx.facts.preconditions = lines;
    const failed = lines.filter((l) => l.ok === false);
    const unknown = lines.filter((l) => l.ok === null);
    if (failed.length > 0) {
      const again = ctx.command(`--mode ${ctx.mode}${ctx.resume ? " --resume" : ""}`);
      const ergo = ctx.release.config.ergo.binary;
      throw new StepFailure({
        title: `preconditions failed: ${failed.map((l) => l.name).join(", ")}`,
        summary: failed.map((l) => `${l.name}: ${l.detail}`).join("; "),
        details: failed.map((l) => `${l.name}: ${l.detail}`),
        // Open blockers: fix each, close it, then run again (no new blocker is filed about them).
        recovery: [...blockers.map((b) => formatArgv([ergo, "--dir", ctx.release.ergoDir, "done", b.id])), again],
        ...(blockers.length > 0 ? { open_blockers: blockers } : {}),
      });
    }
    if (unknown.length > 0) {
      throw new StepUnknown(`could not check: ${unknown.map((l) => `${l.name} (${l.detail})`).join("; ")}`, [
        ctx.command(`--mode ${ctx.mode}${ctx.resume ? " --resume" : ""}`),
      ]);
    }
    return { status: "ok", detail: `${lines.length} checks passed` };
  },
};

async function sourceChecks(ctx: StepContext): Promise<CheckLine[]> {
  const git = new Git(ctx.release.repoDir, ctx.signal);
  const remote = ctx.release.config.remote;
  const top = await git.run(["rev-parse", "--show-toplevel"]);
  const evidenceRel = path.relative(top, ctx.release.evidenceDir).split(path.sep).join("/");
  const st = await git.status();
  // The driver's own evidence directory (kept git-ignored) never makes the tree dirty.
  const dirty = st.entries.filter((e) => {
    const p = e.slice(3).replace(/^"|"$/g, "");
    return !(
      p === `${evidenceRel}/` ||
      p.startsWith(`${evidenceRel}/`) ||
      (e.startsWith("??") && p.endsWith("/") && `${evidenceRel}/`.startsWith(p))
    );
  });
  const out: CheckLine[] = [
    {
      name: "work tree clean",
      ok: dirty.length === 0,
      detail:
        dirty.length === 0
          ? `git status --porcelain: clean (${st.branch ?? "detached"})`
          : `${dirty.length} change(s): ${dirty.slice(0, 5).join(", ")}${dirty.length > 5 ? ", …" : ""}`,
    },
  ];
  if (!st.branch || !st.upstream) {
    out.push({
      name: "source pushed",
      ok: false,
      detail: `${st.branch ?? "detached HEAD"} has no upstream branch on ${remote}`,
    });
    return out;
  }
  if (st.ahead > 0) {
    out.push({
      name: "source pushed",
      ok: false,
      detail: `${st.branch} is ahead of ${st.upstream} by ${st.ahead} commit(s): push it first`,
    });
    return out;
  }
  const head = await git.head();
  const remoteBranch = await git.lsRemote(remote, `refs/heads/${st.branch}`);
  if (!remoteBranch) {
    out.push({ name: "source pushed", ok: false, detail: `${remote} has no branch ${st.branch}` });
  } else if (remoteBranch.object === head) {
    out.push({ name: "source pushed", ok: true, detail: `${remote}/${st.branch} is at HEAD ${head.slice(0, 12)}` });
  } else if (await git.isAncestor(head, remoteBranch.object)) {
    out.push({
      name: "source pushed",
      ok: true,
      detail: `HEAD ${head.slice(0, 12)} is on ${remote}/${st.branch} (now at ${remoteBranch.object.slice(0, 12)})`,
    });
  } else {
    out.push({
      name: "source pushed",
      ok: false,
      detail: `HEAD ${head.slice(0, 12)} is not on ${remote}/${st.branch} (${remoteBranch.object.slice(0, 12)})`,
    });
  }
  return out;
}

async function tapCheck(ctx: StepContext): Promise<CheckLine> {
  const dir = ctx.release.tapDir;
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) return { name: "tap checkout", ok: false, detail: `${dir} does not exist (release.tap_dir)` };
  const writable = await access(dir, constants.W_OK).then(
    () => true,
    () => false,
  );
  if (!writable) return { name: "tap checkout", ok: false, detail: `${dir} is not writable` };
  const git = new Git(dir, ctx.signal);
  if (!(await git.isRepo())) return { name: "tap checkout", ok: false, detail: `${dir} is not a git checkout` };
  const url = await git.exec(["remote", "get-url", ctx.release.config.remote]);
  if (url.code !== 0)
    return { name: "tap checkout", ok: false, detail: `${dir} has no remote ${ctx.release.config.remote}` };
  return {
    name: "tap checkout",
    ok: true,
    detail: `${dir} is a writable checkout (${ctx.release.config.remote} ${url.stdout.trim()})`,
  };
}
