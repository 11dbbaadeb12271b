/**
 * The signer-identity table: for every attestation kind, how it must be signed and by whom. The signature check
 * (verify.ts) enforces `key` and `tlog`; `checkSigner` enforces the identity against the expected project.
 */
import type { SignerIdentity } from "./verify.ts";

export type AttestationKind = "github-build" | "github-release" | "npm-provenance" | "npm-publish" | "pypi-publish";

export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";
export const GITHUB_RELEASES_SAN = "https://dotcom.releases.github.com";

export interface SignerRequirements {
  /** A Fulcio certificate, or a bare registry key named in the trust root. */
  readonly key: "certificate" | "public-key";
  /** A transparency-log entry is required (GitHub's own instance signs release attestations with a TSA only). */
  readonly tlog: boolean;
  /** The certificate's OIDC issuer must equal this. */
  readonly issuer?: string;
  /** The certificate's SAN must equal this (release attestations). */
  readonly san?: string;
  /** The SAN names the signing workflow (`https://github.com/<repo>/<path>@<ref>`). */
  readonly sanIsWorkflow: boolean;
}

const TABLE: Readonly<Record<AttestationKind, SignerRequirements>> = {
  "github-build": { key: "certificate", tlog: true, issuer: GITHUB_ACTIONS_ISSUER, sanIsWorkflow: true },
  "github-release": { key: "certificate", tlog: false, san: GITHUB_RELEASES_SAN, sanIsWorkflow: false },
  "npm-provenance": { key: "certificate", tlog: true, issuer: GITHUB_ACTIONS_ISSUER, sanIsWorkflow: true },
  "npm-publish": { key: "public-key", tlog: true, sanIsWorkflow: false },
  "pypi-publish": { key: "certificate", tlog: true, issuer: GITHUB_ACTIONS_ISSUER, sanIsWorkflow: true },
};

export function requirementsFor(kind: AttestationKind): SignerRequirements {
  return TABLE[kind];
}

/** The workflow a Fulcio SAN names: `https://github.com/<o>/<r>/<path>@<ref>`. */
export interface SanWorkflow {
  readonly repository: string;
  readonly path: string;
  readonly ref: string;
}

const SAN_RE = /^https:\/\/github\.com\/([^/]+\/[^/]+)\/(.+)@(.+)$/;

export function parseWorkflowSan(san: string | undefined): SanWorkflow | undefined {
  const m = san === undefined ? null : SAN_RE.exec(san);
  if (!m || !m[1] || !m[2] || !m[3]) return undefined;
  return { repository: m[1], path: m[2], ref: m[3] };
}

/** Why a verified signer is still not the one the table trusts for this kind; undefined when it is. */
export function signerProblem(kind: AttestationKind, signer: SignerIdentity): string | undefined {
  const req = TABLE[kind];
  if (req.issuer !== undefined && signer.issuer !== req.issuer) {
    return `issuer ${signer.issuer ?? "(none)"} is not ${req.issuer}`;
  }
  if (req.san !== undefined && signer.san !== req.san) {
    return `signer ${signer.san ?? "(none)"} is not ${req.san}`;
  }
  if (req.sanIsWorkflow && parseWorkflowSan(signer.san) === undefined) {
    return `signer ${signer.san ?? "(none)"} does not name a GitHub workflow`;
  }
  return undefined;
}
