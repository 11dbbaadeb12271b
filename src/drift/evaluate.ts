import { CHANNELS, type ChannelId } from "../channels.ts";
import type { ReleasePlan } from "../plan/types.ts";
import type { ChannelProbeResult } from "../probes/types.ts";
import { checkCrates } from "./crates.ts";
import { flat, type Check, type Draft, type GithubView } from "./findings.ts";
import { checkGithub } from "./github.ts";
import { checkHomebrew } from "./homebrew.ts";
import { checkNpm } from "./npm.ts";
import { checkPypi } from "./pypi.ts";
import { worstStatus, type ChannelVerdict, type Finding, type Status } from "./types.ts";

export { summarizeObservation } from "./summarize.ts";

export interface EvaluateInput {
  plan: ReleasePlan;
  results: { [C in ChannelId]?: ChannelProbeResult<C> };
  now: Date;
}

export interface Evaluation {
  status: Status;
  /** GitHub release published_at: the start of every grace window; null without a published release. */
  published_at: string | null;
  /** `plan.expect_latest` with "auto" decided (GitHub's latest release is this tag). */
  expect_latest: boolean;
  /** Every channel, in CHANNELS order. */
  channels: ChannelVerdict[];
}

/** One check per channel: a new channel means one module plus one line here. */
export const CHECKS: { readonly [C in ChannelId]: Check<C> } = {
  github: checkGithub,
  crates: checkCrates,
  npm: checkNpm,
  pypi: checkPypi,
  homebrew: checkHomebrew,
};

/** Where grace windows start, or why there is no start. */
type GraceStart =
  | { kind: "at"; ms: number }
  /** No published release (or GitHub not part of this run): nothing to wait for, lag is drift. */
  | { kind: "none" }
  /** GitHub could not be read: we cannot tell lag from drift. */
  | { kind: "unknown" };

function githubView(plan: ReleasePlan, results: EvaluateInput["results"]): GithubView {
  if (plan.github === null) return { state: "not-configured" };
  const r = results.github;
  if (!r) return { state: "not-checked" };
  if (r.error || !r.observation) return { state: "failed", code: r.error?.code ?? "E_PROBE_FAILED" };
  return { state: "observed", observation: r.observation };
}

/** Windows count from the release's `published_at`; a draft has none, so its window counts from `created_at`. */
function graceStart(github: GithubView): GraceStart {
  if (github.state === "failed") return { kind: "unknown" };
  if (github.state !== "observed") return { kind: "none" };
  const release = github.observation.release;
  const at = (release?.draft ? release.created_at : release?.published_at) ?? null;
  const ms = at === null ? Number.NaN : Date.parse(at);
  return Number.isFinite(ms) ? { kind: "at", ms } : { kind: "none" };
}

/** Apply the grace rule to one draft and drop the internal marker. */
function settle(draft: Draft, start: GraceStart, graceUntil: number | null, now: number): Finding {
  const { lag, ...finding } = draft;
  if (!lag) return finding;
  if (start.kind === "unknown") {
    return {
      ...finding,
      severity: "unknown",
      message: `${finding.message} (GitHub release time unknown: cannot tell propagation lag from drift)`,
    };
  }
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

function verdict<C extends ChannelId>(
  channel: C,
  input: EvaluateInput,
  github: GithubView,
  start: GraceStart,
  expectLatest: boolean,
): ChannelVerdict {
  const { plan, results, now } = input;
  const expected = plan[channel];
  const result = results[channel];
  if (expected === null || !result) return { channel, status: "skipped", findings: [] };

  if (result.error || !result.observation) {
    const error = result.error ?? { code: "E_PROBE_FAILED", message: "probe returned no observation" };
    return {
      channel,
      status: "unknown",
      findings: [{ code: "probe-failed", severity: "unknown", message: flat(error.message), actual: error.code }],
    };
  }

  const graceUntil = start.kind === "at" ? start.ms + plan.grace_ms[channel] : null;
  const check = CHECKS[channel] as Check<C>;
  const drafts = check({
    plan,
    expected,
    observation: result.observation,
    expectLatest,
    github,
    inGrace: graceUntil !== null && now.getTime() < graceUntil,
  });
  const findings = drafts.map((d) => settle(d, start, graceUntil, now.getTime()));
  const out: ChannelVerdict = { channel, status: statusOf(findings), findings };
  if (graceUntil !== null && findings.some((f) => f.in_grace)) out.grace_until = new Date(graceUntil).toISOString();
  return out;
}

/**
 * Compare what each channel says with the plan. Pure and deterministic: the clock comes in as `now`.
 * Drift is data, never an exception; a probe that could not tell makes its channel `unknown`.
 */
export function evaluate(input: EvaluateInput): Evaluation {
  const { plan } = input;
  const github = githubView(plan, input.results);
  const start = graceStart(github);
  const expectLatest =
    plan.expect_latest === "auto"
      ? github.state === "observed" && github.observation.latest_release_tag === plan.tag
      : plan.expect_latest;
  const channels = CHANNELS.map((c) => verdict(c, input, github, start, expectLatest));
  return {
    status: worstStatus(channels.map((v) => v.status)),
    published_at: github.state === "observed" ? (github.observation.release?.published_at ?? null) : null,
    expect_latest: expectLatest,
    channels,
  };
}
