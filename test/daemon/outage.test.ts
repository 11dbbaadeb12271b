import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { Scene, sceneFactory, HOUR } from "./harness.ts";

const scene = sceneFactory();

describe("monitor watch (child process): registry outages and steady state", () => {
  it("an npm outage for every project gives ONE degraded notice (no per-release noise), then ONE recovered", async () => {
    const s = await scene();
    s.scenario("clean");
    const beta = s.addBeta(Date.now() - 2 * HOUR);
    s.writeConfig({ projects: [Scene.plasmite(), beta], flapCycles: 2, sinks: ["slack"] });
    const daemon = s.startDaemon();
    await s.until(
      async () => (await s.cycles("plasmite")) >= 1 && (await s.cycles("beta")) >= 1,
      "a first cycle of both projects",
    );

    const outage = s.sim.world.faults.add({ service: "npm", kind: "503" });
    await s.until(() => s.slackDelivered().length >= 1, "the degraded notice");
    const [p, b] = [await s.cycles("plasmite"), await s.cycles("beta")];
    await s.until(
      async () => (await s.cycles("plasmite")) >= p + 2 && (await s.cycles("beta")) >= b + 2,
      "two more cycles of both projects",
    );
    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["degraded"],
    );
    assert.match(s.slackDelivered()[0]?.text ?? "", /npm probe failed for all 2 watched projects/);
    assert.deepEqual(
      await s.withState(async (st) => (await st.openIncidents()).map((i) => i.id)),
      ["*|*|npm|registry-degraded|"],
      "no per-release incident behind it",
    );

    outage.remove();
    await s.until(() => s.slackDelivered().length >= 2, "the recovered notice");
    assert.equal(await daemon.stop(), 0);
    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["degraded", "recovered"],
    );
    assert.deepEqual(await s.withState(async (st) => await st.openIncidents()), []);
  });

  it("steady state: after the first cycle GitHub answers only 304s (no billable request with a token)", async () => {
    const s = await scene();
    // The full plasmite release on all five channels, sha256sums.txt included: downloading the checksum asset bumps
    // its download_count (so every release document's ETag changes) unless the probe reuses the pinned copy.
    s.scenario("clean");
    s.writeConfig({ projects: [Scene.plasmite()], sinks: [] });
    const daemon = s.startDaemon();
    // Cycle 1 downloads sha256sums.txt, which bumps its download_count: cycle 2 sees changed release documents (200)
    // once. From then on nothing changes, and every GitHub answer must be a 304.
    await s.until(async () => (await s.cycles("plasmite")) >= 2, "the first two cycles");
    const report = await s.withState(async (st) => await st.latestReport("plasmite"));
    assert.equal(report?.status, "ok", JSON.stringify(report?.channels.map((c) => [c.channel, c.findings])));
    const billable = s.sim.stats.githubBillable;
    assert.ok(billable > 0, "the first cycle fetched bodies");
    const githubBefore = s.sim.stats.services["github-api"].requests;
    const seen = s.sim.stats.log.length;
    await s.until(async () => (await s.cycles("plasmite")) >= 5, "three more cycles");
    assert.equal(await daemon.stop(), 0);

    assert.equal(s.sim.stats.githubBillable, billable, "steady-state cycles cost no primary quota");
    const later = s.sim.stats.log.slice(seen).filter((e) => e.service === "github-api");
    assert.ok(s.sim.stats.services["github-api"].requests - githubBefore >= 3 * 3, "the cycles did ask GitHub");
    assert.deepEqual(
      [...new Set(later.map((e) => e.status))],
      [304],
      later.map((e) => `${e.status} ${e.path}`).join("\n"),
    );
    assert.ok(later.every((e) => e.authenticated));
  });

  it("watch --once exits 3 when a project's cycle fails, and records the error", async () => {
    const s = await scene();
    s.scenario("clean");
    s.writeConfig({ projects: [Scene.plasmite()], sinks: [] });
    s.sim.world.faults.add({ service: "github-api", kind: "503" });
    const run = await s.once();
    assert.equal(run.code, 3);
    assert.ok(run.logs.some((l) => l["msg"] === "cycle failed" && l["project"] === "plasmite"));
    const [cycle] = await s.withState(async (st) => await st.cycles("plasmite", 1));
    assert.equal(cycle?.outcome, "error");
    assert.match(cycle?.error ?? "", /503/);
  });
});
