/**
 * Real data: every real Sigstore bundle in test/fixtures/provenance/ whose trusted root is there verifies offline
 * against it, and a one-byte tamper of its signature or of its payload is provenance-signature-invalid.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import {
  compareAttestation,
  createBundleVerifier,
  pep740ToBundle,
  toEvidence,
  type AttestationKind,
  type BundleVerifier,
  type ExpectedIdentity,
} from "../../src/provenance/index.ts";
import { Pep740Attestation } from "../../src/provenance/schemas.ts";
import { fixtureBytes, fixtureJson, publicGoodRoot, tamperPayload, tamperSignature } from "./helpers.ts";

type Json = Record<string, unknown>;
interface Case {
  readonly name: string;
  readonly bundle: Json;
  readonly kind: AttestationKind;
  /** The artefact the statement names (file fixture, or the digest recorded in the fixtures README). */
  readonly artefact: { algorithm: "sha256" | "sha512"; hex: string };
}

const sha = (alg: "sha256" | "sha512", file: string) => createHash(alg).update(fixtureBytes(file)).digest("hex");
const npmBundles = (file: string) =>
  (fixtureJson(file)["attestations"] as { predicateType: string; bundle: Json }[]).map((a) => ({
    kind: a.predicateType.includes("/publish/") ? ("npm-publish" as const) : ("npm-provenance" as const),
    bundle: a.bundle,
  }));
const pep740 = (file: string) => pep740ToBundle(Pep740Attestation.parse(fixtureJson(file)));

function cases(): Case[] {
  const out: Case[] = [
    {
      name: "github custom-issuer build provenance",
      bundle: fixtureJson("github/cli-cli_custom-issuer.sigstore.json"),
      kind: "github-build",
      artefact: { algorithm: "sha256", hex: sha("sha256", "github/cli-cli_custom-issuer-artifact") },
    },
    {
      name: "github reusable-workflow build provenance",
      bundle: fixtureJson("github/cli-cli_reusable-workflow-attestation.sigstore.json"),
      kind: "github-build",
      artefact: { algorithm: "sha256", hex: sha("sha256", "github/cli-cli_reusable-workflow-artifact") },
    },
  ];
  const sigstore210 = {
    algorithm: "sha512" as const,
    hex: subjectDigest(fixtureJson("github/cli-cli_sigstore-js-2.1.0-bundle.json"), "sha512"),
  };
  out.push(
    {
      name: "sigstore-js 2.1.0 (bundle v0.3)",
      bundle: fixtureJson("github/cli-cli_sigstore-js-2.1.0-bundle.json"),
      kind: "npm-provenance",
      artefact: sigstore210,
    },
    {
      name: "sigstore-js 2.1.0 (bundle v0.1)",
      bundle: fixtureJson("github/cli-cli_sigstore-js-2.1.0-bundle-v0.1.json"),
      kind: "npm-provenance",
      artefact: sigstore210,
    },
  );
  for (const [file, tgz] of [
    ["npm/sigstore-dotnet_playwright-cli@0.1.1_attestations.json", "npm/sigstore-dotnet_playwright-cli-0.1.1.tgz"],
    ["npm/slsa-verifier_gundam-visor@1.0.1_attestations.json", "npm/slsa-verifier_gundam-visor-1.0.1.tgz"],
  ] as const) {
    for (const b of npmBundles(file)) {
      out.push({
        name: `${file} ${b.kind}`,
        bundle: b.bundle,
        kind: b.kind,
        artefact: { algorithm: "sha512", hex: sha("sha512", tgz) },
      });
    }
  }
  for (const b of npmBundles("npm/npm-cli_valid-sigstore-attestations_sigstore@1.0.0.json")) {
    out.push({
      name: `npm-cli sigstore@1.0.0 ${b.kind}`,
      bundle: b.bundle,
      kind: b.kind,
      artefact: { algorithm: "sha512", hex: subjectDigest(b.bundle, "sha512") },
    });
  }
  for (const [file, kind] of [
    ["npm/sigstore-go_examples_bundle-provenance.json", "npm-provenance"],
    ["npm/sigstore-go_examples_bundle-publish.json", "npm-publish"],
  ] as const) {
    const bundle = fixtureJson(file);
    out.push({ name: file, bundle, kind, artefact: { algorithm: "sha512", hex: subjectDigest(bundle, "sha512") } });
  }
  const sdist = {
    algorithm: "sha256" as const,
    hex: sha("sha256", "pypi/pypi-attestations_pypi_attestations-0.0.19.tar.gz"),
  };
  const integrity = fixtureJson("pypi/pypi-attestations_pypi_attestations-0.0.19.tar.gz.provenance") as {
    attestation_bundles: { attestations: unknown[] }[];
  };
  out.push(
    {
      name: "pypi Integrity API provenance",
      bundle: pep740ToBundle(Pep740Attestation.parse(integrity.attestation_bundles[0]!.attestations[0])),
      kind: "pypi-publish",
      artefact: sdist,
    },
    {
      name: "pypi publish attestation",
      bundle: pep740("pypi/pypi-attestations_pypi_attestations-0.0.19.tar.gz.publish.attestation"),
      kind: "pypi-publish",
      artefact: sdist,
    },
    {
      name: "pypi slsa attestation",
      bundle: pep740("pypi/pypi-attestations_pypi_attestations-0.0.19.tar.gz.slsa.attestation"),
      kind: "pypi-publish",
      artefact: sdist,
    },
  );
  const gitlab = pep740("pypi/pypi-attestations_gitlab_oidc_project-0.0.3.tar.gz.publish.attestation");
  out.push({
    name: "pypi GitLab publisher attestation",
    bundle: gitlab,
    kind: "pypi-publish",
    artefact: { algorithm: "sha256", hex: subjectDigest(gitlab, "sha256") },
  });
  return out;
}

function subjectDigest(bundle: Json, alg: string): string {
  const env = bundle["dsseEnvelope"] as { payload: string };
  const st = JSON.parse(Buffer.from(env.payload, "base64").toString("utf8")) as {
    subject: { digest: Record<string, string> }[];
  };
  return st.subject[0]!.digest[alg]!;
}

const ANY: ExpectedIdentity = { repository: "nobody/nothing", commit: undefined, workflows: [], refs: [] };

describe("real bundles against the public-good trusted root", () => {
  let verifier: BundleVerifier;
  before(async () => {
    verifier = await createBundleVerifier(publicGoodRoot());
  });

  const all = cases();
  it("covers 16 real bundles", () => assert.equal(all.length, 16));

  for (const c of all) {
    it(`${c.name}: verifies, names its artefact, and both one-byte tampers fail`, () => {
      const ok = verifier.verify(c.bundle, c.kind);
      assert.equal(ok.status, "verified", ok.status === "verified" ? "" : ok.reason);
      const ev = toEvidence(c.bundle, c.kind, verifier);
      const cmp = compareAttestation(ANY, { name: "artefact", ...c.artefact }, ev);
      assert.equal(cmp.result.signature, "verified");
      assert.equal(cmp.result.subjects_matched, true);
      assert.ok(
        !cmp.findings.some((f) => f.code === "provenance-signature-invalid" && /does not verify/.test(f.message)),
      );
      for (const tampered of [tamperSignature(c.bundle), tamperPayload(c.bundle)]) {
        const bad = compareAttestation(
          ANY,
          { name: "artefact", ...c.artefact },
          toEvidence(tampered, c.kind, verifier),
        );
        assert.equal(bad.result.signature, "invalid");
        assert.deepEqual(
          bad.findings.map((f) => f.code),
          ["provenance-signature-invalid"],
        );
      }
    });
  }

  it("reads the commit from the PyPI certificate's source-repository-digest extension", () => {
    const bundle = pep740("pypi/pypi-attestations_pypi_attestations-0.0.19.tar.gz.publish.attestation");
    const out = verifier.verify(bundle, "pypi-publish");
    assert.equal(out.status, "verified");
    if (out.status !== "verified") return;
    const slsa = toEvidence(
      pep740("pypi/pypi-attestations_pypi_attestations-0.0.19.tar.gz.slsa.attestation"),
      "pypi-publish",
      verifier,
    );
    assert.equal(slsa.kind, "attestation");
    const gitCommit = slsa.kind === "attestation" ? slsa.statement?.build?.commit : undefined;
    assert.match(gitCommit ?? "", /^08802efe[0-9a-f]{32}$/);
    assert.equal(out.signer.extensions.sourceRepositoryDigest, gitCommit);
    assert.equal(out.signer.extensions.sourceRepositoryUri, "https://github.com/trailofbits/pypi-attestations");
    assert.equal(out.signer.extensions.sourceRepositoryRef, "refs/tags/v0.0.19");
  });

  it("leaves GitHub-instance bundles (release attestations, private-repo builds) unknown without GitHub's root", () => {
    const release = fixtureJson("github/tracefold_cli-cli_v2.98.0_release-attestation_v0.2_resolved-bundle.json");
    const demo = JSON.parse(
      fixtureBytes("github/cli-cli_github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl")
        .toString("utf8")
        .split("\n")[0]!,
    ) as Json;
    // Never verified, and not a false "invalid" either: their root (GitHub's own instance) is not this one.
    assert.equal(verifier.verify(release, "github-release").status, "unknown");
    assert.equal(
      verifier.verify(fixtureJson("github/cli-cli_github_release_bundle.json"), "github-release").status,
      "unknown",
    );
    assert.equal(verifier.verify(demo, "github-build").status, "unknown");
  });

  it("does not verify the rfc8785 wheel attestation, whose certificate chains to a CA outside the public-good root", () => {
    const wheel = pep740("pypi/pypi-attestations_rfc8785-0.1.2-py3-none-any.whl.publish.attestation");
    const out = verifier.verify(wheel, "pypi-publish");
    assert.equal(out.status, "invalid");
    assert.match(out.status === "invalid" ? out.reason : "", /certificate chain/);
  });

  it("rejects a key-signed bundle where the table wants a certificate, and the reverse", () => {
    const publish = fixtureJson("npm/sigstore-go_examples_bundle-publish.json");
    assert.equal(verifier.verify(publish, "npm-provenance").status, "invalid");
    assert.equal(
      verifier.verify(fixtureJson("npm/sigstore-go_examples_bundle-provenance.json"), "npm-publish").status,
      "invalid",
    );
  });
});
