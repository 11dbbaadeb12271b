import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { normalizePypiName } from "../../src/channels/pypi/init.ts";
import { pickRepoFiles, readRepoFiles, readTargetsJson } from "../../src/discover/repo-files.ts";

/** One manifest read through the channels' readers (src/channels/<id>/init.ts). */
function readOne(channel: string, text: string, path: string) {
  const got = readRepoFiles(new Map([[path, text]]));
  return { names: got.names[channel] ?? [], more: got.more_manifests, problems: got.problems };
}
const readCargoToml = (text: string, path = "Cargo.toml") => {
  const r = readOne("crates", text, path);
  return { crates: r.names, cargo_members: r.more, problems: r.problems };
};
const readPackageJson = (text: string, path = "package.json") => {
  const r = readOne("npm", text, path);
  return { npm: r.names, problems: r.problems };
};
const readPyproject = (text: string, path = "pyproject.toml") => {
  const r = readOne("pypi", text, path);
  return { pypi: r.names, problems: r.problems };
};

test("pickRepoFiles: root and bindings manifests, targets.json, nothing under node_modules, bounded", () => {
  const tree = [
    "README.md",
    "Cargo.toml",
    "src/main.rs",
    "release/targets.json",
    "bindings/node/package.json",
    "bindings/node/node_modules/x/package.json",
    "bindings/python/pyproject.toml",
    "examples/demo/package.json",
    "crates/core/Cargo.toml",
  ];
  assert.deepEqual(pickRepoFiles(tree), [
    "Cargo.toml",
    "release/targets.json",
    "bindings/node/package.json",
    "bindings/python/pyproject.toml",
    "crates/core/Cargo.toml",
  ]);
  assert.deepEqual(pickRepoFiles(tree, 2), ["Cargo.toml", "release/targets.json"]);
});

test("readCargoToml: package name, publish = false skipped, workspace members resolved, bad TOML a problem", () => {
  const table: [string, string, string[], string[]][] = [
    ["Cargo.toml", '[package]\nname = "plasmite"\nversion = "0.8.0"\n', ["plasmite"], []],
    ["Cargo.toml", '[package]\nname = "xtask"\npublish = false\n', [], []],
    ["Cargo.toml", '[package]\nname = "internal"\npublish = []\n', [], []],
    [
      "Cargo.toml",
      '[workspace]\nmembers = ["crates/core", "crates/cli", "crates/*"]\n',
      [],
      ["crates/core/Cargo.toml", "crates/cli/Cargo.toml"],
    ],
    ["sub/Cargo.toml", '[workspace]\nmembers = ["a"]\n', [], ["sub/a/Cargo.toml"]],
  ];
  for (const [path, text, crates, members] of table) {
    const got = readCargoToml(text, path);
    assert.deepEqual(got.crates, crates, text);
    assert.deepEqual(got.cargo_members, members, text);
    assert.deepEqual(got.problems, []);
  }
  assert.match(readCargoToml("[package\nname=", "Cargo.toml").problems[0]!, /^Cargo\.toml: not valid TOML/);
});

test("readPackageJson: scoped names kept, private skipped", () => {
  assert.deepEqual(readPackageJson('{"name":"@scope/lib","version":"1.0.0"}').npm, ["@scope/lib"]);
  assert.deepEqual(readPackageJson('{"name":"ws-root","private":true}').npm, []);
  assert.deepEqual(readPackageJson("{oops", "bindings/node/package.json").problems, [
    "bindings/node/package.json: not valid JSON",
  ]);
});

test("readPyproject: [project].name, PEP 503 normalised", () => {
  assert.deepEqual(readPyproject('[project]\nname = "Plasmite_SDK.core"\n').pypi, ["plasmite-sdk-core"]);
  assert.deepEqual(readPyproject('[tool.poetry]\nname = "x"\n').pypi, []);
  assert.equal(normalizePypiName("Foo__Bar--baz"), "foo-bar-baz");
});

test("readTargetsJson: plasmite's release/targets.json official platforms per channel", () => {
  const text = readFileSync(new URL("../fixtures/discover/plasmite-release-targets.json", import.meta.url), "utf8");
  const got = readTargetsJson(text);
  assert.deepEqual(got.problems, []);
  assert.deepEqual(got.official["github_sdk"], ["linux_amd64", "darwin_amd64", "darwin_arm64"]);
  assert.deepEqual(got.official["pypi"], ["darwin_amd64", "darwin_arm64", "windows_amd64"]);
  assert.deepEqual(got.official["homebrew"], ["linux_amd64", "darwin_amd64", "darwin_arm64"]);
  assert.equal(readTargetsJson('{"schema_version":2,"targets":[]}').problems.length, 1);
});

test("readRepoFiles: a plasmite-shaped repo yields one crate, one npm package, one PyPI project", () => {
  const files = new Map([
    ["Cargo.toml", '[package]\nname = "plasmite"\n\n[workspace]\nmembers = ["xtask"]\n'],
    ["bindings/node/package.json", '{"name":"plasmite","version":"0.8.0"}'],
    ["bindings/python/pyproject.toml", '[project]\nname = "plasmite"\n'],
  ]);
  const got = readRepoFiles(files);
  assert.deepEqual(
    { crates: got.names["crates"], npm: got.names["npm"], pypi: got.names["pypi"], cargo_members: got.more_manifests },
    { crates: ["plasmite"], npm: ["plasmite"], pypi: ["plasmite"], cargo_members: ["xtask/Cargo.toml"] },
  );
  assert.deepEqual(got.candidates, [
    { channel: "crates", name: "plasmite", source: "Cargo.toml" },
    { channel: "npm", name: "plasmite", source: "bindings/node/package.json" },
    { channel: "pypi", name: "plasmite", source: "bindings/python/pyproject.toml" },
  ]);
});
