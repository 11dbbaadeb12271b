/**
 * The sim's attestations in each registry's shape, read back through the fetch layer and compared: every channel
 * verified against the sim root with no finding, and the same bundles are `unknown` without a root.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { before, describe, it } from "node:test";
import { compress } from "snappyjs";
import {
  compareAttestation,
  compareReleaseAttestation,
  createBundleVerifier,
  fetchGithubAttestations,
  fetchNpmAttestations,
  fetchPypiProvenance,
  githubAttestationKind,
  toEvidence,
  type BundleVerifier,
  type ExpectedIdentity,
  type ProvenanceHttp,
} from "../../src/provenance/index.ts";
import { simTrustRoot } from "../../src/sim/provenance/ca.ts";
import {
  githubBuildBundle,
  githubReleaseBundle,
  npmAttestationsBody,
  pypiProvenanceBody,
  type SimBuild,
} from "../../src/sim/provenance/attest.ts";
import { createSimSigner, type SimSigner } from "../../src/sim/provenance/signer.ts";

const COMMIT = randomBytes(20).toString("hex");
const build: SimBuild = {
  repository: "acme/plasmite",
  workflowPath: ".github/workflows/release.yml",
  ref: "refs/tags/v0.8.0",
  commit: COMMIT,
};
const publisher: SimBuild = { ...build, workflowPath: ".github/workflows/release-publish.yml", ref: "refs/heads/main" };
const expected: ExpectedIdentity = {
  repository: "acme/plasmite",
  commit: COMMIT,
  workflows: [".github/workflows/release.yml", "release-publish.yml"],
  refs: ["refs/tags/v0.8.0", "refs/heads/main"],
};
const asset = (name: string) => {
  const bytes = randomBytes(64);
  return { name, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

function serve(routes: Map<string, Uint8Array>): ProvenanceHttp {
  return (req) => {
    const body = routes.get(req.url);
    return Promise.resolve(body ? { status: 200, body } : { status: 404, body: json({ message: "Not Found" }) });
  };
}

describe("sim attestations through the fetch layer", () => {
  let signer: SimSigner;
  let verifier: BundleVerifier;
  before(async () => {
    signer = createSimSigner();
    verifier = await createBundleVerifier(simTrustRoot());
  });

  it("GitHub: bundle_url build provenance and the release attestation verify and match", async () => {
    const assets = [
      asset("plasmite-x86_64-linux.tar.gz"),
      asset("plasmite-aarch64-darwin.tar.gz"),
      asset("sha256sums.txt"),
    ];
    const built = assets.slice(0, 2);
    const buildBundle = await githubBuildBundle(
      signer,
      build,
      built.map((a) => ({ name: a.name, digest: { sha256: a.sha256 } })),
    );
    const releaseBundle = await githubReleaseBundle(signer, {
      repository: build.repository,
      tag: "v0.8.0",
      commit: COMMIT,
      assets: assets.map((a) => ({ name: a.name, digest: { sha256: a.sha256 } })),
    });
    const routes = new Map<string, Uint8Array>();
    const blob = "https://blob.sim.example/attestations/1.json.sn?sig=x";
    routes.set(blob, compress(json(buildBundle)));
    for (const a of built) {
      routes.set(
        `https://api.sim.example/repos/acme/plasmite/attestations/sha256:${a.sha256}?per_page=100`,
        json({
          attestations: [
            { bundle: releaseBundle, repository_id: 1, initiator: "github" },
            { bundle: null, bundle_url: blob, repository_id: 1, initiator: "user" },
          ],
        }),
      );
    }
    for (const a of built) {
      const got = await fetchGithubAttestations(serve(routes), {
        apiBase: "https://api.sim.example",
        repository: "acme/plasmite",
        sha256: a.sha256,
        bundleHosts: ["blob.sim.example"],
      });
      assert.equal(got.kind, "found");
      if (got.kind !== "found") return;
      const buildAtt = got.value.find((x) => githubAttestationKind(x.bundle) === "github-build")!;
      const cmp = compareAttestation(
        expected,
        { name: a.name, algorithm: "sha256", hex: a.sha256 },
        toEvidence(buildAtt.bundle, "github-build", verifier),
      );
      assert.deepEqual(cmp.findings, []);
      assert.equal(cmp.result.signature, "verified");
      assert.equal(cmp.result.commit, COMMIT);
      const rel = got.value.find((x) => githubAttestationKind(x.bundle) === "github-release")!;
      const relCmp = compareReleaseAttestation(
        expected,
        { tag: "v0.8.0", assets: new Map(assets.map((x) => [x.name, x.sha256])) },
        toEvidence(rel.bundle, "github-release", verifier),
      );
      assert.deepEqual(relCmp.findings, []);
      assert.equal(relCmp.result.signature, "verified");
    }
    const checksumFile = await fetchGithubAttestations(serve(routes), {
      apiBase: "https://api.sim.example",
      repository: "acme/plasmite",
      sha256: assets[2]!.sha256,
      bundleHosts: [],
    });
    assert.deepEqual(checksumFile, { kind: "none" });
  });

  it("npm: the publish + SLSA pair from a dispatched publisher verifies and matches", async () => {
    const tgz = randomBytes(128);
    const sha512Hex = createHash("sha512").update(tgz).digest("hex");
    const body = await npmAttestationsBody(
      signer,
      { name: "@acme/plasmite", version: "0.8.0", sha512Hex, registry: "https://npm.sim.example" },
      publisher,
    );
    const url = "https://npm.sim.example/-/npm/v1/attestations/@acme%2fplasmite@0.8.0";
    const got = await fetchNpmAttestations(serve(new Map([[url, json(body)]])), url);
    assert.equal(got.kind, "found");
    if (got.kind !== "found") return;
    const [publish, slsa] = got.value;
    assert.equal(verifier.verify(publish!.bundle, "npm-publish").status, "verified");
    const cmp = compareAttestation(
      expected,
      { name: "@acme/plasmite@0.8.0", algorithm: "sha512", hex: sha512Hex },
      toEvidence(slsa!.bundle, "npm-provenance", verifier),
    );
    assert.deepEqual(cmp.findings, []);
    assert.equal(cmp.result.ref, "refs/heads/main");
  });

  it("PyPI: the Integrity API body verifies, the commit coming from the certificate", async () => {
    const file = asset("plasmite-0.8.0-py3-none-any.whl");
    const body = await pypiProvenanceBody(signer, { filename: file.name, sha256: file.sha256 }, publisher);
    const url = `https://pypi.sim.example/integrity/plasmite/0.8.0/${file.name}/provenance`;
    const got = await fetchPypiProvenance(serve(new Map([[url, json(body)]])), {
      base: "https://pypi.sim.example",
      project: "plasmite",
      version: "0.8.0",
      filename: file.name,
    });
    assert.equal(got.kind, "found");
    if (got.kind !== "found") return;
    const ev = toEvidence(got.value[0]!.bundles[0], "pypi-publish", verifier);
    const cmp = compareAttestation(expected, { name: file.name, algorithm: "sha256", hex: file.sha256 }, ev);
    assert.deepEqual(cmp.findings, []);
    assert.equal(cmp.result.commit, COMMIT);
    assert.equal(
      compareAttestation(
        expected,
        { name: file.name, algorithm: "sha256", hex: file.sha256 },
        toEvidence(got.value[0]!.bundles[0], "pypi-publish", undefined),
      ).result.signature,
      "unknown",
    );
  });

  it("a build from another workflow is provenance-workflow-mismatch, from another commit provenance-commit-mismatch", async () => {
    const a = asset("plasmite.tar.gz");
    const subjects = [{ name: a.name, digest: { sha256: a.sha256 } }];
    const other = await githubBuildBundle(signer, { ...build, workflowPath: ".github/workflows/hand.yml" }, subjects);
    const forked = await githubBuildBundle(signer, { ...build, commit: randomBytes(20).toString("hex") }, subjects);
    const art = { name: a.name, algorithm: "sha256" as const, hex: a.sha256 };
    assert.deepEqual(
      compareAttestation(expected, art, toEvidence(other, "github-build", verifier)).findings.map((f) => f.code),
      ["provenance-workflow-mismatch"],
    );
    assert.deepEqual(
      compareAttestation(expected, art, toEvidence(forked, "github-build", verifier)).findings.map((f) => f.code),
      ["provenance-commit-mismatch"],
    );
  });
});
