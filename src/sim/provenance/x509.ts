/**
 * Certificate building for the sim's CA, through @peculiar/x509 (which needs the reflect-metadata polyfill). Loaded
 * lazily: only the sim's attestation signer and the material generator use it.
 */
import type * as X509Lib from "@peculiar/x509";

export const EC_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export type X509 = typeof X509Lib.default;
let loading: Promise<X509> | undefined;

export function loadX509(): Promise<X509> {
  // CommonJS (its main): `default` is module.exports, under Node and in a code-split bundle (scripts/build.ts).
  loading ??= import("reflect-metadata").then(async () => (await import("@peculiar/x509")).default);
  return loading;
}
