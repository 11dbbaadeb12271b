/**
 * Sigstore loads only when a verifier is made (a child process proves importing the module does not load it), and
 * with no trusted root available offline signatures are `unknown`, never `verified`.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { compareAttestation, loadPublicGoodRoot, toEvidence } from "../../src/provenance/index.ts";
import { fixtureJson } from "./helpers.ts";

const INDEX = new URL("../../src/provenance/index.ts", import.meta.url).href;

describe("lazy loading", () => {
  it("importing the provenance module loads no Sigstore library; creating a verifier does", () => {
    const script = `
      import { createRequire } from "node:module";
      const req = createRequire(import.meta.url);
      const loaded = () => Object.keys(req.cache).some((k) => k.includes("@sigstore"));
      const mod = await import(${JSON.stringify(INDEX)});
      const before = loaded();
      await mod.createBundleVerifier({ name: "empty", trustedRoot: { mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] } });
      process.stdout.write(JSON.stringify({ before, after: loaded() }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(out), { before: false, after: true });
  });
});

describe("no trusted root offline", () => {
  it("loadPublicGoodRoot gives undefined offline with an empty cache", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "prov-tuf-"));
    try {
      assert.equal(await loadPublicGoodRoot({ cacheDir: dir, offline: true }), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a real bundle is then signature unknown, never verified", () => {
    const bundle = fixtureJson("github/cli-cli_custom-issuer.sigstore.json");
    const ev = toEvidence(bundle, "github-build", undefined);
    const out = compareAttestation(
      { repository: "too-legit/attest", commit: undefined, workflows: ["integration.yml"], refs: ["refs/heads/main"] },
      {
        name: "artifact",
        algorithm: "sha256",
        hex: "afa27b44d43b02a9fea41d13cedc2e4016cfcf87c5dbf990e593669aa8ce286d",
      },
      ev,
    );
    assert.equal(out.result.signature, "unknown");
    assert.equal(out.result.subjects_matched, true);
    assert.deepEqual(out.findings, []);
  });
});
