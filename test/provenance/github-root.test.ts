/**
 * GitHub's own Sigstore instance: immutable-release attestations (SAN https://dotcom.releases.github.com, a TSA
 * timestamp, no transparency-log entry) are verified against GitHub's trusted root, chosen per bundle by the
 * certificate's issuer; without that root they are `unknown`, never `verified` and never a false finding.
 *
 * GitHub's `trusted_root.json` is not in ../shared/fixtures/provenance (its README: "Not found"), so the real-data
 * case runs only when one is provided: test/fixtures/provenance/trust-roots/github_trusted_root.json, or the file
 * named by PROVENANCE_GITHUB_TRUSTED_ROOT (e.g. the output of `gh attestation trusted-root`, JSON Lines accepted).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  compareReleaseAttestation,
  createBundleVerifier,
  loadGithubRoot,
  readTrustRoots,
  toEvidence,
  type BundleVerifier,
  type ExpectedIdentity,
  type TrustRoot,
} from "../../src/provenance/index.ts";
import { GITHUB_TUF_ROOT_JSON } from "../../src/provenance/roots/github-tuf-root.ts";
import { instanceOf } from "../../src/provenance/trust.ts";
import { simTrustRoot } from "../../src/sim/provenance/ca.ts";
import { createSimSigner } from "../../src/sim/provenance/signer.ts";
import { fixtureBytes, fixtureJson, publicGoodRoot, tamperPayload, tamperSignature } from "./helpers.ts";

type Json = Record<string, unknown>;
const V02 = "github/tracefold_cli-cli_v2.98.0_release-attestation_v0.2_resolved-bundle.json";
const V01 = "github/cli-cli_github_release_bundle.json";

const tmp = mkdtempSync(path.join(tmpdir(), "github-root-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function githubRootFile(): string | undefined {
  const local = fileURLToPath(new URL("../fixtures/provenance/trust-roots/github_trusted_root.json", import.meta.url));
  const env = process.env["PROVENANCE_GITHUB_TRUSTED_ROOT"];
  return [env, local].find((f): f is string => f !== undefined && f !== "" && existsSync(f));
}

/** The release the v0.2 attestation names: every subject but the tag purl (asset name → sha256). */
function releaseOf(bundle: Json): { tag: string; commit: string; assets: Map<string, string> } {
  const env = bundle["dsseEnvelope"] as { payload: string };
  const st = JSON.parse(Buffer.from(env.payload, "base64").toString("utf8")) as {
    subject: { name?: string; uri?: string; digest: Record<string, string> }[];
    predicate: { tag: string };
  };
  const assets = new Map<string, string>();
  let commit = "";
  for (const s of st.subject) {
    if (s.digest["sha1"]) commit = s.digest["sha1"];
    else if (s.name && s.digest["sha256"]) assets.set(s.name, s.digest["sha256"]);
  }
  return { tag: st.predicate.tag, commit, assets };
}

describe("GitHub's Sigstore instance", () => {
  let publicGoodOnly: BundleVerifier;
  before(async () => {
    publicGoodOnly = await createBundleVerifier(publicGoodRoot());
  });

  it("packages the TUF root.json of tuf-repo.github.com byte-for-byte from the fixtures", () => {
    assert.equal(
      GITHUB_TUF_ROOT_JSON,
      fixtureBytes("trust-roots/cli-cli_embed_tuf-repo.github.com_root.json").toString("utf8"),
    );
  });

  for (const file of [V02, V01]) {
    it(`${file}: without GitHub's root the release attestation is unknown, not invalid, and no finding`, () => {
      const bundle = fixtureJson(file);
      const out = publicGoodOnly.verify(bundle, "github-release");
      assert.equal(out.status, "unknown");
      assert.match(out.status === "unknown" ? out.reason : "", /GitHub, Inc\./);
      const ev = toEvidence(bundle, "github-release", publicGoodOnly);
      assert.equal(ev.kind === "attestation" ? ev.signature : "", "unknown");
      const rel = releaseOf(bundle);
      const expected: ExpectedIdentity = { repository: "x/y", commit: rel.commit, workflows: [], refs: [] };
      const cmp = compareReleaseAttestation(expected, { tag: rel.tag, assets: rel.assets }, ev);
      assert.equal(cmp.result.signature, "unknown");
      assert.ok(!cmp.findings.some((f) => f.code === "provenance-signature-invalid"));
    });
  }

  it("a certificate from a foreign CA is still invalid when every root was loaded", async () => {
    const simBundle = await createSimSigner().signWithCertificate(
      { _type: "https://in-toto.io/Statement/v1", subject: [{ name: "a", digest: { sha256: "00" } }] },
      { san: "https://dotcom.releases.github.com", issuer: "https://token.actions.githubusercontent.com" },
    );
    assert.equal(publicGoodOnly.verify(simBundle, "github-release").status, "invalid");
    const incomplete = await createBundleVerifier(publicGoodRoot(), { complete: false });
    assert.equal(incomplete.verify(simBundle, "github-release").status, "unknown");
  });

  it("picks the root per bundle: a public-good bundle and a sim bundle verify with one verifier over both roots", async () => {
    const both = await createBundleVerifier([simTrustRoot(), publicGoodRoot()]);
    const real = fixtureJson("github/cli-cli_reusable-workflow-attestation.sigstore.json");
    const pg = both.verify(real, "github-build");
    assert.equal(pg.status, "verified", pg.status === "verified" ? "" : pg.reason);
    const sha = randomBytes(32).toString("hex");
    const simBundle = await createSimSigner().signWithCertificate(
      { _type: "https://in-toto.io/Statement/v1", subject: [{ name: "a", digest: { sha256: sha } }] },
      { san: "https://dotcom.releases.github.com", issuer: "https://token.actions.githubusercontent.com" },
    );
    const sim = both.verify(simBundle, "github-release");
    assert.equal(sim.status, "verified", sim.status === "verified" ? "" : sim.reason);
    assert.equal(both.verify(tamperSignature(real), "github-build").status, "invalid");
  });

  it("reads a JSON Lines trusted-root file (gh attestation trusted-root) as one root per line", () => {
    const pg = JSON.stringify(publicGoodRoot().trustedRoot);
    const gh = JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
      certificateAuthorities: [{ uri: "fulcio.githubapp.com", certChain: { certificates: [] }, validFor: {} }],
    });
    const file = path.join(tmp, "roots.jsonl");
    writeFileSync(file, `${pg}\n${gh}\n`);
    const roots = readTrustRoots(file);
    assert.equal(roots.length, 2);
    assert.deepEqual(
      roots.map((r) => instanceOf(r.trustedRoot)),
      ["other", "github-instance"],
    );
    const single = path.join(tmp, "one.json");
    writeFileSync(single, pg);
    assert.deepEqual(
      readTrustRoots(single).map((r) => r.name),
      ["one.json"],
    );
  });

  it("offline with no cache, GitHub's root is not had (so its bundles stay unknown)", async () => {
    assert.equal(await loadGithubRoot({ cacheDir: path.join(tmp, "tuf"), offline: true }), undefined);
  });

  const file = githubRootFile();
  it(
    "with GitHub's real trusted root, both real immutable-release attestations verify and one-byte tampers fail",
    { skip: file === undefined ? "GitHub's trusted_root.json is not in the fixtures (see the header)" : false },
    async () => {
      const github: TrustRoot[] = readTrustRoots(file!).filter((r) => instanceOf(r.trustedRoot) === "github-instance");
      assert.ok(github.length > 0, `${file} holds no GitHub-instance root`);
      const verifier = await createBundleVerifier([publicGoodRoot(), ...github]);
      for (const f of [V02, V01]) {
        const bundle = fixtureJson(f);
        const ok = verifier.verify(bundle, "github-release");
        assert.equal(ok.status, "verified", `${f}: ${ok.status === "verified" ? "" : ok.reason}`);
        if (ok.status === "verified") assert.equal(ok.signer.san, "https://dotcom.releases.github.com");
        const rel = releaseOf(bundle);
        const expected: ExpectedIdentity = { repository: "x/y", commit: rel.commit, workflows: [], refs: [] };
        const good = compareReleaseAttestation(
          expected,
          { tag: rel.tag, assets: rel.assets },
          toEvidence(bundle, "github-release", verifier),
        );
        assert.equal(good.result.signature, "verified");
        assert.equal(good.result.subjects_matched, true);
        for (const bad of [tamperSignature(bundle), tamperPayload(bundle)]) {
          const out = verifier.verify(bad, "github-release");
          assert.equal(out.status, "invalid", f);
          const cmp = compareReleaseAttestation(
            expected,
            { tag: rel.tag, assets: rel.assets },
            toEvidence(bad, "github-release", verifier),
          );
          assert.deepEqual(
            cmp.findings.map((x) => x.code),
            ["provenance-signature-invalid"],
          );
        }
      }
    },
  );
});
