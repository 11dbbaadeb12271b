/**
 * crates.io index first (issue 16): the sparse index decides presence, yank state and checksum; the API version
 * document is asked once per version, through the process-wide queue, and shared by the probe and the provenance
 * gatherer. A second daemon cycle asks the crates.io API nothing (the document and the trusted-publishing data are
 * cached), and gives the same verdict.
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import { applyScenario, startSim, type RequestLogEntry, type Sim } from "../../src/sim/index.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";
import { verdict } from "../helpers/verdict.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

function cratesRequests(log: readonly RequestLogEntry[], service: "crates-api" | "crates-index"): string[] {
  return log.filter((e) => e.service === service).map((e) => e.path);
}

describe("crates.io index first in the daemon", { timeout: 60_000 }, () => {
  it("one index and one API request in the first cycle, zero API requests in the second, same verdict", async () => {
    const sim: Sim = await startSim();
    cleanup.push(() => sim.close());
    applyScenario(sim.world, "clean");
    const dir = tempDir("rm-crates-first-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const settings = ["  state_dir: state", "  watch:", '    jitter: "0"', '    hot_interval: "0"'].join("\n");
    const config = writeConfig(dir, simConfigYaml(sim, { settings }));
    const bundle = createDaemon(loadConfigFile(config, { env: {} }), {
      logLevel: "silent",
      sinks: [],
      daemon: { flushMs: 1_000, cycleDrainMs: 2_000 },
    });
    cleanup.push(() => bundle.daemon.stop());

    const mark1 = sim.stats.log.length;
    const r1 = await bundle.daemon.runCycleNow("plasmite");
    const first = sim.stats.log.slice(mark1);
    assert.equal(r1.channels.find((c) => c.channel === "crates")?.status, "ok");
    assert.deepEqual(cratesRequests(first, "crates-index"), ["/pl/as/plasmite"]);
    assert.deepEqual(
      cratesRequests(first, "crates-api"),
      ["/api/v1/crates/plasmite/0.8.0"],
      "the probe and the provenance gatherer share one API request",
    );

    const mark2 = sim.stats.log.length;
    const r2 = await bundle.daemon.runCycleNow("plasmite");
    const second = sim.stats.log.slice(mark2);
    assert.deepEqual(cratesRequests(second, "crates-index"), ["/pl/as/plasmite"], "the index is read every cycle");
    assert.deepEqual(cratesRequests(second, "crates-api"), [], "no crates.io API request in the second cycle");
    assert.deepEqual(verdict(r2), verdict(r1));
  });
});

describe("crates.io: the sparse index disagrees with the API (sim)", { timeout: 60_000 }, () => {
  it("index yanked, API not: yanked (the index decides) and the disagreement with both values; a checksum too", async () => {
    const sim: Sim = await startSim();
    cleanup.push(() => sim.close());
    applyScenario(sim.world, "clean");
    const v = sim.world.crates.get("plasmite")?.versions.find((x) => x.num === "0.8.0");
    assert.ok(v);
    v.indexDivergence = { yanked: true, cksum: "0".repeat(64) };
    const dir = tempDir("rm-crates-disagree-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = writeConfig(dir, simConfigYaml(sim, { settings: "  state_dir: state" }));
    const bundle = createDaemon(loadConfigFile(config, { env: {} }), {
      logLevel: "silent",
      sinks: [],
      daemon: { flushMs: 1_000, cycleDrainMs: 2_000 },
    });
    cleanup.push(() => bundle.daemon.stop());
    const r = await bundle.daemon.runCycleNow("plasmite");
    const crates = r.channels.find((c) => c.channel === "crates");
    assert.equal(crates?.status, "drift");
    const byCode = new Map(crates?.findings.map((f) => [f.code, f]));
    assert.match(byCode.get("yanked")?.message ?? "", /yanked on crates\.io \(index\)/);
    const disagree = byCode.get("index-api-disagree");
    assert.equal(disagree?.expected, "index: true");
    assert.equal(disagree?.actual, "API: false");
    const sha = byCode.get("sha-mismatch");
    assert.equal(sha?.actual, `sparse index cksum: ${"0".repeat(64)}`);
    assert.equal(sha?.expected, `crates.io API checksum: ${v.checksum}`);
  });
});
