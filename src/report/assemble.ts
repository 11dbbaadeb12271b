import type { ChannelId } from "../channels.ts";
import { evaluate, summarizeObservation } from "../drift/evaluate.ts";
import type { ReleasePlan } from "../plan/types.ts";
import type { ChannelProbeResult } from "../probes/types.ts";
import { REPORT_SCHEMA, type ChannelReport, type Report } from "./types.ts";

/** Pure: a plan, the probes' results and the check time to report@1 (drift evaluation included). */
export function assembleReport(
  plan: ReleasePlan,
  results: { [C in ChannelId]?: ChannelProbeResult<C> },
  checkedAt: Date,
  durationMs: number,
): Report {
  const evaluation = evaluate({ plan, results, now: checkedAt });
  const channels: ChannelReport[] = evaluation.channels.map((v) => {
    const r = results[v.channel] as ChannelProbeResult | undefined;
    return {
      channel: v.channel,
      status: v.status,
      observed: r?.observation ? summarizeObservation(r.observation) : null,
      findings: v.findings,
      evidence: r?.evidence ?? [],
      ...(v.grace_until ? { grace_until: v.grace_until } : {}),
      duration_ms: r?.duration_ms ?? 0,
    };
  });
  return {
    schema: REPORT_SCHEMA,
    project: plan.project,
    repo: plan.repo,
    tag: plan.tag,
    version: plan.version,
    checked_at: checkedAt.toISOString(),
    status: evaluation.status,
    published_at: evaluation.published_at,
    channels,
    duration_ms: durationMs,
  };
}
