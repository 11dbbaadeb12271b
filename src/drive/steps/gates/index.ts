import path from "node:path";
import { parseDuration } from "../../../config/duration.ts";
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
      hinted.gates.every((g) => g.status === "passed")
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
    for (const [i, gate] of gates.entries()) {
      const command = formatArgv(gate.run);
      const log = path.join(ctx.release.logsDir, `${gate.name}.log`);
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
    return { status: "ok", detail: `${results.length} gates passed: ${results.map((g) => g.name).join(", ")}` };
  },
};
