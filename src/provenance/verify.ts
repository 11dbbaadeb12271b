/**
 * Sigstore signature verification. The Sigstore libraries are loaded lazily (dynamic import) so that commands which
 * never look at provenance never load them. No crypto is written here: bundles are parsed by `@sigstore/bundle`,
 * checked by `@sigstore/verify` against a `trusted_root.json`, and the signer identity is read from the certificate
 * the library returns.
 */
import type * as SigstoreBundleLib from "@sigstore/bundle";
import type * as SigstoreCore from "@sigstore/core";
import type * as SigstoreSpecs from "@sigstore/protobuf-specs";
import type * as SigstoreVerify from "@sigstore/verify";
import type { AttestationKind } from "./identity.ts";
import { requirementsFor } from "./identity.ts";

/** Fulcio certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). */
export const FULCIO_OIDS = {
  issuerV1: "1.3.6.1.4.1.57264.1.1",
  issuer: "1.3.6.1.4.1.57264.1.8",
  buildSignerUri: "1.3.6.1.4.1.57264.1.9",
  buildSignerDigest: "1.3.6.1.4.1.57264.1.10",
  sourceRepositoryUri: "1.3.6.1.4.1.57264.1.12",
  sourceRepositoryDigest: "1.3.6.1.4.1.57264.1.13",
  sourceRepositoryRef: "1.3.6.1.4.1.57264.1.14",
  buildConfigUri: "1.3.6.1.4.1.57264.1.18",
  runInvocationUri: "1.3.6.1.4.1.57264.1.21",
} as const;

export type FulcioExtensionName = Exclude<keyof typeof FULCIO_OIDS, "issuerV1">;

/** Who signed: a certificate identity (Fulcio) or a bare key (npm's registry key). */
export interface SignerIdentity {
  readonly kind: "certificate" | "public-key";
  /** The certificate's subject alternative name (a URI for workflow identities). */
  readonly san: string | undefined;
  readonly issuer: string | undefined;
  /** Fulcio extensions present on the certificate, decoded to text. */
  readonly extensions: Partial<Record<FulcioExtensionName, string>>;
  /** The key hint of a key-signed bundle. */
  readonly keyHint: string | undefined;
}

export type VerifyOutcome =
  | { readonly status: "verified"; readonly signer: SignerIdentity }
  | { readonly status: "invalid"; readonly reason: string }
  | { readonly status: "unknown"; readonly reason: string };

/** A parsed trusted root plus the extra public keys (npm's registry keys) it is used with. */
export interface TrustRoot {
  readonly name: string;
  /** The `trusted_root.json` document (application/vnd.dev.sigstore.trustedroot+json). */
  readonly trustedRoot: unknown;
  /** Extra verification keys by key id / hint: npm's `keys.json` target. */
  readonly keys?: readonly NpmRegistryKey[];
}

export interface NpmRegistryKey {
  readonly keyId: string;
  /** base64 DER SubjectPublicKeyInfo. */
  readonly rawBytes: string;
  readonly keyDetails: string;
  readonly validFor: { readonly start: string; readonly end?: string | undefined };
}

/** Each library's module.exports (CommonJS packages: their ESM namespace's `default`). */
type Sigstore = {
  verify: typeof SigstoreVerify.default;
  bundle: typeof SigstoreBundleLib.default;
  specs: typeof SigstoreSpecs.default;
  core: typeof SigstoreCore.default;
};

let loading: Promise<Sigstore> | undefined;

/**
 * Load the Sigstore libraries on first use. They are CommonJS: `default` is their module.exports, under Node and in
 * the bundle alike (a code-split chunk of a CommonJS package exports only `default`; scripts/build.ts).
 */
export function loadSigstore(): Promise<Sigstore> {
  loading ??= Promise.all([
    import("@sigstore/verify"),
    import("@sigstore/bundle"),
    import("@sigstore/protobuf-specs"),
    import("@sigstore/core"),
  ]).then(([verify, bundle, specs, core]) => ({
    verify: verify.default,
    bundle: bundle.default,
    specs: specs.default,
    core: core.default,
  }));
  return loading;
}

/** A verifier bound to one trust root; build it once per root and reuse it for every bundle. */
export interface BundleVerifier {
  readonly rootName: string;
  verify(bundleJson: unknown, kind: AttestationKind): VerifyOutcome;
}

/** Build a verifier for a trust root. A root that does not parse is an error naming the root. */
export async function createBundleVerifier(root: TrustRoot): Promise<BundleVerifier> {
  const sig = await loadSigstore();
  const trustedRoot = sig.specs.TrustedRoot.fromJSON(root.trustedRoot);
  const keys = Object.fromEntries(
    (root.keys ?? []).map((k) => [
      k.keyId,
      {
        rawBytes: Buffer.from(k.rawBytes, "base64"),
        keyDetails: sig.specs.PublicKeyDetails[k.keyDetails as keyof typeof sig.specs.PublicKeyDetails],
        validFor: { start: new Date(k.validFor.start), ...(k.validFor.end ? { end: new Date(k.validFor.end) } : {}) },
      },
    ]),
  );
  const material = sig.verify.toTrustMaterial(trustedRoot, keys);
  const hasCtlogs = trustedRoot.ctlogs.length > 0;
  return {
    rootName: root.name,
    verify: (bundleJson, kind) => verifyWith(sig, material, hasCtlogs, bundleJson, kind),
  };
}

function verifyWith(
  sig: Sigstore,
  material: ReturnType<Sigstore["verify"]["toTrustMaterial"]>,
  hasCtlogs: boolean,
  bundleJson: unknown,
  kind: AttestationKind,
): VerifyOutcome {
  let entity;
  try {
    const bundle = sig.bundle.bundleFromJSON(bundleJson);
    entity = sig.verify.toSignedEntity(bundle);
  } catch (err) {
    return { status: "invalid", reason: `bundle does not parse: ${messageOf(err)}` };
  }
  const req = requirementsFor(kind);
  const isCert = entity.key.$case === "certificate";
  if (req.key !== (isCert ? "certificate" : "public-key")) {
    return { status: "invalid", reason: `a ${kind} attestation must be signed with a ${req.key}` };
  }
  const verifier = new sig.verify.Verifier(material, {
    tlogThreshold: req.tlog ? 1 : 0,
    ctlogThreshold: isCert && hasCtlogs && req.tlog ? 1 : 0,
    timestampThreshold: 1,
  });
  try {
    const signer = verifier.verify(entity);
    return { status: "verified", signer: toIdentity(sig, entity.key, signer) };
  } catch (err) {
    return { status: "invalid", reason: messageOf(err) };
  }
}

function toIdentity(
  sig: Sigstore,
  key: SigstoreVerify.SignedEntity["key"],
  signer: SigstoreVerify.Signer,
): SignerIdentity {
  if (key.$case === "public-key") {
    return { kind: "public-key", san: undefined, issuer: undefined, extensions: {}, keyHint: key.hint };
  }
  const extensions: Partial<Record<FulcioExtensionName, string>> = {};
  for (const [name, oid] of Object.entries(FULCIO_OIDS)) {
    if (name === "issuerV1") continue;
    const ext = key.certificate.extension(oid);
    if (ext) extensions[name as FulcioExtensionName] = derUtf8(sig, ext.value);
  }
  return {
    kind: "certificate",
    san: signer.identity?.subjectAlternativeName,
    issuer: signer.identity?.extensions?.issuer,
    extensions,
    keyHint: undefined,
  };
}

/** Fulcio's v2 extensions hold a DER UTF8String; the value is its content. */
function derUtf8(sig: Sigstore, value: Buffer): string {
  try {
    return sig.core.ASN1Obj.parseBuffer(Buffer.from(value)).value.toString("utf8");
  } catch {
    return value.toString("utf8");
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
