/**
 * One attestation bundle often covers every asset of a release, so the GitHub gatherer meets the same bundle once
 * per digest. The verifier runs the Sigstore check once per distinct bundle (and kind) and answers the rest from
 * its memo, with the same outcome, including for a tampered bundle.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, it } from "node:test";
import { createBundleVerifier, type BundleVerifier } from "../../src/provenance/index.ts";
import { buildStatement, type SimBuild } from "../../src/sim/provenance/attest.ts";
import { simTrustRoot } from "../../src/sim/provenance/ca.ts";
import { createSimSigner, type SimSigner } from "../../src/sim/provenance/signer.ts";
import { tamperSignature } from "./helpers.ts";

const REPO = "acme/plasmite";
const COMMIT = randomBytes(20).toString("hex");

const build: SimBuild = {
  repository: REPO,
  workflowPath: ".github/workflows/release.yml",
  ref: "refs/tags/v1",
  commit: COMMIT,
};
const statement = (digests: readonly string[]) =>
  buildStatement(
    build,
    digests.map((sha256, i) => ({ name: `plasmite-${i}.tar.gz`, digest: { sha256 } })),
  );

const identity = {
  san: `https://github.com/${REPO}/.github/workflows/release.yml@refs/tags/v1`,
  issuer: "https://token.actions.githubusercontent.com",
  extensions: { sourceRepositoryDigest: COMMIT, sourceRepositoryRef: "refs/tags/v1" },
};

describe("bundle verifier: identical bundles are verified once", () => {
  let signer: SimSigner;
  let verifier: BundleVerifier;
  before(async () => {
    signer = createSimSigner();
    verifier = await createBundleVerifier(simTrustRoot());
  });

  it("the same bundle for three digests: one Sigstore verification, the same outcome each time", async () => {
    const digests = [1, 2, 3].map(() => randomBytes(32).toString("hex"));
    const bundle = await signer.signWithCertificate(statement(digests), identity);
    // As the gatherer has it: each attestation lookup parses its own copy of the same JSON.
    const copies = digests.map(() => JSON.parse(JSON.stringify(bundle)) as unknown);
    const before = { ...verifier.stats };
    const outcomes = copies.map((c) => verifier.verify(c, "github-build"));
    assert.equal(outcomes[0]?.status, "verified");
    for (const o of outcomes) assert.deepEqual(o, outcomes[0]);
    assert.deepEqual(
      { verified: verifier.stats.verified - before.verified, reused: verifier.stats.reused - before.reused },
      { verified: 1, reused: 2 },
    );
  });

  it("a different bundle, a tampered copy or another kind is verified on its own", async () => {
    const bundle = await signer.signWithCertificate(statement([randomBytes(32).toString("hex")]), identity);
    const before = verifier.stats.verified;
    assert.equal(verifier.verify(bundle, "github-build").status, "verified");
    assert.equal(verifier.verify(tamperSignature(bundle), "github-build").status, "invalid");
    assert.equal(verifier.verify(tamperSignature(bundle), "github-build").status, "invalid");
    // npm's publish attestation must be signed with the registry's key: the same bytes, another verdict.
    assert.equal(verifier.verify(bundle, "npm-publish").status, "invalid");
    assert.equal(verifier.stats.verified - before, 3);
  });
});
