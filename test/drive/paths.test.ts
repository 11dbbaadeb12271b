/** Pure parts of the recovery paths: bypass inputs from a workflow file, conditional gates, the attestation check. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bypassInputs, dispatchInputNames, parseSkipChannels } from "../../src/drive/bypass.ts";
import { statementProblems } from "../../src/drive/immutable.ts";
import { conditionVerdict } from "../../src/drive/steps/gates/index.ts";
import { UsageError } from "../../src/errors.ts";

// plasmite's release-publish.yml trigger at HEAD (plasmite-release.md §3), and as it was in b5a1b35.
const CURRENT = `name: release-publish
on:
  workflow_dispatch:
    inputs:
      build_run_id: { type: string, required: false, default: "" }
      release_tag: { type: string, required: false, default: "" }
      rehearsal: { type: boolean, default: false }
jobs: {}
`;
const HISTORIC = CURRENT.replace(
  "      rehearsal:",
  "      skip_npm: { type: boolean, default: false }\n      skip_pypi: { type: boolean, default: false }\n      skip_crates_io: { type: boolean, default: false }\n      allow_partial_release: { type: boolean, default: false }\n      rehearsal:",
);

describe("channel bypass inputs", () => {
  it("reads workflow_dispatch.inputs from the workflow file", () => {
    assert.deepEqual(dispatchInputNames(CURRENT), ["build_run_id", "release_tag", "rehearsal"]);
    assert.equal(dispatchInputNames("on: { push: { tags: ['v*'] } }\njobs: {}\n"), null);
    assert.deepEqual(dispatchInputNames("on: [push, workflow_dispatch]\n"), []);
  });

  it("refuses a workflow without the skip flags, naming the missing inputs", () => {
    const r = bypassInputs(["pypi"], dispatchInputNames(CURRENT) ?? [], "release-publish.yml at origin/main");
    assert.ok("refused" in r);
    assert.match(r.refused, /defines no "skip_pypi", "allow_partial_release" workflow_dispatch input/);
  });

  it("maps each channel to its own flag, plus allow_partial_release", () => {
    assert.deepEqual(bypassInputs(["crates", "npm"], dispatchInputNames(HISTORIC) ?? [], "x"), {
      inputs: { skip_crates_io: "true", skip_npm: "true", allow_partial_release: "true" },
    });
  });

  it("rejects unknown or unbypassable channels", () => {
    assert.deepEqual(parseSkipChannels(["pypi,npm", "pypi"]), ["pypi", "npm"]);
    assert.throws(
      () => parseSkipChannels(["homebrew"]),
      (e: unknown) => e instanceof UsageError && /cannot be bypassed/.test(e.message),
    );
    assert.throws(() => parseSkipChannels(["pip"]), /unknown channel "pip"/);
  });
});

describe("conditional gates", () => {
  it("runs when a changed file matches, skips otherwise, always runs on a first release", () => {
    const globs = ["Cargo.lock", "Cargo.toml", "**/Cargo.toml"];
    assert.equal(conditionVerdict(globs, { base: "v0.8.0", files: ["docs/a.md", "README.md"] }).run, false);
    const hit = conditionVerdict(globs, { base: "v0.8.0", files: ["docs/a.md", "crates/core/Cargo.toml"] });
    assert.equal(hit.run, true);
    assert.match(hit.detail, /runs: crates\/core\/Cargo\.toml changed since v0\.8\.0/);
    assert.equal(conditionVerdict(globs, { base: null, files: [] }).run, true);
    assert.equal(conditionVerdict(["src/server/**"], { base: "v1.0.0", files: ["src/server/http/mod.rs"] }).run, true);
  });
});

describe("release attestation coverage", () => {
  const release = {
    tag_name: "v0.9.0",
    assets: [
      { id: 1, name: "a.tar.gz", url: "u", digest: "sha256:aa" },
      { id: 2, name: "sha256sums.txt", url: "u", digest: "sha256:bb" },
    ],
  };
  const statement = (subject: { name: string; digest: { sha256: string } }[]) => ({
    predicateType: "https://in-toto.io/attestation/release/v0.2",
    predicate: { tag: "v0.9.0" },
    subject,
  });

  it("passes when every asset is a subject with its digest", () => {
    const s = statement([
      { name: "a.tar.gz", digest: { sha256: "aa" } },
      { name: "sha256sums.txt", digest: { sha256: "bb" } },
    ]);
    assert.deepEqual(statementProblems(s, release, "v0.9.0"), []);
  });

  it("names a missing asset, a digest mismatch and a wrong tag", () => {
    const s = { ...statement([{ name: "a.tar.gz", digest: { sha256: "ff" } }]), predicate: { tag: "v0.8.0" } };
    assert.deepEqual(statementProblems(s, release, "v0.9.0"), [
      "predicate tag v0.8.0 != v0.9.0",
      "a.tar.gz: attested sha256 ff != asset digest aa",
      "sha256sums.txt is not a subject of the release attestation",
    ]);
  });
});
