import { CHANNELS, type ChannelId } from "../../../channels.ts";
import { formatDuration } from "../../../config/duration.ts";
import type { Report } from "../../../report/types.ts";
import { verifyRelease } from "../../../verify/run.ts";
import { waitForSettle } from "../../../verify/wait.ts";
import { bypassReason } from "../../bypass.ts";
import { checkImmutableRelease } from "../../immutable.ts";
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
  const bypassed = new Set<string>(ctx.bypass?.channels ?? []);
  ctx.facts.verify = {
    status: r.status,
    checked_at: r.checked_at,
    channels: r.channels.map((c) => ({
      channel: c.channel,
      status: c.status,
      note: bypassed.has(c.channel) ? bypassReason(ctx.agent) : note(c),
      evidence_url: c.evidence[0]?.url ?? null,
    })),
  };
}

/** A bypassed channel is expected absent: not probed, reported `skipped` ("bypassed by maintainer"), never drift. */
function channelsToProbe(ctx: StepContext): ChannelId[] | undefined {
  const skip = ctx.bypass?.channels;
  return skip && skip.length > 0 ? CHANNELS.filter((c) => !skip.includes(c)) : undefined;
}

/** After a live publish: the immutable-release check (the seed's `gh release verify-asset`). */
async function immutable(ctx: StepContext): Promise<void> {
  ctx.progress.status(`checking the immutable release and its attestation for ${ctx.tag}`);
  const v = await checkImmutableRelease(ctx.gh, ctx.tag);
  ctx.facts.immutable = v.enabled || v.ok === null ? v : null;
  if (v.ok === true) return;
  const recovery = [ctx.command("--mode live --resume")];
  if (v.ok === null) throw new StepUnknown(v.detail, recovery);
  throw new StepFailure({
    title: `${ctx.tag} is not an attested immutable release`,
    summary: `immutable release check: ${v.detail}`,
    details: [`gh release verify ${ctx.tag} --repo ${ctx.project.repo}`],
    recovery,
    alternative: `gh release verify ${ctx.tag} --repo ${ctx.project.repo}`,
  });
}

const summary = (r: Report): string => r.channels.map((c) => `${c.channel}:${c.status}`).join(" ");

export const verifyStep: Step = {
  name: "verify",
  title: "every channel delivers the release (monitor verify --wait)",
  section: "Delivery Verification",
  summary: (f) => ({
    ...(f.verify ? { verify: f.verify } : {}),
    ...(f.immutable !== undefined ? { immutable: f.immutable } : {}),
  }),
  mutates: false,
  irreversible: false,

  check(): Promise<CheckResult> {
    return Promise.resolve({ done: false, detail: "channels are probed every time" });
  },

  async run(ctx: StepContext): Promise<StepOutcome> {
    const channels = channelsToProbe(ctx);
    const run = () =>
      verifyRelease(ctx.rt, ctx.loaded, ctx.project, ctx.tag, {
        signal: ctx.signal,
        ...(channels ? { channels } : {}),
      });
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
    if (report.status === "ok") {
      await immutable(ctx);
      const bypassed = ctx.bypass ? ` (${ctx.bypass.channels.join(", ")} ${bypassReason(ctx.agent)})` : "";
      return {
        status: "ok",
        detail: `${bypassed ? "every channel not bypassed ok" : "every channel ok"}: ${summary(report)}${bypassed}`,
      };
    }
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
