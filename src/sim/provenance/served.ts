/**
 * What the sim's registries serve as provenance: the per-version build identities (from `PublishOptions.provenance`),
 * and the signed bundles for them, made lazily by the sim signer and kept (an attestation never changes once made).
 */
import { hashId } from "../content.ts";
import type { SimBuildOverride, SimProvenanceOptions } from "../spec.ts";
import type { SimBuild, SimSubject } from "./attest.ts";
import { createSimSigner, type SimSigner } from "./signer.ts";

export interface SimGithubProvenance extends SimBuild {
  readonly tamper: boolean;
  readonly bundleUrl: boolean;
  /** Earlier attestations (another workflow's) listed before this one for each built digest. */
  readonly earlier: number;
}
export interface SimNpmProvenance extends SimBuild {
  readonly trustedPublisher: boolean;
  readonly wrongDigest: boolean;
  readonly stripped: boolean;
}
export interface SimCratesProvenance {
  readonly repository: string;
  readonly sha: string;
  readonly runId: number;
  /** The Actions run behind run_id: its workflow path and head_sha. */
  readonly runWorkflow: string;
  readonly runSha: string;
}

/** One version's provenance per channel; null: none on that channel. */
export interface ResolvedSimProvenance {
  readonly github: SimGithubProvenance | null;
  readonly npm: SimNpmProvenance | null;
  readonly pypi: SimBuild | null;
  readonly crates: SimCratesProvenance | null;
}

export const BUILD_WORKFLOW = ".github/workflows/release.yml";
export const PUBLISH_WORKFLOW = ".github/workflows/release-publish.yml";

/** Fill in the defaults: the project's repository, the tag's commit, the build / publish workflow. */
export function resolveSimProvenance(
  options: SimProvenanceOptions | undefined,
  ctx: {
    readonly repo: string;
    readonly tag: string;
    readonly tagCommit: string;
    /** The commit the build and publishes ran from (`provenance.source: main`); default the tag's. */
    readonly sourceCommit?: string;
    readonly runId: number;
  },
): ResolvedSimProvenance {
  const o = options ?? {};
  const source = ctx.sourceCommit ?? ctx.tagCommit;
  const build = (over: SimBuildOverride, workflow: string, ref: string): SimBuild => ({
    repository: over.repository ?? ctx.repo,
    workflowPath: over.workflow ?? workflow,
    ref: over.ref ?? ref,
    commit: over.commit === "other" ? hashId("other-commit", ctx.repo, ctx.tag) : source,
    runId: ctx.runId,
  });
  // A build from main (dispatched with the tag as input) runs on refs/heads/main, not the tag.
  const tagRef = o.source === "main" ? "refs/heads/main" : `refs/tags/${ctx.tag}`;
  const gh = o.github === null ? null : (o.github ?? {});
  const npm = o.npm === null ? null : (o.npm ?? {});
  const pypi = o.pypi === null ? null : (o.pypi ?? {});
  const crates = o.crates === null ? null : (o.crates ?? {});
  return {
    github: gh && {
      ...build(gh, BUILD_WORKFLOW, tagRef),
      tamper: gh.tamper ?? false,
      bundleUrl: gh.bundleUrl ?? false,
      earlier: gh.earlier ?? 0,
    },
    npm: npm && {
      ...build(npm, PUBLISH_WORKFLOW, "refs/heads/main"),
      trustedPublisher: npm.trustedPublisher ?? true,
      wrongDigest: npm.wrongDigest ?? false,
      stripped: npm.stripped ?? false,
    },
    pypi: pypi && build(pypi, PUBLISH_WORKFLOW, "refs/heads/main"),
    crates: crates && {
      repository: crates.repository ?? ctx.repo,
      sha: crates.commit === "other" ? hashId("other-commit", ctx.repo, ctx.tag) : source,
      runId: ctx.runId + 1,
      runWorkflow: crates.run?.workflow ?? PUBLISH_WORKFLOW,
      runSha:
        crates.run?.commit === "other"
          ? hashId("other-run-commit", ctx.repo, ctx.tag)
          : crates.commit === "other"
            ? hashId("other-commit", ctx.repo, ctx.tag)
            : source,
    },
  };
}

/** Flip one byte of a bundle's DSSE signature: the bundle still parses, its signature no longer verifies. */
export function tamperSignature(bundle: Record<string, unknown>): Record<string, unknown> {
  const env = bundle["dsseEnvelope"] as { signatures: { sig: string; keyid: string }[] };
  const sig = Buffer.from(env.signatures[0]?.sig ?? "", "base64");
  sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 0x01;
  return { ...bundle, dsseEnvelope: { ...env, signatures: [{ sig: sig.toString("base64"), keyid: "" }] } };
}

/** The sim's attestation store: bundles signed once per key, plus the blobs behind `bundle_url`. */
export class SimAttestations {
  /** false: the sim serves no trusted root (the "no trusted root available" world). */
  serveTrustedRoot = true;
  #signer: SimSigner | undefined;
  readonly #made = new Map<string, Promise<Record<string, unknown>>>();
  readonly #blobs = new Map<string, string>();

  get signer(): SimSigner {
    this.#signer ??= createSimSigner();
    return this.#signer;
  }

  /** The bundle for `key`, made by `make` the first time. */
  once(key: string, make: (signer: SimSigner) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    let p = this.#made.get(key);
    if (!p) {
      p = make(this.signer);
      this.#made.set(key, p);
      p.catch(() => this.#made.delete(key));
    }
    return p;
  }

  /** Register a bundle key under an opaque blob id (what `bundle_url` names); returns the id. */
  blobFor(key: string): string {
    const id = hashId("blob", key);
    this.#blobs.set(id, key);
    return id;
  }

  /** The bundle behind a blob id, if one was handed out. */
  blob(id: string): Promise<Record<string, unknown>> | undefined {
    const key = this.#blobs.get(id);
    return key === undefined ? undefined : this.#made.get(key);
  }
}

export type { SimSubject };
