/**
 * The provenance phase of `verify`: after the probes, each channel's gatherer fetches and verifies its evidence
 * (homebrew waits for GitHub's, which it inherits), then the pure assessment merges the block into report@1.
 * Channels whose policy is `off` make no request; no gatherer runs when every channel is off.
 */
import type { ChannelId } from "../channels.ts";
import type { ProjectConfig } from "../config/schema.ts";
import type { ReleasePlan } from "../plan/types.ts";
import type { ChannelObservation, GithubObservation } from "../probes/types.ts";
import type { Report } from "../report/types.ts";
import { assessProvenance, withProvenance } from "./assess.ts";
import { cratesProvenance } from "./channels/crates.ts";
import { githubProvenance } from "./channels/github.ts";
import { homebrewProvenance } from "./channels/homebrew.ts";
import { npmProvenance } from "./channels/npm.ts";
import { pypiProvenance } from "./channels/pypi.ts";
import { expectedIdentity, provenanceExpectations } from "./expected.ts";
import type { ProvenanceHttp } from "./fetch.ts";
import type {
  AttestationCache,
  ChannelProvenance,
  Gathered,
  GatheredItem,
  GatherContext,
  ProvenanceEndpoints,
} from "./gather.ts";
import type { BundleVerifier } from "./verify.ts";

/** One gatherer per channel; homebrew last (it inherits GitHub's per-asset results). */
export const CHANNEL_PROVENANCE: readonly ChannelProvenance[] = [
  githubProvenance,
  cratesProvenance,
  npmProvenance,
  pypiProvenance,
  homebrewProvenance,
];

export interface ProvenanceRuntime {
  readonly http: ProvenanceHttp;
  readonly endpoints: ProvenanceEndpoints;
  /** The verifier for the trusted root (loaded once); undefined when no root can be had. */
  verifier(): Promise<BundleVerifier | undefined>;
  readonly cache: AttestationCache | undefined;
  readonly mirrorAbsence: "unknown" | "drift";
  /** The expected commit under `commit: build-metadata` (the build run's release metadata `source_sha`). */
  buildMetadataCommit?(project: ProjectConfig, tag: string): Promise<string | undefined>;
}

export async function checkProvenance(
  rt: ProvenanceRuntime,
  project: ProjectConfig,
  plan: ReleasePlan,
  observations: { readonly [C in ChannelId]?: ChannelObservation | null },
  report: Report,
  now: Date,
): Promise<Report> {
  const expectations = provenanceExpectations(project, plan.tag);
  const inReport = new Set(report.channels.filter((c) => c.status !== "skipped").map((c) => c.channel));
  const active = CHANNEL_PROVENANCE.filter((p) => inReport.has(p.channel) && expectations.policy[p.channel] !== "off");
  if (active.length === 0 && report.channels.every((c) => expectations.policy[c.channel] === "off")) return report;
  const gh = observations.github as GithubObservation | null | undefined;
  const commit =
    expectations.commitSource === "build-metadata"
      ? await rt.buildMetadataCommit?.(project, plan.tag)
      : (gh?.tag.commit_sha ?? undefined);
  const ctx: GatherContext = {
    http: rt.http,
    verifier: active.length > 0 ? await rt.verifier() : undefined,
    cache: rt.cache,
    endpoints: rt.endpoints,
    expected: expectedIdentity(expectations, commit),
    expectations,
    plan,
    observations,
  };
  const gathered = new Map<ChannelId, Gathered>();
  const others = active.filter((p) => p.channel !== "homebrew");
  const results = await Promise.all(others.map((p) => p.gather(ctx, new Map())));
  others.forEach((p, i) => gathered.set(p.channel, results[i] as Gathered));
  const brew = active.find((p) => p.channel === "homebrew");
  if (brew) {
    const assets = new Map<string, GatheredItem>((gathered.get("github")?.items ?? []).map((i) => [i.subject, i]));
    gathered.set(brew.channel, await brew.gather(ctx, assets));
  }
  const assessed = assessProvenance({
    expectations,
    commit: commit ?? null,
    channels: report.channels.map((c) => ({
      channel: c.channel,
      gathered:
        c.status === "skipped"
          ? "skipped"
          : expectations.policy[c.channel] === "off"
            ? "off"
            : (gathered.get(c.channel) ?? "skipped"),
    })),
    now,
    publishedAt: report.published_at,
    mirrorAbsence: rt.mirrorAbsence,
    channelStatus: Object.fromEntries(report.channels.map((c) => [c.channel, c.status])),
  });
  return withProvenance(report, assessed);
}
