/**
 * Regenerate the sim's Sigstore material (src/sim/provenance/material.json): a CA key and self-signed root
 * certificate, a transparency-log key and an npm registry key; and the matching trusted root
 * (src/sim/provenance/trusted_root.json). Run: `node scripts/gen-sim-provenance.ts`.
 * Every sim attestation made before a regeneration stops verifying (the root changes); tests sign at run time, so
 * nothing else needs regenerating. See docs/provenance.md.
 */
import { writeFileSync } from "node:fs";
import { SimMaterial, simTrustedRoot } from "../src/sim/provenance/ca.ts";
import { EC_P256, loadX509 } from "../src/sim/provenance/x509.ts";

const EPOCH = "2026-01-01T00:00:00.000Z";

async function keyPair() {
  const keys = await crypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]);
  const spki = Buffer.from(await crypto.subtle.exportKey("spki", keys.publicKey)).toString("base64");
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  return { keys, spki, pkcs8 };
}

async function main(): Promise<void> {
  const x509 = await loadX509();
  const ca = await keyPair();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=sim-fulcio, O=release-monitor sim",
    notBefore: new Date("2025-01-01T00:00:00Z"),
    notAfter: new Date("2125-01-01T00:00:00Z"),
    signingAlgorithm: EC_P256,
    keys: ca.keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  const tlog = await keyPair();
  const npm = await keyPair();
  const material = {
    epoch: EPOCH,
    ca: { certificate: Buffer.from(root.rawData).toString("base64"), privateKey: ca.pkcs8 },
    tlog: { publicKey: tlog.spki, privateKey: tlog.pkcs8, baseUrl: "https://rekor.sim.invalid" },
    npm: { publicKey: npm.spki, privateKey: npm.pkcs8 },
  };
  const out = new URL("../src/sim/provenance/material.json", import.meta.url);
  writeFileSync(out, `${JSON.stringify(material, null, 2)}\n`);
  const rootFile = new URL("../src/sim/provenance/trusted_root.json", import.meta.url);
  writeFileSync(rootFile, `${JSON.stringify(simTrustedRoot(SimMaterial.parse(material)), null, 2)}\n`);
  process.stdout.write(`wrote ${out.pathname} and ${rootFile.pathname}\n`);
}

await main();
