/**
 * A project's expected build identity (pure): `provenance:` with its defaults filled in from the project and its
 * `release:` block. The commit itself comes from the GitHub probe (the tag's peeled commit) or the build metadata.
 */
import { BUILTIN_CHANNEL_IDS } from "../channels/ids.ts";
import { parseDuration } from "../config/duration.ts";
import type { ExpectedIdentity } from "./compare.ts";

export type ProvenanceLevel = "required" | "warn" | "off";

/** A project's `provenance:` block as parsed (src/config/schema.ts builds its schema; a test keeps them equal). */
export interface ProjectProvenance {
  readonly repository?: string | undefined;
  readonly workflows?: readonly string[] | undefined;
  readonly commit: "tag" | "build-metadata";
  readonly refs?: readonly string[] | undefined;
  /** Per channel id. */
  readonly policy: Readonly<Record<string, ProvenanceLevel>>;
  readonly trusted_publisher: { readonly npm: ProvenanceLevel; readonly crates: ProvenanceLevel };
  readonly grace: string;
  /** Follow crates.io's `trustpub_data.run_id` to the Actions run. */
  readonly crates_run: "follow" | "off";
}

/** What provenance reads of a project's config (a parsed ProjectConfig is one). */
export interface ProvenanceProject {
  readonly name: string;
  readonly repo: string;
  readonly provenance?: ProjectProvenance | undefined;
  readonly release?:
    | {
        readonly workflows: { readonly build: string; readonly publish: string; readonly ref: string };
        readonly build_artifact: string;
      }
    | undefined;
}

/** The block's defaults (`provenance: {}`): every built-in channel under `warn`. */
export const PROVENANCE_DEFAULTS: ProjectProvenance = {
  commit: "tag",
  policy: Object.fromEntries(BUILTIN_CHANNEL_IDS.map((id) => [id, "warn"])),
  trusted_publisher: { npm: "warn", crates: "warn" },
  grace: "10m",
  crates_run: "follow",
};

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

/** The expectations for one project and tag; `{tag}` in refs is replaced by the tag. */
export function provenanceExpectations(project: ProvenanceProject, tag: string): ProvenanceExpectations {
  const p = project.provenance ?? PROVENANCE_DEFAULTS;
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
