/**
 * PEP 740 → Sigstore bundle, as pypi-attestations' `Attestation.to_bundle()` does: the DER certificate becomes the
 * bundle's single certificate, the transparency entries are Rekor `TransparencyLogEntry` JSON already, and the
 * envelope's `statement` / `signature` become a DSSE envelope of type in-toto.
 */
import type { Pep740Attestation } from "./schemas.ts";
import { IN_TOTO_PAYLOAD_TYPE } from "./statement.ts";

export const BUNDLE_V03_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

export function pep740ToBundle(att: Pep740Attestation): Record<string, unknown> {
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: {
      certificate: { rawBytes: att.verification_material.certificate },
      tlogEntries: att.verification_material.transparency_entries,
    },
    dsseEnvelope: {
      payload: att.envelope.statement,
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: att.envelope.signature }],
    },
  };
}
