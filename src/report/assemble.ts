import {
  DEFAULT_REGISTRY,
  type ChannelId,
  type ChannelProbeResult,
  type ChannelRegistry,
} from "../channels/registry.ts";
import type { ReleasePlan } from "../plan/types.ts";
import type { ProbeResult } from "../probes/types.ts";
import { evaluate } from "../verify/evaluate.ts";
import { REPORT_SCHEMA, type ChannelReport, type Report } from "./types.ts";

/** report@1 `observed` of one channel's observation: the channel's own compact account (no judging). */
export function summarizeObservation(
  observation: { channel: string },
  registry: ChannelRegistry = DEFAULT_REGISTRY,
): Record<string, unknown> {
  const channel = registry.get(observation.channel);
  if (!channel) throw new Error(`no channel ${observation.channel} in the registry`);
  return { ...channel.observed(observation) };
}

/** Pure: a plan, the probes' results and the check time to report@1 (drift evaluation included). */
export function assembleReport(
  plan: ReleasePlan,
  results: { [C in ChannelId]?: ChannelProbeResult<C> },
  checkedAt: Date,
  durationMs: number,
  registry: ChannelRegistry = DEFAULT_REGISTRY,
): Report {
  const evaluation = evaluate({ plan, results, now: checkedAt }, registry);
  const channels: ChannelReport[] = evaluation.channels.map((v) => {
    const r = (results as Readonly<Record<string, ProbeResult<string, { channel: string }> | undefined>>)[v.channel];
    return {
      channel: v.channel,
      status: v.status,
      observed: r?.observation ? summarizeObservation(r.observation, registry) : null,
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
