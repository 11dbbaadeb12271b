import { readFileSync } from "node:fs";
import { npmAttestationKeys } from "../../src/provenance/trust.ts";
import type { TrustRoot } from "../../src/provenance/verify.ts";

const DIR = new URL("../fixtures/provenance/", import.meta.url);

export function fixtureBytes(rel: string): Buffer {
  return readFileSync(new URL(rel, DIR));
}

export function fixtureJson(rel: string): Record<string, unknown> {
  return JSON.parse(fixtureBytes(rel).toString("utf8")) as Record<string, unknown>;
}

/** The public-good trusted root (decoded from sigstore-js' TUF seeds) with npm's attestation keys. */
export function publicGoodRoot(): TrustRoot {
  return {
    name: "public-good",
    trustedRoot: fixtureJson("trust-roots/sigstore-js_seeds_decoded_trusted_root.json"),
    keys: npmAttestationKeys(fixtureJson("npm/sigstore-js_seeds_decoded_registry-keys.json")),
  };
}

type Json = Record<string, unknown>;

function envelope(bundle: Json): { payload: string; signatures: { sig: string }[] } {
  return bundle["dsseEnvelope"] as { payload: string; signatures: { sig: string }[] };
}

/** A copy of the bundle with one byte of its DSSE signature changed. */
export function tamperSignature(bundle: Json): Json {
  const copy = structuredClone(bundle);
  const env = envelope(copy);
  const sig = Buffer.from(env.signatures[0]!.sig, "base64");
  sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x01;
  env.signatures[0]!.sig = sig.toString("base64");
  return copy;
}

/** A copy of the bundle with one byte of its statement changed: the last hex digit of the first subject digest. */
export function tamperPayload(bundle: Json): Json {
  const copy = structuredClone(bundle);
  const env = envelope(copy);
  const payload = Buffer.from(env.payload, "base64");
  const text = payload.toString("latin1");
  const m = /"(sha256|sha512|sha1)"\s*:\s*"([0-9a-f]+)"/.exec(text);
  if (!m) throw new Error("no digest to tamper");
  const at = m.index + m[0].length - 2;
  payload[at] = payload[at] === 0x30 ? 0x31 : 0x30;
  env.payload = payload.toString("base64");
  return copy;
}
