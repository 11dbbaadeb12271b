/**
 * Provenance: the API the channel wiring calls. Fetch (fetch.ts, injected HTTP) → decode + verify (this file) →
 * compare (compare.ts, pure). The Sigstore libraries load only when a verifier is created.
 */
import type { Evidence } from "./compare.ts";
import type { AttestationKind } from "./identity.ts";
import { decodeBundleStatement, PREDICATE, type DecodedStatement } from "./statement.ts";
import { cpuTurn } from "./turn.ts";
import type { BundleVerifier } from "./verify.ts";

export * from "./compare.ts";
export * from "./fetch.ts";
export { parseWorkflowSan, requirementsFor, signerProblem, type AttestationKind } from "./identity.ts";
export { pep740ToBundle } from "./pypi.ts";
export { decodeBundleStatement, PREDICATE, repoSlug, type DecodedStatement } from "./statement.ts";
export { loadGithubRoot, loadPublicGoodRoot, npmAttestationKeys, readTrustRoot, readTrustRoots } from "./trust.ts";
export { createBundleVerifier, type BundleVerifier, type SignerIdentity, type TrustRoot } from "./verify.ts";

/**
 * Decode and verify one bundle into comparison evidence. With no verifier (no trusted root available) the claims
 * are still decoded but the signature is `unknown`, never `verified`.
 */
export function toEvidence(bundle: unknown, kind: AttestationKind, verifier: BundleVerifier | undefined): Evidence {
  const decoded = decodeBundleStatement(bundle);
  const statement: DecodedStatement | undefined = decoded.ok ? decoded.statement : undefined;
  if (!verifier) {
    return { kind: "attestation", attestation: kind, signature: "unknown", reason: "no trusted root", statement };
  }
  const outcome = verifier.verify(bundle, kind);
  if (outcome.status === "unknown") {
    // e.g. GitHub's instance root is not available: could not tell, never ok and never a finding.
    return { kind: "attestation", attestation: kind, signature: "unknown", reason: outcome.reason, statement };
  }
  if (outcome.status !== "verified") {
    return { kind: "attestation", attestation: kind, signature: "invalid", reason: outcome.reason, statement };
  }
  if (!decoded.ok) {
    return { kind: "attestation", attestation: kind, signature: "invalid", reason: decoded.reason, statement };
  }
  return { kind: "attestation", attestation: kind, signature: "verified", signer: outcome.signer, statement };
}

/**
 * `toEvidence` on its own event-loop turn (./turn.ts): the signature check waits for the I/O that is ready, so a
 * batch of bundles never holds an answer on the critical path behind it.
 */
export async function toEvidenceInTurn(
  bundle: unknown,
  kind: AttestationKind,
  verifier: BundleVerifier | undefined,
): Promise<Evidence> {
  if (verifier) await cpuTurn();
  return toEvidence(bundle, kind, verifier);
}

/** Which kind a GitHub attestation is, from its (unverified) predicate type. */
export function githubAttestationKind(bundle: unknown): AttestationKind | undefined {
  const d = decodeBundleStatement(bundle);
  if (!d.ok) return undefined;
  if (d.statement.predicateType === PREDICATE.releaseV01 || d.statement.predicateType === PREDICATE.releaseV02) {
    return "github-release";
  }
  return d.statement.predicateType === PREDICATE.slsaV1 ? "github-build" : undefined;
}
