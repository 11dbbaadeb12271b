import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { SettingsConfig } from "../../src/config/schema.ts";
import { World, applyScenario, plasmiteProject, startSim } from "../../src/sim/index.ts";
import { PLASMITE_TARGETS_MANIFEST } from "../../src/sim/targets-manifest.ts";
import { get } from "./helpers.ts";

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

describe("sim: world", () => {
  it("renders the tap formula in the exact structure of the real plasmite 0.8.0 formula, with the sim's sha256s", () => {
    const world = new World();
    world.addProject(plasmiteProject());
    const art = world.publish("plasmite", "0.8.0");
    const sha = (platform: string): string => art.assets.find((a) => a.platform === platform)?.content.sha256() ?? "";
    const real = readFileSync(
      new URL("../fixtures/homebrew/sandover-tap_plasmite_0.8.0_handwritten.rb", import.meta.url),
      "utf8",
    )
      .replace("90f37f90678cc0ffec07d2997a1299bdbcc1a49ed23d80decec47ebc46c89a77", sha("darwin_arm64"))
      .replace("eec00a10b41b01b14fd2b04d01b11b4bd0e327ff675f3763b76a2445e0207b30", sha("darwin_amd64"))
      .replace("71d447fb869f82925ab09d1a9baa4fd236243ab129218b0d0ec41091dd55aef0", sha("linux_amd64"));
    assert.equal(world.formulaText("plasmite"), real);
  });

  it("embeds the real targets manifest", () => {
    assert.equal(PLASMITE_TARGETS_MANIFEST, fixture("plasmite-release-targets.json"));
  });

  it("is deterministic: the same seed gives the same bytes, digests and shas", () => {
    const a = new World();
    const b = new World();
    applyScenario(a, "clean", { now: 1_800_000_000_000 });
    applyScenario(b, "clean", { now: 1_800_000_000_000 });
    const digests = (w: World): string[] => w.artifacts("plasmite", "0.8.0").assets.map((x) => `${x.name}:${x.digest}`);
    assert.deepEqual(digests(a), digests(b));
    assert.equal(a.formulaText("plasmite"), b.formulaText("plasmite"));
    assert.equal(
      a.github.repo("sandover", "plasmite")?.tags.get("v0.8.0")?.commitSha,
      b.github.repo("sandover", "plasmite")?.tags.get("v0.8.0")?.commitSha,
    );
    const c = new World({ seed: "other" });
    applyScenario(c, "clean", { now: 1_800_000_000_000 });
    assert.notDeepEqual(digests(a), digests(c));
  });

  it("applies the asset publish options", () => {
    const world = new World();
    world.addProject(plasmiteProject());
    const art = world.publish("plasmite", "0.8.0", {
      omitAssets: ["linux_amd64"],
      extraAssets: [{ name: "install.sh", content: "#!/bin/sh\n" }],
      corruptDigestFor: "darwin_amd64",
      skipChecksumLineFor: "darwin_arm64",
      channels: ["github"],
    });
    const release = world.github.repo("sandover", "plasmite")?.publishedReleaseByTag("v0.8.0");
    assert.ok(release);
    assert.deepEqual(
      release.assets.map((a) => a.name),
      ["plasmite_0.8.0_darwin_amd64.tar.gz", "plasmite_0.8.0_darwin_arm64.tar.gz", "sha256sums.txt", "install.sh"],
    );
    const amd = release.assets[0];
    assert.ok(amd && amd.digest !== `sha256:${amd.content.sha256()}`);
    assert.equal(release.assets[3]?.contentType, "text/x-sh");
    const sums = art.checksums?.bytes().toString() ?? "";
    assert.ok(!sums.includes("darwin_arm64"));
    assert.ok(sums.includes("linux_amd64"), "the checksum file still lists the missing upload");
    assert.ok(!world.artifacts("plasmite", "0.8.0").published.has("npm"));
    const old = world.publish("plasmite", "0.1.0", {
      nullDigest: true,
      lightweightTag: true,
      githubRelease: false,
      channels: ["github"],
    });
    assert.ok(old.assets.every((a) => a.digest === null));
    const repo = world.github.repo("sandover", "plasmite");
    assert.equal(repo?.tags.get("v0.1.0")?.annotated, false);
    assert.equal(repo?.publishedReleaseByTag("v0.1.0"), null);
  });

  it("publishes a late channel with publishChannel and rejects unknown projects and versions", () => {
    const world = new World();
    world.addProject(plasmiteProject());
    world.publish("plasmite", "0.8.0", { channels: ["github"], formula: "none" });
    assert.equal(world.formulaText("plasmite"), null);
    assert.equal(world.npm.get("plasmite"), null);
    world.publishChannel("plasmite", "0.8.0", "npm");
    world.publishChannel("plasmite", "0.8.0", "homebrew");
    assert.ok(world.npm.get("plasmite")?.versions.has("0.8.0"));
    assert.match(world.formulaText("plasmite") ?? "", /version "0\.8\.0"/);
    assert.throws(() => world.publish("plasmite", "0.8.0"), /already published/);
    assert.throws(() => world.publish("nope", "1.0.0"), /unknown project/);
    assert.throws(() => world.yank("crates", "plasmite", "0.8.0"), /not published/);
    assert.throws(() => world.setHidden("homebrew", "plasmite", "0.8.0", true), /homebrew/);
    world.setFormulaText("plasmite", "class Plasmite < Formula\nend\n");
    assert.equal(world.formulaText("plasmite"), "class Plasmite < Formula\nend\n");
  });

  it("points a config's settings at the sim (settingsOverlay passes the config schema)", async () => {
    const sim = await startSim({ githubToken: "t0k" });
    try {
      const settings = SettingsConfig.parse(sim.settingsOverlay());
      assert.equal(settings.github.api_url, sim.urls.githubApi);
      assert.deepEqual(settings.github.download_hosts, [
        new URL(sim.urls.githubWeb).host,
        new URL(sim.urls.githubDownload).host,
        new URL(sim.urls.githubBlobs).host,
      ]);
      assert.equal(settings.github.token, "t0k");
      assert.equal(settings.crates.index_url, sim.urls.cratesIndex);
      assert.equal(settings.npm.registry, `${sim.urls.npm}/`);
      assert.equal(settings.pypi.url, sim.urls.pypi);
      assert.equal(new Set(Object.values(sim.urls).map((u) => new URL(u).host)).size, 11, "one host per service");
      assert.equal((await get(`${sim.urls.githubApi}/rate_limit`, { authorization: "token t0k" })).status, 200);
    } finally {
      await sim.close();
    }
  });
});
