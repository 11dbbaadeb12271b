import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { candidatePaths, candidateTaps, tapPlatforms } from "../../src/discover/homebrew.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/homebrew/${name}`, import.meta.url), "utf8");

test("candidate taps and paths", () => {
  assert.deepEqual(candidateTaps("sandover", "plasmite"), ["sandover/homebrew-tap", "sandover/homebrew-plasmite"]);
  assert.deepEqual(candidateTaps("acme", "tap"), ["acme/homebrew-tap"]);
  assert.deepEqual(candidatePaths("goreleaser"), ["Formula/goreleaser.rb", "goreleaser.rb", "Casks/goreleaser.rb"]);
});

const cases = [
  {
    file: "goreleaser-tap_goreleaser_2.17.1_goreleaser-cask.rb",
    kind: "cask",
    platforms: ["darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64"],
    platform_names: {
      darwin_amd64: "Darwin_x86_64",
      darwin_arm64: "Darwin_arm64",
      linux_amd64: "Linux_x86_64",
      linux_arm64: "Linux_arm64",
    },
    url: [
      "darwin_arm64",
      "https://github.com/goreleaser/goreleaser/releases/download/v2.17.1/goreleaser_Darwin_arm64.tar.gz",
    ],
  },
  {
    file: "axodotdev-tap_oranda_0.6.5_cargo-dist-generated_non-github-urls.rb",
    kind: "formula",
    platforms: ["darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64"],
    platform_names: {
      darwin_amd64: "x86_64-apple-darwin",
      darwin_arm64: "aarch64-apple-darwin",
      linux_amd64: "x86_64-unknown-linux-gnu",
      linux_arm64: "aarch64-unknown-linux-gnu",
    },
    url: [
      "linux_amd64",
      "https://axodotdev.artifacts.axodotdev.host/oranda/ax_Vu5Pz4aAI6baDUKPCU4eQ/oranda-x86_64-unknown-linux-gnu.tar.gz",
    ],
  },
  {
    file: "sandover-tap_plasmite_0.8.0_handwritten.rb",
    kind: "formula",
    platforms: ["darwin_amd64", "darwin_arm64", "linux_amd64"],
    platform_names: {},
    url: [
      "darwin_arm64",
      "https://github.com/sandover/plasmite/releases/download/v0.8.0/plasmite_0.8.0_darwin_arm64.tar.gz",
    ],
  },
] as const;

for (const c of cases) {
  test(`tapPlatforms reads ${c.file} with the homebrew probe's parser`, () => {
    const got = tapPlatforms(fixture(c.file));
    assert.equal(got.kind, c.kind);
    assert.deepEqual(got.platforms, c.platforms);
    assert.deepEqual(got.platform_names, c.platform_names);
    assert.equal(got.urls[c.url[0]], c.url[1]);
  });
}
