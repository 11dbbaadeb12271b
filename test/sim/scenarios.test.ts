import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SCENARIOS, World, applyScenario, startSim } from "../../src/sim/index.ts";
import type { GhRelease, IndexLine, NpmPackument, PypiDoc } from "./docs.ts";
import { get } from "./helpers.ts";

describe("sim: scenarios", () => {
  it("lists every scenario with a one-line description and applies each one", () => {
    const names = SCENARIOS.map((s) => s.name);
    for (const required of ["clean", "partial", "partial-fresh", "stale-formula", "yanked", "healing"]) {
      assert.ok(names.includes(required as (typeof names)[number]), required);
    }
    for (const s of SCENARIOS) {
      assert.ok(s.description.length > 10 && !s.description.includes("\n"));
      const world = new World();
      const result = applyScenario(world, s.name, { healAfterMs: 10 });
      assert.equal(result.version, "0.8.0");
      assert.deepEqual(world.versions("plasmite"), ["0.7.2", "0.8.0"]);
      world.close();
    }
  });

  it("clean: every channel has 0.8.0, published two hours ago", async () => {
    const sim = await startSim();
    try {
      const now = Date.now();
      applyScenario(sim.world, "clean", { now });
      const release = (await get(`${sim.urls.githubApi}/repos/sandover/plasmite/releases/latest`)).json<GhRelease>();
      assert.equal(release.tag_name, "v0.8.0");
      assert.equal(Date.parse(release.published_at ?? ""), Math.floor((now - 2 * 3_600_000) / 1000) * 1000);
      assert.equal((await get(`${sim.urls.cratesApi}/api/v1/crates/plasmite/0.8.0`)).status, 200);
      assert.equal((await get(`${sim.urls.npm}/plasmite`)).json<NpmPackument>()["dist-tags"].latest, "0.8.0");
      assert.equal((await get(`${sim.urls.pypi}/pypi/plasmite/json`)).json<PypiDoc>().info.version, "0.8.0");
      assert.match(sim.world.formulaText("plasmite") ?? "", /version "0\.8\.0"/);
    } finally {
      await sim.close();
    }
  });

  it("partial: GitHub and crates only; npm/PyPI missing, formula still 0.7.2", async () => {
    const sim = await startSim();
    try {
      applyScenario(sim.world, "partial");
      assert.equal((await get(`${sim.urls.githubApi}/repos/sandover/plasmite/releases/tags/v0.8.0`)).status, 200);
      assert.equal((await get(`${sim.urls.cratesIndex}/pl/as/plasmite`)).text().trim().split("\n").length, 2);
      assert.equal((await get(`${sim.urls.npm}/plasmite/0.8.0`)).status, 404);
      assert.equal((await get(`${sim.urls.npm}/plasmite`)).json<NpmPackument>()["dist-tags"].latest, "0.7.2");
      assert.equal((await get(`${sim.urls.pypi}/pypi/plasmite/0.8.0/json`)).status, 404);
      const formula = await get(`${sim.urls.githubApi}/repos/sandover/homebrew-tap/contents/Formula/plasmite.rb`, {
        accept: "application/vnd.github.raw",
      });
      assert.match(formula.text(), /version "0\.7\.2"/);
    } finally {
      await sim.close();
    }
  });

  it("healing: the missing channels are absent until the heal, then arrive", async () => {
    const sim = await startSim();
    try {
      // The default heal is a minute away: the 404 below cannot race the timer; heal() fires it now.
      const result = applyScenario(sim.world, "healing");
      assert.ok(result.healsAt !== null && result.heal && result.healed);
      assert.equal((await get(`${sim.urls.npm}/plasmite/0.8.0`)).status, 404);
      assert.equal((await get(`${sim.urls.pypi}/pypi/plasmite/0.8.0/json`)).status, 404);
      result.heal();
      await result.healed;
      assert.equal(sim.world.pendingTimers(), 0, "heal() cancelled the timer");
      assert.equal((await get(`${sim.urls.npm}/plasmite/0.8.0`)).status, 200);
      assert.equal((await get(`${sim.urls.pypi}/pypi/plasmite/json`)).json<PypiDoc>().info.version, "0.8.0");
      assert.match(sim.world.formulaText("plasmite") ?? "", /version "0\.8\.0"/);
      assert.deepEqual([...sim.world.artifacts("plasmite", "0.8.0").published].sort(), [
        "crates",
        "github",
        "homebrew",
        "npm",
        "pypi",
      ]);
    } finally {
      await sim.close();
    }
  });

  it("healing: the heal timer fires after healAfterMs and settles `healed`", async () => {
    const sim = await startSim();
    try {
      const result = applyScenario(sim.world, "healing", { healAfterMs: 100 });
      assert.equal(sim.world.pendingTimers(), 1);
      await result.healed;
      assert.deepEqual(sim.world.scheduleErrors, []);
      assert.equal(sim.world.pendingTimers(), 0);
      assert.equal((await get(`${sim.urls.npm}/plasmite/0.8.0`)).status, 200);
    } finally {
      await sim.close();
    }
  });

  it("close() clears pending heal timers", async () => {
    const sim = await startSim();
    applyScenario(sim.world, "healing");
    assert.equal(sim.world.pendingTimers(), 1);
    await sim.close();
    assert.equal(sim.world.pendingTimers(), 0);
  });

  it("stale-formula, yanked, partial-fresh and the digest scenarios show their defect", async () => {
    const sim = await startSim();
    try {
      const w = sim.world;
      applyScenario(w, "yanked");
      const index = (await get(`${sim.urls.cratesIndex}/pl/as/plasmite`))
        .text()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as IndexLine);
      assert.deepEqual(
        index.map((l) => l.yanked),
        [false, true],
      );
    } finally {
      await sim.close();
    }
    const stale = new World();
    applyScenario(stale, "stale-formula");
    assert.match(stale.formulaText("plasmite") ?? "", /version "0\.7\.2"/);
    assert.ok(stale.artifacts("plasmite", "0.8.0").published.has("npm"));
    assert.ok(!stale.artifacts("plasmite", "0.8.0").published.has("homebrew"));
    const fresh = new World();
    const before = Date.now();
    applyScenario(fresh, "partial-fresh");
    assert.ok(fresh.artifacts("plasmite", "0.8.0").publishedAt >= before);
    const mismatch = new World();
    applyScenario(mismatch, "checksum-mismatch");
    const sums = mismatch.artifacts("plasmite", "0.8.0").checksums?.bytes().toString() ?? "";
    const arm = mismatch.artifacts("plasmite", "0.8.0").assets.find((a) => a.platform === "darwin_arm64");
    assert.ok(arm && !sums.includes(arm.content.sha256()));
    assert.ok(arm.digest === `sha256:${arm.content.sha256()}`);
    const placeholder = new World();
    applyScenario(placeholder, "formula-placeholder");
    assert.match(placeholder.formulaText("plasmite") ?? "", /sha256 "PLACEHOLDER_DARWIN_ARM64_SHA256"/);
  });
});
