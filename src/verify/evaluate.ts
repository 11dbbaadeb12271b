import type { CheckPeers, GraceStart, PeerView, ReleaseAnchor } from "../channels/channel.ts";
import {
  DEFAULT_REGISTRY,
  type ChannelId,
  type ChannelObservation,
  type ChannelProbeResult,
  type ChannelRegistry,
} from "../channels/registry.ts";
import { flat, type Draft } from "../drift/findings.ts";
import { worstStatus, type Finding, type Status } from "../drift/types.ts";
import type { ReleasePlan } from "../plan/types.ts";
import type { ProbeResult } from "../probes/types.ts";

export interface EvaluateInput {
  plan: ReleasePlan;
  results: { [C in ChannelId]?: ChannelProbeResult<C> };
  now: Date;
}

export interface ChannelVerdict {
  channel: ChannelId;
  status: Status;
  findings: Finding[];
  /** When the channel's grace window ends (ISO), if it is pending on propagation. */
  grace_until?: string;
}

export interface Evaluation {
  status: Status;
  /** The anchor's (GitHub release) published_at: the start of every grace window; null without a published release. */
  published_at: string | null;
  /** `plan.expect_latest` with "auto" decided (the anchor's latest release is this tag). */
  expect_latest: boolean;
  /** Every channel, in registry order. */
  channels: ChannelVerdict[];
}

type Loose = Readonly<Record<string, unknown>>;

/** What one channel of this run looks like to the checks of other channels. */
function peerView(plan: ReleasePlan, results: EvaluateInput["results"], id: string): PeerView<unknown> {
  if ((plan as unknown as Loose)[id] === null || (plan as unknown as Loose)[id] === undefined) {
    return { state: "not-configured" };
  }
  const r = (results as Readonly<Record<string, ProbeResult | undefined>>)[id];
  if (!r) return { state: "not-checked" };
  if (r.error || !r.observation) return { state: "failed", code: r.error?.code ?? "E_PROBE_FAILED" };
  return { state: "observed", observation: r.observation };
}

const NO_ANCHOR: ReleaseAnchor = { start: { kind: "none" }, published_at: null, latest: false };

/** Apply the grace rule to one draft and drop the internal marker. */
function settle(draft: Draft, start: GraceStart, graceUntil: number | null, now: number): Finding {
  const { lag, ...finding } = draft;
  if (!lag) return finding;
  if (start.kind === "unknown")
    return { ...finding, severity: "unknown", message: `${finding.message} (${start.why})` };
  if (graceUntil !== null && now < graceUntil) return { ...finding, severity: "pending", in_grace: true };
  return { ...finding, severity: "drift" };
}

/** Channel status from its findings: drift > unknown > pending > ok (info never counts). */
export function statusOf(findings: readonly Finding[]): Status {
  if (findings.some((f) => f.severity === "drift")) return "drift";
  if (findings.some((f) => f.severity === "unknown")) return "unknown";
  if (findings.some((f) => f.severity === "pending")) return "pending";
  return "ok";
}

interface Run {
  input: EvaluateInput;
  peers: CheckPeers;
  start: GraceStart;
  expectLatest: boolean;
}

function verdict(channel: ChannelRegistry["channels"][number], run: Run): ChannelVerdict {
  const { plan, results, now } = run.input;
  const id = channel.id as ChannelId;
  const expected = (plan as unknown as Loose)[id];
  const result = (results as Readonly<Record<string, ProbeResult | undefined>>)[id];
  if (expected === null || expected === undefined || !result) return { channel: id, status: "skipped", findings: [] };

  if (result.error || !result.observation) {
    const error = result.error ?? { code: "E_PROBE_FAILED", message: "probe returned no observation" };
    return {
      channel: id,
      status: "unknown",
      findings: [{ code: "probe-failed", severity: "unknown", message: flat(error.message), actual: error.code }],
    };
  }

  const graceMs = (plan.grace_ms as Readonly<Record<string, number | undefined>>)[id] ?? 0;
  const graceUntil = run.start.kind === "at" ? run.start.ms + graceMs : null;
  const drafts = channel.check({
    plan,
    expected,
    observation: result.observation,
    expectLatest: run.expectLatest,
    peers: run.peers,
    inGrace: graceUntil !== null && now.getTime() < graceUntil,
  });
  const findings = drafts.map((d) => settle(d, run.start, graceUntil, now.getTime()));
  const out: ChannelVerdict = { channel: id, status: statusOf(findings), findings };
  if (graceUntil !== null && findings.some((f) => f.in_grace)) out.grace_until = new Date(graceUntil).toISOString();
  return out;
}

/**
 * Compare what each channel says with the plan, channel by channel in registry order. Pure and deterministic: the
 * clock comes in as `now`. Drift is data, never an exception; a probe that could not tell makes its channel
 * `unknown`. Grace windows start at the anchor channel's publication (GitHub's release).
 */
export function evaluate(input: EvaluateInput, registry: ChannelRegistry = DEFAULT_REGISTRY): Evaluation {
  const { plan } = input;
  const peers: CheckPeers = {
    view: <O>(channel: { id: string }) => peerView(plan, input.results, channel.id) as PeerView<O>,
  };
  const anchorChannel = registry.anchor;
  const anchor =
    anchorChannel?.anchor?.(peerView(plan, input.results, anchorChannel.id) as PeerView<ChannelObservation>, plan) ??
    NO_ANCHOR;
  const expectLatest = plan.expect_latest === "auto" ? anchor.latest : plan.expect_latest;
  const run: Run = { input, peers, start: anchor.start, expectLatest };
  const channels = registry.channels.map((c) => verdict(c, run));
  return {
    status: worstStatus(channels.map((v) => v.status)),
    published_at: anchor.published_at,
    expect_latest: expectLatest,
    channels,
  };
}
