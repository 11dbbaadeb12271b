/**
 * The sim's attestation signer: real Sigstore bundles for arbitrary statements, made at run time with Node crypto
 * against the sim's CA and transparency log (ca.ts). Certificates are issued per identity (SAN + Fulcio extensions)
 * and dated at the material's epoch, with a transparency-log entry that carries both an inclusion promise (a signed
 * entry timestamp) and an inclusion proof (a one-leaf Merkle tree under a checkpoint signed by the sim's log key),
 * so the bundles use the current media type v0.3, as production does.
 */
import { createHash, createPrivateKey, sign as nodeSign, webcrypto } from "node:crypto";
import { json } from "@sigstore/core";
import { FULCIO_OIDS } from "../../provenance/verify.ts";
import { IN_TOTO_PAYLOAD_TYPE } from "../../provenance/statement.ts";
import { loadSimMaterial, npmKeyId, tlogId, type SimMaterial } from "./ca.ts";
import { EC_P256, loadX509, type X509 } from "./x509.ts";

export const BUNDLE_V03_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

export interface SimIdentity {
  /** The certificate SAN: `https://github.com/<repo>/<workflow path>@<ref>` or `https://dotcom.releases.github.com`. */
  readonly san: string;
  readonly issuer: string;
  /** Fulcio extensions, e.g. `{ sourceRepositoryDigest: <commit> }`. */
  readonly extensions?: Partial<Record<keyof typeof FULCIO_OIDS, string>>;
}

export interface SimSigner {
  /** A Fulcio-style bundle: a certificate for `identity`, signed DSSE over the statement, a tlog entry. */
  signWithCertificate(statement: unknown, identity: SimIdentity): Promise<Record<string, unknown>>;
  /** npm's publish attestation form: signed with the sim registry key, no certificate. */
  signWithRegistryKey(statement: unknown): Promise<Record<string, unknown>>;
}

/** PAE from the DSSE spec: "DSSEv1" SP len(type) SP type SP len(body) SP body. */
function pae(payloadType: string, payload: Buffer): Buffer {
  const head = `DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `;
  return Buffer.concat([Buffer.from(head, "utf8"), payload]);
}

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const pkcs8 = (b64: string) => createPrivateKey({ key: Buffer.from(b64, "base64"), format: "der", type: "pkcs8" });

export function createSimSigner(m: SimMaterial = loadSimMaterial()): SimSigner {
  const epochS = Math.floor(Date.parse(m.epoch) / 1000);
  let logIndex = 0;

  function tlogEntry(envelope: { payload: Buffer; sig: Buffer }, verifierPem: string) {
    const body = {
      apiVersion: "0.0.1",
      kind: "dsse",
      spec: {
        envelopeHash: { algorithm: "sha256", value: sha256(envelope.sig) },
        payloadHash: { algorithm: "sha256", value: sha256(envelope.payload) },
        signatures: [
          { signature: envelope.sig.toString("base64"), verifier: Buffer.from(verifierPem).toString("base64") },
        ],
      },
    };
    const canonicalizedBody = Buffer.from(json.canonicalize(body), "utf8");
    const integratedTime = epochS + 60;
    const index = logIndex++;
    const logID = tlogId(m.tlog.publicKey);
    const set = nodeSign(
      "sha256",
      Buffer.from(
        json.canonicalize({
          body: canonicalizedBody.toString("base64"),
          integratedTime,
          logIndex: index,
          logID: logID.toString("hex"),
        }),
      ),
      pkcs8(m.tlog.privateKey),
    );
    return {
      logIndex: String(index),
      logId: { keyId: logID.toString("base64") },
      kindVersion: { kind: "dsse", version: "0.0.1" },
      integratedTime: String(integratedTime),
      inclusionPromise: { signedEntryTimestamp: set.toString("base64") },
      inclusionProof: inclusionProof(canonicalizedBody, logID),
      canonicalizedBody: canonicalizedBody.toString("base64"),
    };
  }

  /** RFC 6962 proof in a one-leaf tree (root = leaf hash, no sibling hashes) under a signed checkpoint note. */
  function inclusionProof(canonicalizedBody: Buffer, logID: Buffer) {
    const root = createHash("sha256")
      .update(Buffer.concat([Buffer.from([0]), canonicalizedBody]))
      .digest();
    const origin = new URL(m.tlog.baseUrl).host;
    const note = `${origin}\n1\n${root.toString("base64")}\n`;
    const sig = nodeSign("sha256", Buffer.from(note, "utf8"), pkcs8(m.tlog.privateKey));
    const envelope = `${note}\n\u2014 ${origin} ${Buffer.concat([logID.subarray(0, 4), sig]).toString("base64")}\n`;
    return { logIndex: "0", rootHash: root.toString("base64"), treeSize: "1", hashes: [], checkpoint: { envelope } };
  }

  function dsse(statement: unknown, key: ReturnType<typeof pkcs8>) {
    const payload = Buffer.from(JSON.stringify(statement), "utf8");
    const sig = nodeSign("sha256", pae(IN_TOTO_PAYLOAD_TYPE, payload), key);
    return { payload, sig };
  }

  function bundle(material: Record<string, unknown>, env: { payload: Buffer; sig: Buffer }, entry: object) {
    return {
      mediaType: BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: { ...material, tlogEntries: [entry], timestampVerificationData: { rfc3161Timestamps: [] } },
      dsseEnvelope: {
        payload: env.payload.toString("base64"),
        payloadType: IN_TOTO_PAYLOAD_TYPE,
        signatures: [{ sig: env.sig.toString("base64"), keyid: "" }],
      },
    };
  }

  return {
    async signWithCertificate(statement, identity) {
      const leaf = await issueLeaf(m, identity);
      const env = dsse(statement, leaf.privateKey);
      const entry = tlogEntry(env, leaf.pem);
      return bundle({ certificate: { rawBytes: leaf.der.toString("base64") } }, env, entry);
    },
    signWithRegistryKey(statement) {
      const env = dsse(statement, pkcs8(m.npm.privateKey));
      const pem = `-----BEGIN PUBLIC KEY-----\n${m.npm.publicKey}\n-----END PUBLIC KEY-----\n`;
      const entry = tlogEntry(env, pem);
      return Promise.resolve(bundle({ publicKey: { hint: npmKeyId(m.npm.publicKey) } }, env, entry));
    },
  };
}

/** Issue a short-lived leaf (ten minutes from the epoch, as Fulcio does) for an identity. */
async function issueLeaf(m: SimMaterial, identity: SimIdentity) {
  const x509 = await loadX509();
  const subtle = webcrypto.subtle;
  const caKey = await subtle.importKey("pkcs8", Buffer.from(m.ca.privateKey, "base64"), EC_P256, false, ["sign"]);
  const caCert = new x509.X509Certificate(Buffer.from(m.ca.certificate, "base64"));
  const leafKeys = await subtle.generateKey(EC_P256, true, ["sign", "verify"]);
  const notBefore = new Date(Date.parse(m.epoch));
  const extensions: Record<string, string> = { issuer: identity.issuer, ...identity.extensions };
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: createHash("sha1").update(`${identity.san}${Math.random()}`).digest("hex").slice(0, 16),
    subject: "",
    issuer: caCert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 10 * 60_000),
    signingAlgorithm: EC_P256,
    publicKey: leafKeys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: identity.san }], true),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
      ...Object.entries(extensions).map(([name, value]) => utf8Extension(x509, name, value)),
    ],
  });
  const pkcs8Der = Buffer.from(await subtle.exportKey("pkcs8", leafKeys.privateKey));
  return { der: Buffer.from(cert.rawData), pem: cert.toString("pem"), privateKey: pkcs8(pkcs8Der.toString("base64")) };
}

/** A Fulcio v2 extension: a DER UTF8String. */
function utf8Extension(x509: X509, name: string, value: string) {
  const oid = FULCIO_OIDS[name as keyof typeof FULCIO_OIDS];
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > 0x7f_ff) throw new Error(`extension ${name} too long`);
  const len =
    bytes.length < 0x80
      ? Buffer.from([bytes.length])
      : bytes.length < 0x100
        ? Buffer.from([0x81, bytes.length])
        : Buffer.from([0x82, bytes.length >> 8, bytes.length & 0xff]);
  return new x509.Extension(oid, false, Buffer.concat([Buffer.from([0x0c]), len, bytes]));
}

/** A certificate-signed sim bundle as a PEP 740 attestation object (what PyPI's Integrity API serves). */
export function toPep740(bundle: Record<string, unknown>): Record<string, unknown> {
  const vm = bundle["verificationMaterial"] as { certificate: { rawBytes: string }; tlogEntries: unknown[] };
  const env = bundle["dsseEnvelope"] as { payload: string; signatures: { sig: string }[] };
  return {
    version: 1,
    verification_material: { certificate: vm.certificate.rawBytes, transparency_entries: vm.tlogEntries },
    envelope: { statement: env.payload, signature: env.signatures[0]?.sig ?? "" },
  };
}
