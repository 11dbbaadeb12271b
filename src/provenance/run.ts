/**
 * The provenance phase of `verify`: after the probes, each channel's gatherer fetches and verifies its evidence
 * (homebrew waits for GitHub's, which it inherits), then the pure assessment merges the block into report@1.
 * Channels whose policy is `off` make no request; no gatherer runs when every channel is off. Most of the fetching
 * has already happened by then: `verifyRelease` starts GitHub's lookups from the release document
 * (`ChannelProvenance.prefetch`) and runs each other gatherer early on its own probe's answer; the run here joins
 * those requests (`http`: one verification's shared transport) instead of sending them again.
 */
import {
  DEFAULT_REGISTRY,
  type ChannelId,
  type ChannelObservation,
  type ChannelRegistry,
} from "../channels/registry.ts";
import type { ReleasePlan } from "../plan/types.ts";
import type { Report } from "../report/types.ts";
import { assessProvenance, withProvenance } from "./assess.ts";
import { expectedCommit, expectedIdentity, provenanceExpectations, type ProvenanceProject } from "./expected.ts";
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

export interface ProvenanceRuntime {
  readonly http: ProvenanceHttp;
  readonly endpoints: ProvenanceEndpoints;
  /** The verifier for the trusted root (loaded once); undefined when no root can be had. */
  verifier(): Promise<BundleVerifier | undefined>;
  readonly cache: AttestationCache | undefined;
  readonly mirrorAbsence: "unknown" | "drift";
  /** The expected commit under `commit: build-metadata` (the build run's release metadata `source_sha`). */
  buildMetadataCommit?(project: ProvenanceProject, tag: string): Promise<string | undefined>;
}

export async function checkProvenance(
  rt: ProvenanceRuntime,
  project: ProvenanceProject,
  plan: ReleasePlan,
  observations: { readonly [C in ChannelId]?: ChannelObservation | null },
  report: Report,
  now: Date,
  registry: ChannelRegistry = DEFAULT_REGISTRY,
  /** This verification's shared transport (`sharedHttp`), joined by early runs; default the runtime's. */
  http: ProvenanceHttp = rt.http,
  /** This verification's view of the attestation cache (`verificationCache`); default the runtime's. */
  cache: AttestationCache | undefined = rt.cache,
): Promise<Report> {
  const expectations = provenanceExpectations(project, plan.tag);
  const inReport = new Set(report.channels.filter((c) => c.status !== "skipped").map((c) => c.channel));
  const active = registry.channels.flatMap((c): ChannelProvenance[] =>
    c.provenance && inReport.has(c.id as ChannelId) && expectations.policy[c.id] !== "off" ? [c.provenance] : [],
  );
  if (active.length === 0 && report.channels.every((c) => expectations.policy[c.channel] === "off")) return report;
  const tagCommit = registry.channels
    .map((c) => c.provenance?.tagCommit?.(observations[c.id as ChannelId] ?? null))
    .find((x) => x !== undefined);
  const fromMetadata = rt.buildMetadataCommit?.bind(rt);
  const commit = await expectedCommit(expectations, tagCommit, fromMetadata && (() => fromMetadata(project, plan.tag)));
  const ctx: GatherContext = {
    http,
    verifier: active.length > 0 ? await rt.verifier() : undefined,
    cache,
    endpoints: rt.endpoints,
    expected: expectedIdentity(expectations, commit, tagCommit),
    expectations,
    plan,
    observations,
    absenceFinal:
      report.published_at !== null && now.getTime() >= Date.parse(report.published_at) + expectations.graceMs,
  };
  const gathered = new Map<string, Gathered>();
  const own = active.filter((p) => p.inherits === undefined);
  const results = await Promise.all(own.map((p) => p.gather(ctx, new Map())));
  own.forEach((p, i) => gathered.set(p.channel, results[i] as Gathered));
  for (const p of active.filter((x) => x.inherits !== undefined)) {
    const from = gathered.get(p.inherits ?? "")?.items ?? [];
    gathered.set(p.channel, await p.gather(ctx, new Map<string, GatheredItem>(from.map((i) => [i.subject, i]))));
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
