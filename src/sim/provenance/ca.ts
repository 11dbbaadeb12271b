/**
 * The sim's own Sigstore instance: a Fulcio-like CA, a Rekor-like transparency log key and an npm-like registry key.
 * Their keys are committed in `material.ts` (made by `scripts/gen-sim-provenance.ts`). They are NOT secrets: they
 * only sign the sim's attestations, which verify against the sim's own `trusted_root.json` and nothing else.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { NpmRegistryKey, TrustRoot } from "../../provenance/verify.ts";
import { SIM_MATERIAL } from "./material.ts";

export const SimMaterial = z.object({
  /** Every sim certificate and log entry is dated from here, so bundles verify whatever the wall clock says. */
  epoch: z.string(),
  ca: z.object({ certificate: z.string(), privateKey: z.string() }),
  tlog: z.object({ publicKey: z.string(), privateKey: z.string(), baseUrl: z.string() }),
  npm: z.object({ publicKey: z.string(), privateKey: z.string() }),
});
export type SimMaterial = z.infer<typeof SimMaterial>;

/** The committed material (a module, so the build compiles it into dist/). */
export function loadSimMaterial(): SimMaterial {
  return SimMaterial.parse(SIM_MATERIAL);
}

/** `SHA256:<base64 sha256 of the SPKI, unpadded>`: npm's key id form. */
export function npmKeyId(spkiB64: string): string {
  const der = Buffer.from(spkiB64, "base64");
  return `SHA256:${createHash("sha256").update(der).digest("base64").replace(/=+$/, "")}`;
}

/** Rekor's log id: sha256 of the log's SPKI. */
export function tlogId(spkiB64: string): Buffer {
  return createHash("sha256").update(Buffer.from(spkiB64, "base64")).digest();
}

/** The sim's `trusted_root.json`: one CA, one transparency log, no CT logs, no TSA. */
export function simTrustedRoot(m: SimMaterial = loadSimMaterial()): Record<string, unknown> {
  const start = new Date(Date.parse(m.epoch) - 86_400_000).toISOString();
  return {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [
      {
        baseUrl: m.tlog.baseUrl,
        hashAlgorithm: "SHA2_256",
        publicKey: { rawBytes: m.tlog.publicKey, keyDetails: "PKIX_ECDSA_P256_SHA_256", validFor: { start } },
        logId: { keyId: tlogId(m.tlog.publicKey).toString("base64") },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: "release-monitor sim", commonName: "sim-fulcio" },
        uri: "https://fulcio.sim.invalid",
        certChain: { certificates: [{ rawBytes: m.ca.certificate }] },
        validFor: { start },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  };
}

export function simNpmKey(m: SimMaterial = loadSimMaterial()): NpmRegistryKey {
  return {
    keyId: npmKeyId(m.npm.publicKey),
    rawBytes: m.npm.publicKey,
    keyDetails: "PKIX_ECDSA_P256_SHA_256",
    validFor: { start: new Date(Date.parse(m.epoch) - 86_400_000).toISOString() },
  };
}

/** The sim's trust root as the verifier takes it. */
export function simTrustRoot(m: SimMaterial = loadSimMaterial()): TrustRoot {
  return { name: "sim", trustedRoot: simTrustedRoot(m), keys: [simNpmKey(m)] };
}
