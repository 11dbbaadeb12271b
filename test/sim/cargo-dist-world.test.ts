/**
 * The sim's cargo-dist world (`--sim cargo-dist[/<scenario>]`): ferrous/rivet released the way cargo-dist releases a
 * Rust tool. The served documents are read back here as a client would (GitHub release, sidecars, tap formula,
 * crates.io), and the formula through the homebrew channel's own parser.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { parseFormula } from "../../src/channels/homebrew/parse-formula.ts";
import { World, applyScenario, startSim } from "../../src/sim/index.ts";
import { cargoDistProject } from "../../src/sim/scenarios.ts";
import type { GhRelease } from "./docs.ts";
import { follow, get } from "./helpers.ts";

const TARGETS = [
  "aarch64-apple-darwin",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "x86_64-unknown-linux-gnu",
];

describe("sim: the cargo-dist world", () => {
  it("serves <name>-<rust-target>.tar.xz with a `<hex> *<name>` sidecar each, plus cargo-dist's installers, manifest, source and sha256.sum", async () => {
    const sim = await startSim();
    try {
      applyScenario(sim.world, "clean", { world: "cargo-dist" });
      const release = (await get(`${sim.urls.githubApi}/repos/ferrous/rivet/releases/tags/v0.8.0`)).json<GhRelease>();
      const names = release.assets.map((a) => a.name).sort();
      // Besides the archives and their sidecars, what real cargo-dist releases attach (extra_assets in the config).
      const extras = [
        "dist-manifest.json",
        "rivet-installer.ps1",
        "rivet-installer.sh",
        "sha256.sum",
        "source.tar.gz",
        "source.tar.gz.sha256",
      ];
      assert.deepEqual(
        names,
        [...TARGETS.flatMap((t) => [`rivet-${t}.tar.xz`, `rivet-${t}.tar.xz.sha256`]), ...extras].sort(),
      );
      for (const t of TARGETS) {
        const tarball = release.assets.find((a) => a.name === `rivet-${t}.tar.xz`)!;
        const sidecar = release.assets.find((a) => a.name === `rivet-${t}.tar.xz.sha256`)!;
        const bytes = (await follow(tarball.browser_download_url)).final.body;
        const hex = createHash("sha256").update(bytes).digest("hex");
        assert.equal((await follow(sidecar.browser_download_url)).final.text(), `${hex} *rivet-${t}.tar.xz\n\n`);
      }
    } finally {
      await sim.close();
    }
  });

  it("the tap formula is cargo-dist's: if OS.mac? / Hardware::CPU.arm?, read by the homebrew parser", () => {
    const world = new World();
    applyScenario(world, "clean", { world: "cargo-dist" });
    const text = world.formulaText("rivet") ?? "";
    assert.match(
      text,
      /^ {2}if OS\.mac\?\n {4}if Hardware::CPU\.arm\?\n {6}url "https:\/\/github\.com\/ferrous\/rivet/m,
    );
    assert.match(text, /BINARY_ALIASES = \{"aarch64-apple-darwin": \{\}/);
    assert.doesNotMatch(text, /on_macos|odie/);
    const parsed = parseFormula(text);
    assert.equal(parsed.version, "0.8.0");
    assert.deepEqual(
      parsed.artifacts.map((a) => a.resolved_url.split("/").pop()).sort(),
      TARGETS.map((t) => `rivet-${t}.tar.xz`),
    );
    world.close();
  });

  it("crates.io has the crate, Cargo.toml names it at the tag; crate-missing leaves crates.io without 0.8.0", () => {
    const world = new World();
    applyScenario(world, "crate-missing", { world: "cargo-dist" });
    assert.equal(cargoDistProject().crate, "rivet");
    const versions = world.crates.get("rivet")?.versions.map((v) => v.num);
    assert.deepEqual(versions, ["0.7.2"]);
    assert.match(world.formulaText("rivet") ?? "", /version "0\.8\.0"/);
    world.close();
  });

  it("checksum-mismatch: the darwin_arm64 sidecar disagrees with its tarball; the others agree", () => {
    const world = new World();
    applyScenario(world, "checksum-mismatch", { world: "cargo-dist" });
    const art = world.artifacts("rivet", "0.8.0");
    for (const a of art.assets.filter((x) => x.platform)) {
      const sidecar = art.assets.find((x) => x.name === `${a.name}.sha256`)!;
      const claimed = sidecar.content.bytes().toString("utf8").split(" ")[0];
      assert.equal(claimed === a.content.sha256(), a.platform !== "darwin_arm64", a.name);
    }
    world.close();
  });
});
