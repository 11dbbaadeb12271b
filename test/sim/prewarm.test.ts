/**
 * `prewarmProvenance` (the bench signs and hashes before its clock starts) makes nothing the endpoints would not
 * make on first request: a prewarmed world gives the same verdict, provenance included, as a cold one, and the
 * bundles it made are the ones served (a request signs nothing new).
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { Report } from "../../src/report/types.ts";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import { prewarmProvenance } from "../../src/sim/services/provenance.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** The verdict, with each world's own commits and digests (random per world) named by kind only. */
function verdict(r: Report): unknown {
  const v = {
    status: r.status,
    channels: r.channels.map((c) => ({ channel: c.channel, status: c.status, findings: c.findings })),
    provenance: r.provenance,
  };
  return JSON.parse(JSON.stringify(v).replace(/\b[0-9a-f]{40,128}\b/g, (h) => `<hex${h.length}>`)) as unknown;
}

async function cycleOn(prewarm: boolean): Promise<{ report: Report; sim: Sim; bundles: number; made: number }> {
  const sim = await startSim();
  cleanup.push(() => sim.close());
  applyScenario(sim.world, "clean");
  const bundles = prewarm ? (await prewarmProvenance(sim.world)).bundles : 0;
  const signer = sim.world.attestations.signer;
  let made = 0;
  const sign = signer.signWithCertificate.bind(signer);
  signer.signWithCertificate = (...args) => {
    made++;
    return sign(...args);
  };
  const dir = tempDir("rm-prewarm-");
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const settings = ["  state_dir: state", "  watch:", '    jitter: "0"', '    hot_interval: "0"'].join("\n");
  const config = writeConfig(dir, simConfigYaml(sim, { settings }));
  const daemon = createDaemon(loadConfigFile(config, { env: {} }), {
    logLevel: "silent",
    sinks: [],
    daemon: { flushMs: 1_000, cycleDrainMs: 2_000 },
  }).daemon;
  cleanup.push(() => daemon.stop());
  const report = await daemon.runScheduledCycle("plasmite");
  return { report, sim, bundles, made };
}

describe("sim: prewarmed attestations", { timeout: 60_000 }, () => {
  it("a prewarmed world answers as a cold one, and signs nothing on request", async () => {
    const cold = await cycleOn(false);
    const warm = await cycleOn(true);
    assert.ok(cold.report.provenance, "the default policy checks provenance");
    assert.ok(cold.made > 0, "a cold world signs on first request");
    assert.ok(warm.bundles > 0);
    assert.equal(warm.made, 0, "every bundle served was made by the prewarm");
    assert.deepEqual(verdict(warm.report), verdict(cold.report));
  });
});
