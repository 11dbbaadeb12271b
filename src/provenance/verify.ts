/**
 * Sigstore signature verification. The Sigstore libraries are loaded lazily (dynamic import) so that commands which
 * never look at provenance never load them. No crypto is written here: bundles are parsed by `@sigstore/bundle`,
 * checked by `@sigstore/verify` against a `trusted_root.json`, and the signer identity is read from the certificate
 * the library returns.
 */
import { createHash } from "node:crypto";
import type * as SigstoreBundleLib from "@sigstore/bundle";
import type * as SigstoreCore from "@sigstore/core";
import type * as SigstoreSpecs from "@sigstore/protobuf-specs";
import type * as SigstoreVerify from "@sigstore/verify";
import { installFastDer } from "./der.ts";
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
  ]).then(([verify, bundle, specs, core]) => {
    // @sigstore/verify re-encodes certificates through core's ASN1Obj.toDER; ./der.ts gives the same bytes faster.
    installFastDer(core.default.ASN1Obj);
    return { verify: verify.default, bundle: bundle.default, specs: specs.default, core: core.default };
  });
  return loading;
}

/** A verifier bound to one or more trust roots; build it once and reuse it for every bundle. */
export interface BundleVerifier {
  readonly rootName: string;
  verify(bundleJson: unknown, kind: AttestationKind): VerifyOutcome;
  /** Bundles verified by the Sigstore libraries, and verifications answered from the memo of identical bundles. */
  readonly stats: { readonly verified: number; readonly reused: number };
}

/** Outcomes remembered per verifier (FIFO beyond this): one release's assets share one attestation bundle. */
const OUTCOME_MEMO_MAX = 512;

export interface VerifierOptions {
  /**
   * Every root that should be there was loaded. When not (e.g. GitHub's instance root could not be fetched), a
   * certificate that no loaded root issued is `unknown` rather than `invalid`: its root may be the missing one.
   */
  readonly complete?: boolean;
}

/** GitHub's own Sigstore instance names itself in its CA certificates' subject (`O=GitHub, Inc.`). */
const GITHUB_INSTANCE_ORG = "GitHub, Inc.";

interface LoadedRoot {
  readonly name: string;
  readonly material: ReturnType<Sigstore["verify"]["toTrustMaterial"]>;
  readonly hasCtlogs: boolean;
  readonly hasTlogs: boolean;
  /** DER subjects of every CA certificate (an issuing CA is matched by the leaf certificate's issuer). */
  readonly caSubjects: readonly Buffer[];
  readonly keyIds: ReadonlySet<string>;
}

/**
 * Build a verifier for one trust root or several (public-good and GitHub's instance; `gh attestation trusted-root`
 * prints both). Each bundle is verified against the root whose CA issued its certificate (matched by the leaf's
 * issuer name), or, for a key-signed bundle, the root holding its key. A root that does not parse is an error.
 */
export async function createBundleVerifier(
  root: TrustRoot | readonly TrustRoot[],
  options: VerifierOptions = {},
): Promise<BundleVerifier> {
  const sig = await loadSigstore();
  const roots = (Array.isArray(root) ? root : [root]) as readonly TrustRoot[];
  const loaded = roots.map((r) => loadRoot(sig, r));
  // The outcome of one bundle against fixed roots never changes (the certificate is checked at the signing time
  // the log or the timestamp authority proves, not at the clock's), and one attestation often covers every asset
  // of a release (actions/attest-build-provenance with several subjects): the same bundle comes back for each
  // digest, and its certificate chain check is most of a verification's CPU.
  const memo = new Map<string, VerifyOutcome>();
  const stats = { verified: 0, reused: 0 };
  return {
    rootName: roots.map((r) => r.name).join("+"),
    stats,
    verify(bundleJson, kind) {
      const key = `${kind}\0${createHash("sha256")
        .update(JSON.stringify(bundleJson) ?? "")
        .digest("base64")}`;
      const hit = memo.get(key);
      if (hit) {
        stats.reused++;
        return hit;
      }
      const outcome = verifyWith(sig, loaded, options.complete ?? true, bundleJson, kind);
      stats.verified++;
      if (memo.size >= OUTCOME_MEMO_MAX) memo.delete(memo.keys().next().value as string);
      memo.set(key, outcome);
      return outcome;
    },
  };
}

function loadRoot(sig: Sigstore, root: TrustRoot): LoadedRoot {
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
  const caSubjects: Buffer[] = [];
  for (const ca of trustedRoot.certificateAuthorities) {
    for (const c of ca.certChain?.certificates ?? []) {
      try {
        caSubjects.push(sig.core.X509Certificate.parse(Buffer.from(c.rawBytes)).subject);
      } catch {
        // A certificate the library cannot parse cannot issue anything either.
      }
    }
  }
  return {
    name: root.name,
    material: sig.verify.toTrustMaterial(trustedRoot, keys),
    hasCtlogs: trustedRoot.ctlogs.length > 0,
    hasTlogs: trustedRoot.tlogs.length > 0,
    caSubjects,
    keyIds: new Set(Object.keys(keys)),
  };
}

/** The root for this bundle: the one whose CA issued its certificate, or the one holding its key. */
function rootFor(roots: readonly LoadedRoot[], key: SigstoreVerify.SignedEntity["key"]): LoadedRoot | undefined {
  if (key.$case === "public-key") return roots.find((r) => r.keyIds.has(key.hint)) ?? roots[0];
  const issuer = key.certificate.issuer;
  return roots.find((r) => r.caSubjects.some((s) => s.equals(issuer)));
}

function verifyWith(
  sig: Sigstore,
  roots: readonly LoadedRoot[],
  complete: boolean,
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
  let root = rootFor(roots, entity.key);
  if (!root && entity.key.$case === "certificate") {
    const issuer = issuerText(entity.key.certificate);
    // Its instance's root is not loaded: GitHub's own instance (no root for it here), or a root that failed to load.
    if (!complete || issuer.includes(GITHUB_INSTANCE_ORG)) {
      return { status: "unknown", reason: `no trusted root for the certificate's issuer (${issuer})` };
    }
    root = roots[0]; // a foreign CA: the chain check below fails and says so
  }
  if (!root) return { status: "unknown", reason: "no trusted root" };
  // An instance without a transparency log (GitHub's signs with a timestamp authority only) cannot require one.
  const tlog = req.tlog && root.hasTlogs;
  const verifier = new sig.verify.Verifier(root.material, {
    tlogThreshold: tlog ? 1 : 0,
    ctlogThreshold: isCert && root.hasCtlogs && tlog ? 1 : 0,
    timestampThreshold: 1,
  });
  try {
    const signer = verifier.verify(entity);
    return { status: "verified", signer: toIdentity(sig, entity.key, signer) };
  } catch (err) {
    return { status: "invalid", reason: messageOf(err) };
  }
}

/** An X.509 Name as `O=…, CN=…` (enough to tell instances apart in a reason). */
function issuerText(cert: SigstoreCore.X509Certificate): string {
  try {
    const parts: string[] = [];
    // tbsCertificate: [0] version, serialNumber, signature, issuer, …
    for (const rdn of cert.tbsCertificate.subs[3]?.subs ?? []) {
      for (const atv of rdn.subs) {
        const [oid, value] = atv.subs;
        if (!oid || !value) continue;
        const name = NAME_OIDS[oid.toOID()] ?? oid.toOID();
        parts.push(`${name}=${value.value.toString("utf8")}`);
      }
    }
    return parts.join(", ");
  } catch {
    return "unreadable issuer";
  }
}

const NAME_OIDS: Readonly<Record<string, string>> = { "2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.6": "C" };

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
