import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { summarizeObservation } from "../../src/report/assemble.ts";
import { contextLabel } from "../../src/channels/homebrew/summary.ts";
import { publicUrl } from "../../src/http/public-url.ts";
import {
  ASSET_SHA,
  CRATE_SHA,
  NPM_SHA1,
  NPM_SHA512,
  PYPI_FILES,
  SUMS,
  TAG,
  assetName,
  assetUrl,
  crates,
  github,
  githubUnreleased,
  homebrew,
  npm,
  pypi,
} from "./builders.ts";

describe("summarizeObservation (report@1 observed)", () => {
  it("github: tag, commit, release flags, assets, checksums, latest", () => {
    const s = summarizeObservation(github());
    assert.equal(s["tag"], TAG);
    assert.equal(s["tag_exists"], true);
    assert.equal(s["commit"], "2fb2117aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert.deepEqual(s["release"], {
      draft: false,
      prerelease: false,
      published_at: "2026-07-29T02:20:00Z",
      html_url: "https://github.com/sandover/plasmite/releases/tag/v0.8.0",
    });
    const assets = s["assets"] as { name: string; size: number; state: string; digest: string | null }[];
    assert.equal(assets.length, 4);
    assert.deepEqual(Object.keys(assets[0]!).sort(), ["digest", "name", "size", "state"]);
    const arm = assets.find((a) => a.name === assetName("darwin_arm64"))!;
    assert.equal(arm.digest, `sha256:${ASSET_SHA[assetName("darwin_arm64")]}`);
    assert.deepEqual((s["checksums"] as { name: string; invalid_lines: number }).name, SUMS);
    assert.equal((s["checksums"] as { invalid_lines: number }).invalid_lines, 0);
    assert.equal(s["latest"], TAG);
    assert.equal(s["downloads"], null);
  });

  it("github without a release", () => {
    const s = summarizeObservation(githubUnreleased());
    assert.equal(s["release"], null);
    assert.deepEqual(s["assets"], []);
    assert.equal(s["latest"], "v0.7.2");
  });

  it("crates: version, checksum, yanked, index latest", () => {
    const s = summarizeObservation(
      crates((o) => o.index.entries.push({ vers: "0.9.0", cksum: "x", yanked: true, pubtime: null })),
    );
    assert.deepEqual(s, {
      crate: "plasmite",
      version: "0.8.0",
      checksum: CRATE_SHA,
      yanked: false,
      yank_message: null,
      index: { found: true, versions: 3, latest: "0.8.0" },
      download_sha256: null,
    });
  });

  it("npm: latest dist-tag, presence, integrity, shasum, tarball, deprecated", () => {
    const s = summarizeObservation(
      npm((o) => (o.version_doc!.tarball = "https://npm-registry.example/plasmite/-/plasmite-0.8.0.tgz?token=abc")),
    );
    assert.equal(s["latest"], "0.8.0");
    assert.equal(s["version_present"], true);
    assert.equal(s["integrity"], `sha512-${NPM_SHA512}`);
    assert.equal(s["shasum"], NPM_SHA1);
    assert.equal(s["tarball"], "https://npm-registry.example/plasmite/-/plasmite-0.8.0.tgz");
    assert.equal(s["deprecated"], null);
  });

  it("pypi: latest and files", () => {
    const s = summarizeObservation(pypi());
    assert.equal(s["latest"], "0.8.0");
    const files = s["files"] as Record<string, unknown>[];
    assert.equal(files.length, 4);
    assert.deepEqual(Object.keys(files[0]!).sort(), ["filename", "packagetype", "sha256", "yanked"]);
    assert.ok(files.some((f) => f["filename"] === PYPI_FILES.darwin_arm64 && f["packagetype"] === "bdist_wheel"));
    assert.equal("notes" in s, false);
  });

  it("homebrew: version and artifacts by platform", () => {
    const s = summarizeObservation(homebrew());
    assert.equal(s["version"], "0.8.0");
    const artifacts = s["artifacts"] as { platform: string; url: string; sha256: string }[];
    assert.deepEqual(
      artifacts.map((a) => a.platform),
      ["macos/arm", "macos/intel", "linux/intel"],
    );
    assert.equal(artifacts[0]!.url, assetUrl("darwin_arm64"));
    assert.deepEqual(s["unsupported"], ["linux/arm"]);
  });

  it("is JSON-safe", () => {
    for (const o of [github(), crates(), npm(), pypi(), homebrew()]) {
      const s = summarizeObservation(o);
      assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    }
  });
});

describe("helpers", () => {
  it("publicUrl drops credentials, query and fragment", () => {
    assert.equal(publicUrl("https://u:p@host.example/a/b?token=s3cret#x"), "https://host.example/a/b");
    assert.equal(publicUrl("not a url?q=1"), "not a url");
  });
  it("contextLabel", () => {
    assert.equal(contextLabel({ os: null, cpu: null }), "any");
    assert.equal(contextLabel({ os: "linux", cpu: null }), "linux");
    assert.equal(contextLabel({ os: null, cpu: "arm" }), "any/arm");
  });
});
