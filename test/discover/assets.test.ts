import assert from "node:assert/strict";
import { test } from "node:test";
import { inferAssets, rustTargetPlatform } from "../../src/discover/assets.ts";

// Asset names: see test/fixtures/discover/README.md for where each list comes from.
const cases = [
  {
    name: "plasmite v0.8.0: SDK tarballs + sha256sums.txt",
    assets: [
      "plasmite_0.8.0_linux_amd64.tar.gz",
      "plasmite_0.8.0_darwin_amd64.tar.gz",
      "plasmite_0.8.0_darwin_arm64.tar.gz",
      "sha256sums.txt",
    ],
    tag: "v0.8.0",
    version: "0.8.0",
    templates: [
      { template: "plasmite_{version}_{platform}.tar.gz", platforms: ["darwin_amd64", "darwin_arm64", "linux_amd64"] },
    ],
    platform_names: {},
    checksums: { file: "sha256sums.txt" },
    unmatched: [],
  },
  {
    name: "GoReleaser 2.17.1 (cask urls): Darwin_x86_64 style, no version in the name, checksums.txt",
    assets: [
      "goreleaser_Darwin_x86_64.tar.gz",
      "goreleaser_Darwin_arm64.tar.gz",
      "goreleaser_Linux_x86_64.tar.gz",
      "goreleaser_Linux_arm64.tar.gz",
      "checksums.txt",
    ],
    tag: "v2.17.1",
    version: "2.17.1",
    templates: [
      {
        template: "goreleaser_{platform}.tar.gz",
        platforms: ["darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64"],
      },
    ],
    platform_names: {
      darwin_amd64: "Darwin_x86_64",
      darwin_arm64: "Darwin_arm64",
      linux_amd64: "Linux_x86_64",
      linux_arm64: "Linux_arm64",
    },
    checksums: { file: "checksums.txt" },
    unmatched: [],
  },
  {
    name: "GoReleaser default name_template: <name>_<version>_<os>_<arch>, zip on windows, <name>_<version>_checksums.txt",
    assets: [
      "gh-tool_1.4.0_darwin_amd64.tar.gz",
      "gh-tool_1.4.0_linux_arm64.tar.gz",
      "gh-tool_1.4.0_windows_amd64.zip",
      "gh-tool_1.4.0_checksums.txt",
      "install.sh",
    ],
    tag: "v1.4.0",
    version: "1.4.0",
    templates: [
      { template: "gh-tool_{version}_{platform}.tar.gz", platforms: ["darwin_amd64", "linux_arm64"] },
      { template: "gh-tool_{version}_{platform}.zip", platforms: ["windows_amd64"] },
    ],
    platform_names: {},
    checksums: { file: "gh-tool_1.4.0_checksums.txt" },
    unmatched: ["install.sh"],
  },
  {
    name: "cargo-dist oranda 0.6.5 (formula urls): <name>-<rust-target>.tar.xz with .sha256 sidecars",
    assets: [
      "oranda-aarch64-apple-darwin.tar.xz",
      "oranda-aarch64-apple-darwin.tar.xz.sha256",
      "oranda-x86_64-apple-darwin.tar.xz",
      "oranda-x86_64-apple-darwin.tar.xz.sha256",
      "oranda-x86_64-unknown-linux-gnu.tar.xz",
      "oranda-x86_64-unknown-linux-gnu.tar.xz.sha256",
      "oranda-installer.sh",
    ],
    tag: "v0.6.5",
    version: "0.6.5",
    templates: [{ template: "oranda-{target}.tar.xz", platforms: ["darwin_amd64", "darwin_arm64", "linux_amd64"] }],
    platform_names: {
      darwin_arm64: "aarch64-apple-darwin",
      darwin_amd64: "x86_64-apple-darwin",
      linux_amd64: "x86_64-unknown-linux-gnu",
    },
    checksums: { sidecar: ".sha256" },
    unmatched: ["oranda-installer.sh"],
  },
  {
    name: "SHA256SUMS (any case) wins over sidecars; {tag} names",
    assets: [
      "tool-v1.0.0-x86_64-unknown-linux-musl.tar.gz",
      "tool-v1.0.0-x86_64-unknown-linux-musl.tar.gz.sha256",
      "SHA256SUMS",
    ],
    tag: "v1.0.0",
    version: "1.0.0",
    templates: [{ template: "tool-{tag}-{target}.tar.gz", platforms: ["linuxmusl_amd64"] }],
    platform_names: { linuxmusl_amd64: "x86_64-unknown-linux-musl" },
    checksums: { file: "SHA256SUMS" },
    unmatched: [],
  },
  {
    name: "real cargo-dist: sidecars and a unified sha256.sum; the sidecars win, sha256.sum, installers, manifest and source stay unmatched",
    assets: [
      "rivet-aarch64-apple-darwin.tar.xz",
      "rivet-aarch64-apple-darwin.tar.xz.sha256",
      "rivet-x86_64-unknown-linux-gnu.tar.xz",
      "rivet-x86_64-unknown-linux-gnu.tar.xz.sha256",
      "rivet-installer.sh",
      "rivet-installer.ps1",
      "dist-manifest.json",
      "source.tar.gz",
      "source.tar.gz.sha256",
      "sha256.sum",
    ],
    tag: "v0.8.0",
    version: "0.8.0",
    templates: [{ template: "rivet-{target}.tar.xz", platforms: ["darwin_arm64", "linux_amd64"] }],
    platform_names: { darwin_arm64: "aarch64-apple-darwin", linux_amd64: "x86_64-unknown-linux-gnu" },
    checksums: { sidecar: ".sha256" },
    unmatched: [
      "rivet-installer.sh",
      "rivet-installer.ps1",
      "dist-manifest.json",
      "source.tar.gz",
      "source.tar.gz.sha256",
      "sha256.sum",
    ],
  },
  {
    name: "cargo-dist's unified sha256.sum without sidecars is the checksum file",
    assets: ["rivet-x86_64-unknown-linux-gnu.tar.xz", "sha256.sum"],
    tag: "v0.8.0",
    version: "0.8.0",
    templates: [{ template: "rivet-{target}.tar.xz", platforms: ["linux_amd64"] }],
    platform_names: { linux_amd64: "x86_64-unknown-linux-gnu" },
    checksums: { file: "sha256.sum" },
    unmatched: [],
  },
  {
    name: "a release without assets",
    assets: [],
    tag: "v3.0.0",
    version: "3.0.0",
    templates: [],
    platform_names: {},
    checksums: null,
    unmatched: [],
  },
];

for (const c of cases) {
  test(`inferAssets: ${c.name}`, () => {
    const got = inferAssets(c.assets, c.tag, c.version);
    assert.deepEqual(got.templates, c.templates);
    assert.deepEqual(got.platform_names, c.platform_names);
    assert.deepEqual(got.checksums, c.checksums);
    assert.deepEqual(got.unmatched, c.unmatched);
    assert.deepEqual(got.platforms, [...new Set(c.templates.flatMap((t) => t.platforms))].sort());
  });
}

test("inferAssets: an sdist beside wheels is a python file, not a release template; {tag} when the name has the tag", () => {
  const got = inferAssets(
    [
      "pkg-2.1.0.tar.gz",
      "pkg-2.1.0-py3-none-any.whl",
      "pkg-2.1.0-cp311-cp311-macosx_11_0_arm64.whl",
      "tool-v2.1.0-linux-x64.tar.gz",
    ],
    "v2.1.0",
    "2.1.0",
  );
  assert.deepEqual(got.python_files.sort(), [
    "pkg-2.1.0-cp311-cp311-macosx_11_0_arm64.whl",
    "pkg-2.1.0-py3-none-any.whl",
    "pkg-2.1.0.tar.gz",
  ]);
  assert.deepEqual(got.templates, [{ template: "tool-{tag}-{platform}.tar.gz", platforms: ["linux_amd64"] }]);
  assert.deepEqual(got.platform_names, { linux_amd64: "linux-x64" });
  assert.equal(got.checksums, null);
});

test("rustTargetPlatform maps triples to platform ids and refuses partial matches", () => {
  const table: [string, string | null][] = [
    ["aarch64-apple-darwin", "darwin_arm64"],
    ["x86_64-unknown-linux-gnu", "linux_amd64"],
    ["x86_64-unknown-linux-musl", "linuxmusl_amd64"],
    ["x86_64-pc-windows-msvc", "windows_amd64"],
    ["x86_64-pc-windows-gnu", "windowsgnu_amd64"],
    ["oranda-x86_64-apple-darwin", null],
    ["darwin_arm64", null],
  ];
  for (const [triple, id] of table) assert.equal(rustTargetPlatform(triple), id, triple);
});
