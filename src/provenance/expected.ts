/**
 * A project's expected build identity (pure): `provenance:` with its defaults filled in from the project and its
 * `release:` block. The commit itself comes from the GitHub probe (the tag's peeled commit) or the build metadata.
 */
import { ProvenanceConfig, type ProjectConfig } from "../config/schema.ts";
import { parseDuration } from "../config/duration.ts";
import type { ExpectedIdentity } from "./compare.ts";

export type ProvenanceLevel = "required" | "warn" | "off";

export interface ProvenanceExpectations {
  readonly repository: string;
  readonly workflows: readonly string[];
  readonly refs: readonly string[];
  readonly commitSource: "tag" | "build-metadata";
  /** Per channel id. */
  readonly policy: Readonly<Record<string, ProvenanceLevel>>;
  readonly trustedPublisher: { readonly npm: ProvenanceLevel; readonly crates: ProvenanceLevel };
  readonly graceMs: number;
  /** Follow crates.io's `trustpub_data.run_id` to the Actions run (workflow path, head_sha). */
  readonly cratesRun: "follow" | "off";
}

const DEFAULTS: ProvenanceConfig = ProvenanceConfig.parse({});

/** The expectations for one project and tag; `{tag}` in refs is replaced by the tag. */
export function provenanceExpectations(project: ProjectConfig, tag: string): ProvenanceExpectations {
  const p = project.provenance ?? DEFAULTS;
  const wf = project.release?.workflows;
  const workflows = p.workflows ?? (wf ? [wf.build, wf.publish] : ["release.yml", "release-publish.yml"]);
  const refs = (p.refs ?? ["refs/tags/{tag}", `refs/heads/${wf?.ref ?? "main"}`]).map((r) =>
    r.replaceAll("{tag}", tag),
  );
  return {
    repository: p.repository ?? project.repo,
    workflows,
    refs,
    commitSource: p.commit,
    policy: p.policy,
    trustedPublisher: p.trusted_publisher,
    graceMs: parseDuration(p.grace) ?? 0,
    cratesRun: p.crates_run,
  };
}

/**
 * The identity the evidence is compared with. `commit` is the expected build commit: the tag's peeled commit under
 * `commit: tag`, the release metadata's `source_sha` under `commit: build-metadata` (undefined when it could not be
 * had: commit checks are then skipped and the verdict is at best unknown). `tagCommit` is what an immutable
 * release's attestation must name either way.
 */
export function expectedIdentity(
  e: ProvenanceExpectations,
  commit: string | undefined,
  tagCommit: string | undefined = commit,
): ExpectedIdentity {
  return { repository: e.repository, commit, tagCommit, workflows: e.workflows, refs: e.refs };
}

/** The expected build commit for the configured source: the tag's, or the build metadata's (resolved lazily). */
export async function expectedCommit(
  e: ProvenanceExpectations,
  tagCommit: string | undefined,
  buildMetadataCommit: (() => Promise<string | undefined>) | undefined,
): Promise<string | undefined> {
  if (e.commitSource === "tag") return tagCommit;
  return buildMetadataCommit ? buildMetadataCommit() : undefined;
}
