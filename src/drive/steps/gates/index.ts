import path from "node:path";
import { parseDuration } from "../../../config/duration.ts";
import { renderTemplate } from "../../../plan/build-plan.ts";
import { execToLog, formatArgv } from "../../exec.ts";
import { Git } from "../../git.ts";
import {
  StepFailure,
  type CheckResult,
  type GateFacts,
  type Step,
  type StepContext,
  type StepOutcome,
} from "../../types.ts";

/**
 * Required QA gates (SKILL.md "Required QA Gates"): the configured commands in order, spawned with argument
 * arrays, each one's output streamed to `<evidence_dir>/logs/<gate>.log`. The first failure stops the release.
 * Gates are checks, so they run in dry-run too.
 */
export const gatesStep: Step = {
  name: "gates",
  title: "required QA gates",
  section: "QA Gate Evidence",
  mutates: false,
  irreversible: false,

  async check(ctx: StepContext): Promise<CheckResult> {
    const git = new Git(ctx.release.repoDir, ctx.signal);
    const head = await git.head();
    const remote = await git.lsRemote(ctx.release.config.remote, `refs/tags/${ctx.tag}`);
    if (remote && (remote.peeled ?? remote.object) === head) {
      return {
        done: true,
        detail: `${ctx.tag} is already on ${ctx.release.config.remote} at HEAD: the gates passed before it was pushed`,
      };
    }
    const hinted = ctx.hint?.facts;
    if (
      ctx.resume &&
      hinted?.gates_head === head &&
      hinted.gates?.length &&
      hinted.gates.every((g) => g.status !== "failed")
    ) {
      ctx.facts.gates = hinted.gates;
      ctx.facts.gates_head = head;
      return {
        done: true,
        detail: `all ${hinted.gates.length} gates passed at HEAD ${head.slice(0, 12)} in the previous run`,
      };
    }
    return { done: false, detail: "gates not yet passed at HEAD" };
  },

  async run(ctx: StepContext): Promise<StepOutcome> {
    const gates = ctx.release.config.gates;
    const head = await new Git(ctx.release.repoDir, ctx.signal).head();
    const results: GateFacts[] = [];
    ctx.facts.gates = results;
    if (gates.length === 0) {
      ctx.facts.gates_head = head;
      return { status: "ok", detail: "no gates configured" };
    }
    let changes: ChangedFiles | null = null;
    const vars = {
      tag: ctx.tag,
      version: ctx.version,
      ...(ctx.facts.base_tag ? { base_tag: ctx.facts.base_tag } : {}),
    };
    for (const [i, g] of gates.entries()) {
      const gate = { ...g, run: g.run.map((a) => renderTemplate(a, vars)) };
      const command = formatArgv(gate.run);
      const log = path.join(ctx.release.logsDir, `${gate.name}.log`);
      let condition: string | undefined;
      if (gate.when) {
        changes ??= await changedFiles(ctx, head);
        const verdict = conditionVerdict(gate.when.changed, changes);
        condition = verdict.detail;
        if (!verdict.run) {
          results.push({
            name: gate.name,
            command,
            status: "skipped",
            exit_code: null,
            duration_ms: 0,
            log,
            condition,
          });
          ctx.progress.line(`skipped ${gate.name}: ${condition}`);
          await ctx.save();
          continue;
        }
      }
      ctx.progress.status(`gate ${i + 1}/${gates.length} ${gate.name}: ${command}`);
      const r = await execToLog(gate.run, {
        cwd: gate.cwd ? path.resolve(ctx.release.repoDir, gate.cwd) : ctx.release.repoDir,
        logFile: log,
        signal: ctx.signal,
        timeoutMs: parseDuration(gate.timeout) ?? 0,
        tailLines: 20,
        onLine: (line) => {
          if (line.trim() !== "") ctx.progress.status(`gate ${gate.name}: ${line.trim().slice(0, 160)}`);
        },
      });
      if (ctx.signal.aborted) throw ctx.signal.reason as Error;
      const passed = r.code === 0;
      results.push({
        name: gate.name,
        command,
        status: passed ? "passed" : "failed",
        exit_code: r.code,
        duration_ms: r.duration_ms,
        log,
        ...(condition ? { condition } : {}),
      });
      ctx.progress.line(
        `${passed ? "passed" : "FAILED"}  ${gate.name} (${(r.duration_ms / 1000).toFixed(1)}s) — log: ${log}`,
      );
      await ctx.save();
      if (!passed) {
        const why = r.error
          ? `could not start (${r.error})`
          : r.timed_out
            ? `timed out after ${gate.timeout}`
            : `exit ${r.code ?? `signal ${r.signal ?? "?"}`}`;
        throw new StepFailure({
          title: `gate ${gate.name} failed`,
          summary: `QA gate ${gate.name} failed: ${command} — ${why}`,
          command,
          exit_code: r.code,
          log,
          log_tail: r.tail,
          details: [`fix the gate (full output in ${log}), then rerun the release; nothing was tagged or published`],
          recovery: [ctx.command(`--mode ${ctx.mode}`)],
        });
      }
    }
    ctx.facts.gates_head = head;
    const passed = results.filter((g) => g.status === "passed");
    const skipped = results.filter((g) => g.status === "skipped");
    return {
      status: "ok",
      detail: `${passed.length > 0 ? `${passed.length} gates passed: ${passed.map((g) => g.name).join(", ")}` : "no gate ran"}${
        skipped.length > 0 ? `; skipped (no matching changes): ${skipped.map((g) => g.name).join(", ")}` : ""
      }`,
    };
  },
};

/** Files changed between base_tag and the release commit; null base: a first release (every gate runs). */
interface ChangedFiles {
  base: string | null;
  files: string[];
}

async function changedFiles(ctx: StepContext, head: string): Promise<ChangedFiles> {
  const base = ctx.facts.base_tag ?? null;
  if (base === null) return { base, files: [] };
  const git = new Git(ctx.release.repoDir, ctx.signal);
  const out = await git.run(["diff", "--name-only", base, head], [ctx.command(`--mode ${ctx.mode}`)]);
  return { base, files: out.split("\n").filter((l) => l.trim() !== "") };
}

/** Pure: does a `when.changed` condition hold for these changes. */
export function conditionVerdict(globs: readonly string[], changes: ChangedFiles): { run: boolean; detail: string } {
  const diff = `git diff --name-only ${changes.base ?? "(none)"} HEAD`;
  if (changes.base === null) return { run: true, detail: "no base_tag (first release): conditional gate runs" };
  const hits = changes.files.filter((f) => globs.some((g) => path.matchesGlob(f, g)));
  if (hits.length === 0) {
    return {
      run: false,
      detail: `skipped: no matching changes (${globs.join(", ")}) since ${changes.base} (${diff}: ${changes.files.length} files)`,
    };
  }
  const shown = hits.slice(0, 5).join(", ") + (hits.length > 5 ? `, +${hits.length - 5} more` : "");
  return { run: true, detail: `runs: ${shown} changed since ${changes.base} (${diff})` };
}
