/**
 * The sim's Sigstore instance: bundles signed at run time for an arbitrary digest verify with @sigstore/verify
 * against the sim's trusted root, fail against the public-good root, and fail after a one-byte tamper.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import {
  compareAttestation,
  createBundleVerifier,
  toEvidence,
  type BundleVerifier,
  type ExpectedIdentity,
} from "../../src/provenance/index.ts";
import { simTrustedRoot, simTrustRoot } from "../../src/sim/provenance/ca.ts";
import { createSimSigner, toPep740, type SimSigner } from "../../src/sim/provenance/signer.ts";
import { parsePypiProvenance } from "../../src/provenance/fetch.ts";
import { publicGoodRoot, tamperPayload, tamperSignature } from "./helpers.ts";

const COMMIT = randomBytes(20).toString("hex");
const REPO = "acme/plasmite";
const expected: ExpectedIdentity = {
  repository: REPO,
  commit: COMMIT,
  workflows: ["release.yml"],
  refs: ["refs/tags/v0.8.0"],
};

function statement(sha256: string) {
  return {
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ name: "plasmite.tar.gz", digest: { sha256 } }],
    predicateType: "https://slsa.dev/provenance/v1",
    predicate: {
      buildDefinition: {
        buildType: "https://actions.github.io/buildtypes/workflow/v1",
        externalParameters: {
          workflow: {
            repository: `https://github.com/${REPO}`,
            path: ".github/workflows/release.yml",
            ref: "refs/tags/v0.8.0",
          },
        },
        resolvedDependencies: [
          { uri: `git+https://github.com/${REPO}@refs/tags/v0.8.0`, digest: { gitCommit: COMMIT } },
        ],
      },
    },
  };
}

const identity = {
  san: `https://github.com/${REPO}/.github/workflows/release.yml@refs/tags/v0.8.0`,
  issuer: "https://token.actions.githubusercontent.com",
  extensions: { sourceRepositoryDigest: COMMIT, sourceRepositoryRef: "refs/tags/v0.8.0" },
};

describe("sim Sigstore instance", () => {
  let signer: SimSigner;
  let sim: BundleVerifier;
  let publicGood: BundleVerifier;
  before(async () => {
    signer = createSimSigner();
    sim = await createBundleVerifier(simTrustRoot());
    publicGood = await createBundleVerifier(publicGoodRoot());
  });

  it("signs build provenance for an arbitrary digest that verifies against the sim root only", async () => {
    const digest = randomBytes(32).toString("hex");
    const bundle = await signer.signWithCertificate(statement(digest), identity);
    const out = sim.verify(bundle, "github-build");
    assert.equal(out.status, "verified", out.status === "verified" ? "" : out.reason);
    if (out.status === "verified") {
      assert.equal(out.signer.san, identity.san);
      assert.equal(out.signer.issuer, identity.issuer);
      assert.equal(out.signer.extensions.sourceRepositoryDigest, COMMIT);
    }
    const cmp = compareAttestation(
      expected,
      { name: "plasmite.tar.gz", algorithm: "sha256", hex: digest },
      toEvidence(bundle, "github-build", sim),
    );
    assert.deepEqual(cmp.findings, []);
    assert.deepEqual(cmp.result, {
      signature: "verified",
      repository: REPO,
      workflow: ".github/workflows/release.yml",
      ref: "refs/tags/v0.8.0",
      commit: COMMIT,
      subjects_matched: true,
    });

    assert.equal(publicGood.verify(bundle, "github-build").status, "invalid");
    for (const bad of [tamperSignature(bundle), tamperPayload(bundle)]) {
      const ev = toEvidence(bad, "github-build", sim);
      const codes = compareAttestation(
        expected,
        { name: "plasmite.tar.gz", algorithm: "sha256", hex: digest },
        ev,
      ).findings.map((f) => f.code);
      assert.deepEqual(codes, ["provenance-signature-invalid"]);
    }
  });

  it("a tampered checkpoint (inclusion proof) does not verify", async () => {
    const bundle = await signer.signWithCertificate(statement(randomBytes(32).toString("hex")), identity);
    const bad = structuredClone(bundle) as {
      verificationMaterial: { tlogEntries: { inclusionProof: { checkpoint: { envelope: string } } }[] };
    };
    const cp = bad.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint;
    cp.envelope = cp.envelope.replace("\n1\n", "\n2\n");
    assert.equal(sim.verify(bad, "github-build").status, "invalid");
  });

  it("serves PyPI's Integrity API form: PEP 740 objects that convert back to bundles that verify", async () => {
    const digest = randomBytes(32).toString("hex");
    const bundle = await signer.signWithCertificate(statement(digest), identity);
    const body = {
      version: 1,
      attestation_bundles: [
        {
          publisher: { kind: "GitHub", repository: REPO, workflow: "release.yml", environment: null },
          attestations: [toPep740(bundle)],
        },
      ],
    };
    const got = parsePypiProvenance(body, "pypi.sim");
    assert.equal(got.kind, "found");
    if (got.kind !== "found") return;
    const ev = toEvidence(got.value[0]!.bundles[0], "pypi-publish", sim);
    assert.equal(ev.kind === "attestation" ? ev.signature : "", "verified");
  });

  it("signs an npm publish attestation with the sim registry key (no certificate)", async () => {
    const bundle = await signer.signWithRegistryKey(statement(randomBytes(32).toString("hex")));
    assert.equal(sim.verify(bundle, "npm-publish").status, "verified");
    assert.equal(sim.verify(bundle, "npm-provenance").status, "invalid");
    assert.equal(publicGood.verify(bundle, "npm-publish").status, "invalid");
    assert.equal(sim.verify(tamperSignature(bundle), "npm-publish").status, "invalid");
  });

  it("signs a release attestation whose signer is the releases SAN", async () => {
    const st = {
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ uri: `pkg:github/${REPO}@v0.8.0`, digest: { sha1: COMMIT } }],
      predicateType: "https://in-toto.io/attestation/release/v0.2",
      predicate: { purl: `pkg:github/${REPO}@v0.8.0`, tag: "v0.8.0" },
    };
    const bundle = await signer.signWithCertificate(st, {
      san: "https://dotcom.releases.github.com",
      issuer: "https://sim.invalid/releases",
    });
    const out = sim.verify(bundle, "github-release");
    assert.equal(out.status, "verified");
  });

  it("a different CA with the same names does not verify", async () => {
    const root = simTrustedRoot() as {
      certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
    };
    const pg = publicGoodRoot().trustedRoot as typeof root;
    root.certificateAuthorities[0]!.certChain = pg.certificateAuthorities[0]!.certChain;
    const other = await createBundleVerifier({ name: "swapped", trustedRoot: root });
    const bundle = await signer.signWithCertificate(statement(randomBytes(32).toString("hex")), identity);
    assert.equal(other.verify(bundle, "github-build").status, "invalid");
  });
});

describe("sim trusted_root.json", () => {
  it("the committed file is the root derived from the committed material (regenerate both with the script)", () => {
    const committed: unknown = JSON.parse(
      readFileSync(new URL("../../src/sim/provenance/trusted_root.json", import.meta.url), "utf8"),
    );
    assert.deepEqual(committed, simTrustedRoot());
  });
});
