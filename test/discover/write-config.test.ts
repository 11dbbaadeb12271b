import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { loadConfigText } from "../../src/config/load.ts";
import { inferAssets } from "../../src/discover/assets.ts";
import { tapPlatforms } from "../../src/discover/homebrew.ts";
import { judgeCandidates, type Candidate, type RegistryAnswer } from "../../src/discover/judge.ts";
import { writeConfig, type DiscoveryResult } from "../../src/discover/write-config.ts";
import type { DiscoveredHomebrew } from "../../src/channels/homebrew/init.ts";
import { AppError } from "../../src/errors.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/homebrew/${name}`, import.meta.url), "utf8");
const load = (text: string) => loadConfigText(text, "discovered.yaml", process.cwd(), { env: {} });

function homebrewOf(file: string, tap: string, formula: string): DiscoveredHomebrew {
  const t = tapPlatforms(fixture(file));
  const sample = t.platforms[0] ?? null;
  return {
    tap,
    formula,
    kind: t.kind,
    platforms: t.platforms,
    platform_names: t.platform_names,
    sample_platform: sample ? (t.platform_names[sample] ?? sample) : null,
    sample_url: sample ? t.urls[sample]! : null,
  };
}

function plasmite(pypi: RegistryAnswer, settings: DiscoveryResult["settings"] = null): DiscoveryResult {
  const candidates: Candidate[] = [
    { channel: "crates", name: "plasmite", source: "Cargo.toml" },
    { channel: "npm", name: "plasmite", source: "bindings/node/package.json" },
    { channel: "pypi", name: "plasmite", source: "bindings/python/pyproject.toml" },
    { channel: "homebrew", name: "sandover/homebrew-tap:Formula/plasmite.rb", source: "tap sandover/homebrew-tap" },
  ];
  const holds = (minutes: number): RegistryAnswer => ({
    status: "holds",
    version: "0.8.0",
    published_at: new Date(Date.parse("2026-07-29T02:20:00Z") + minutes * 60_000).toISOString(),
  });
  const answers = new Map<string, RegistryAnswer>([
    ["crates:plasmite", holds(4)],
    ["npm:plasmite", holds(6)],
    ["pypi:plasmite", pypi],
    ["homebrew:sandover/homebrew-tap:Formula/plasmite.rb", { status: "holds", version: "0.8.0", published_at: null }],
  ]);
  return {
    name: "plasmite",
    repo: "sandover/plasmite",
    tag: "v0.8.0",
    version: "0.8.0",
    tag_prefix: "v",
    assets: inferAssets(
      [
        "plasmite_0.8.0_linux_amd64.tar.gz",
        "plasmite_0.8.0_darwin_amd64.tar.gz",
        "plasmite_0.8.0_darwin_arm64.tar.gz",
        "sha256sums.txt",
      ],
      "v0.8.0",
      "0.8.0",
    ),
    targets_manifest: "release/targets.json",
    judgement: judgeCandidates(candidates, answers, { version: "0.8.0", published_at: "2026-07-29T02:20:00Z" }),
    details: {
      homebrew: homebrewOf(
        "sandover-tap_plasmite_0.8.0_handwritten.rb",
        "sandover/homebrew-tap",
        "Formula/plasmite.rb",
      ),
    },
    settings,
  };
}

test("writeConfig: a plasmite-shaped discovery passes the current config schema with all five channels", () => {
  const text = writeConfig(plasmite({ status: "holds", version: "0.8.0", published_at: null }));
  const { config } = load(text);
  const p = config.projects[0]!;
  assert.equal(p.repo, "sandover/plasmite");
  assert.equal(p.targets_manifest, "release/targets.json");
  assert.deepEqual(p.channels.github, {
    platforms: ["darwin_amd64", "darwin_arm64", "linux_amd64"],
    assets: ["plasmite_{version}_{platform}.tar.gz"],
    checksums: "sha256sums.txt",
  });
  assert.equal(p.channels.crates?.crate, "plasmite");
  assert.equal(p.channels.npm?.package, "plasmite");
  assert.equal(p.channels.pypi?.project, "plasmite");
  assert.deepEqual(
    { tap: p.channels.homebrew?.tap, formula: p.channels.homebrew?.formula, url: p.channels.homebrew?.url },
    {
      tap: "sandover/homebrew-tap",
      formula: "Formula/plasmite.rb",
      url: "https://github.com/{repo}/releases/download/{tag}/plasmite_{version}_{platform}.tar.gz",
    },
  );
  assert.deepEqual(p.grace, { crates: "8m", npm: "12m", pypi: "20m", homebrew: "30m" });
  assert.doesNotMatch(text, /could not verify/);
  assert.match(text, /# from bindings\/node\/package.json/);
});

test("writeConfig: a registry that could not tell keeps its channel with a `# could not verify` comment", () => {
  const text = writeConfig(plasmite({ status: "unknown", reason: "pypi answered HTTP 503" }));
  assert.match(
    text,
    /# could not verify: pypi answered HTTP 503\n\s+# from bindings\/python\/pyproject.toml\n\s+pypi:/,
  );
  assert.equal(load(text).config.projects[0]!.channels.pypi?.project, "plasmite");
});

test("writeConfig: settings are copied with ${VAR} references intact; a literal secret is refused by name", () => {
  const settings = {
    github: { api_url: "http://127.0.0.1:4010", token: "${GITHUB_TOKEN}" },
    npm: { registry: "http://127.0.0.1:4011/" },
  };
  const text = writeConfig(plasmite({ status: "holds", version: "0.8.0", published_at: null }, settings));
  assert.match(text, /token: \$\{GITHUB_TOKEN\}/);
  assert.equal(
    loadConfigText(text, "d.yaml", process.cwd(), { env: { GITHUB_TOKEN: "t0ken" } }).config.settings.github.api_url,
    "http://127.0.0.1:4010",
  );

  const leaky = {
    github: { token: "ghp_literal" },
    alerts: { sinks: [{ type: "slack", webhook_url: "https://hooks.example/T/B/x" }] },
  };
  assert.throws(
    () => writeConfig(plasmite({ status: "holds", version: "0.8.0", published_at: null }, leaky)),
    (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === "E_CONFIG_INVALID");
      assert.match(err.message, /settings\.github\.token: a secret must be a \$\{VAR\} reference/);
      assert.match(err.message, /settings\.alerts\.sinks\[0\]\.webhook_url/);
      assert.doesNotMatch(err.message, /ghp_literal|hooks\.example/);
      return true;
    },
  );
});

test("writeConfig: GoReleaser names become {platform} with the project's platform_names; its cask is configured", () => {
  const assets = inferAssets(
    [
      "goreleaser_Darwin_x86_64.tar.gz",
      "goreleaser_Darwin_arm64.tar.gz",
      "goreleaser_Linux_x86_64.tar.gz",
      "goreleaser_Linux_arm64.tar.gz",
      "checksums.txt",
    ],
    "v2.17.1",
    "2.17.1",
  );
  const homebrew = homebrewOf(
    "goreleaser-tap_goreleaser_2.17.1_goreleaser-cask.rb",
    "goreleaser/homebrew-tap",
    "Casks/goreleaser.rb",
  );
  const cand: Candidate = {
    channel: "homebrew",
    name: "goreleaser/homebrew-tap:Casks/goreleaser.rb",
    source: "tap goreleaser/homebrew-tap",
  };
  const judgement = judgeCandidates(
    [cand],
    new Map([
      [
        "homebrew:goreleaser/homebrew-tap:Casks/goreleaser.rb",
        { status: "holds", version: "2.17.1", published_at: null } as const,
      ],
    ]),
    { version: "2.17.1", published_at: null },
  );
  const text = writeConfig({
    name: "goreleaser",
    repo: "goreleaser/goreleaser",
    tag: "v2.17.1",
    version: "2.17.1",
    tag_prefix: "v",
    assets,
    targets_manifest: null,
    judgement,
    details: { homebrew },
    settings: null,
  });
  const p = load(text).config.projects[0]!;
  assert.deepEqual(p.channels.github?.assets, ["goreleaser_{platform}.tar.gz"]);
  assert.deepEqual(p.channels.github?.platforms, ["darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64"]);
  assert.deepEqual(p.platform_names, {
    darwin_amd64: "Darwin_x86_64",
    darwin_arm64: "Darwin_arm64",
    linux_amd64: "Linux_x86_64",
    linux_arm64: "Linux_arm64",
  });
  assert.equal(p.channels.github?.checksums, "checksums.txt");
  // The cask spells platforms as the assets do: one `platform_names` serves both channels.
  assert.equal(p.channels.homebrew?.formula, "Casks/goreleaser.rb");
  assert.match(
    p.channels.homebrew?.url ?? "",
    /^https:\/\/github\.com\/\{repo\}\/releases\/download\/\{tag\}\/goreleaser_\{platform\}\.tar\.gz$/,
  );
});

test("writeConfig: cargo-dist names become {target} with platform_names and sidecars checksums: { sidecar }; a release without assets is said in a comment", () => {
  const judgement = judgeCandidates([], new Map(), { version: "0.6.5", published_at: null });
  const base = {
    name: "oranda",
    repo: "axodotdev/oranda",
    tag: "v0.6.5",
    version: "0.6.5",
    tag_prefix: "v",
    targets_manifest: null,
    judgement,
    details: {},
    settings: null,
  };
  const sidecars = inferAssets(
    ["oranda-x86_64-apple-darwin.tar.xz", "oranda-x86_64-apple-darwin.tar.xz.sha256"],
    "v0.6.5",
    "0.6.5",
  );
  const text = writeConfig({ ...base, assets: sidecars });
  assert.deepEqual(load(text).config.projects[0]!.channels.github, {
    platforms: ["darwin_amd64"],
    assets: ["oranda-{target}.tar.xz"],
    checksums: { sidecar: ".sha256" },
  });
  assert.deepEqual(load(text).config.projects[0]!.platform_names, { darwin_amd64: "x86_64-apple-darwin" });
  assert.match(text, /# checksums: a .sha256 sidecar beside each asset \(cargo-dist\), checked against it/);

  const extras = inferAssets(
    [
      "oranda-x86_64-apple-darwin.tar.xz",
      "oranda-x86_64-apple-darwin.tar.xz.sha256",
      "oranda-installer.sh",
      "oranda-0.6.5.sbom.json",
    ],
    "v0.6.5",
    "0.6.5",
  );
  const withExtras = writeConfig({ ...base, assets: extras });
  assert.deepEqual(load(withExtras).config.projects[0]!.channels.github?.extra_assets, [
    "oranda-installer.sh",
    "oranda-{version}.sbom.json",
  ]);
  assert.match(
    withExtras,
    /# extra_assets: files the release carried that match no template \(allowed, not required\)/,
  );

  const crates: Candidate = { channel: "crates", name: "oranda", source: "Cargo.toml" };
  const withCrate = judgeCandidates(
    [crates],
    new Map([["crates:oranda", { status: "holds", version: "0.6.5", published_at: null } as const]]),
    { version: "0.6.5", published_at: null },
  );
  const none = writeConfig({ ...base, judgement: withCrate, assets: inferAssets([], "v0.6.5", "0.6.5") });
  assert.deepEqual(load(none).config.projects[0]!.channels.github, { assets: [], checksums: null });
  assert.match(none, /# release v0.6.5 has no assets: only the tag and the release are checked\n\s+github:/);
});

test("writeConfig: a release carrying only Python files is github assets: [], and pypi takes PyPI's wheel platforms", () => {
  const files = ["quillpy-0.8.0.tar.gz", "quillpy-0.8.0-cp311-cp311-win_amd64.whl"];
  const pypi: Candidate = { channel: "pypi", name: "quillpy", source: "pyproject.toml" };
  const answer = { status: "holds", version: "0.8.0", published_at: null };
  const judgement = judgeCandidates([pypi], new Map([["pypi:quillpy", answer as RegistryAnswer]]), {
    version: "0.8.0",
    published_at: null,
  });
  const text = writeConfig({
    name: "quill",
    repo: "inkwell/quill",
    tag: "v0.8.0",
    version: "0.8.0",
    tag_prefix: "v",
    targets_manifest: null,
    judgement,
    details: { pypi: { files } },
    settings: null,
    assets: inferAssets(files, "v0.8.0", "0.8.0"),
  });
  const channels = load(text).config.projects[0]!.channels;
  assert.deepEqual(channels.github, { assets: [], checksums: null });
  assert.equal(channels.pypi?.project, "quillpy");
  assert.deepEqual(channels.pypi?.platforms, ["windows_amd64"]);
  assert.match(
    text,
    /only Python files \(one sdist and one wheel\): the pypi channel compares them with PyPI's copies/,
  );
});
