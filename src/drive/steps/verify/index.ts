import { formatDuration } from "../../../config/duration.ts";
import type { Report } from "../../../report/types.ts";
import { verifyRelease } from "../../../verify/run.ts";
import { waitForSettle } from "../../../verify/wait.ts";
import {
  StepFailure,
  StepUnknown,
  type CheckResult,
  type Step,
  type StepContext,
  type StepOutcome,
} from "../../types.ts";

/**
 * Delivery verification: the `monitor verify <tag> --wait <verify_wait>` logic on every channel. The release is
 * complete only when every channel is ok (fail-closed: a partial release is a failure). In dry-run it is one pass,
 * for information.
 */

function note(c: Report["channels"][number]): string {
  const f = c.findings.find((x) => x.severity !== "info") ?? c.findings[0];
  if (f) return `${f.code}: ${f.message}`;
  const v = c.observed?.["version"] ?? c.observed?.["tag"];
  return typeof v === "string" ? `observed ${v}` : "";
}

function record(ctx: StepContext, r: Report): void {
  ctx.facts.verify = {
    status: r.status,
    checked_at: r.checked_at,
    channels: r.channels.map((c) => ({ channel: c.channel, status: c.status, note: note(c) })),
  };
}

const summary = (r: Report): string => r.channels.map((c) => `${c.channel}:${c.status}`).join(" ");

export const verifyStep: Step = {
  name: "verify",
  title: "every channel delivers the release (monitor verify --wait)",
  mutates: false,
  irreversible: false,

  check(): Promise<CheckResult> {
    return Promise.resolve({ done: false, detail: "channels are probed every time" });
  },

  async run(ctx: StepContext): Promise<StepOutcome> {
    const run = () => verifyRelease(ctx.rt, ctx.loaded, ctx.project, ctx.tag, { signal: ctx.signal });
    ctx.progress.status(`probing every channel for ${ctx.tag}`);
    let report = await run();
    record(ctx, report);
    if (ctx.mode === "dry-run") {
      return {
        status: report.status === "ok" ? "ok" : "planned",
        detail: `now: ${summary(report)}${report.status === "ok" ? "" : ` (live mode waits up to ${ctx.release.config.verify_wait} for every channel to be ok)`}`,
      };
    }
    if (report.status !== "ok" && ctx.release.verifyWaitMs > 0) {
      await ctx.save();
      report = await waitForSettle(report, run, {
        waitMs: ctx.release.verifyWaitMs,
        pollMs: ctx.release.pollMs,
        signal: ctx.signal,
        onWait: (w) =>
          ctx.progress.status(
            `waiting ${formatDuration(w.pauseMs)} (attempt ${w.attempt}, ${formatDuration(w.leftMs)} left): ${w.waiting.join(" ")}`,
          ),
      });
      record(ctx, report);
    }
    if (report.status === "ok") return { status: "ok", detail: `every channel ok: ${summary(report)}` };
    const bad = report.channels.filter((c) => c.status !== "ok" && c.status !== "skipped");
    const recovery = [ctx.command("--mode live --resume")];
    const alternative = `monitor verify ${ctx.tag} --wait ${ctx.release.config.verify_wait}`;
    if (report.status === "unknown") {
      throw new StepUnknown(`could not verify ${bad.map((c) => `${c.channel} (${note(c)})`).join(", ")}`, recovery);
    }
    throw new StepFailure({
      title: `${ctx.tag} is not delivered on ${bad.map((c) => c.channel).join(", ")}`,
      summary: `verify ${report.status}: ${bad.map((c) => `${c.channel} ${c.status} (${note(c)})`).join("; ")}`,
      details: bad.flatMap((c) =>
        c.findings.filter((f) => f.severity !== "info").map((f) => `${c.channel}: ${f.code}: ${f.message}`),
      ),
      recovery,
      alternative,
    });
  },
};
