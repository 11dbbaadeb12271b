/**
 * The bench's daemon config (bench/lib/config.ts) must verify the sim's attestations as a test config does: without
 * the sim's trust files the daemon falls back to TUF for the public-good root, gets none offline, every signature is
 * `unknown`, and an unknown result is (rightly) never cached, so every steady tick asked GitHub for each asset's
 * attestations again: the 3 billable requests per project of the scale5k runs. Behaviour: a scale project on the
 * bench's config makes 0 billable GitHub requests from its third cycle on, with its provenance ok.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { scaleProject, writeConfig } from "../../bench/lib/config.ts";
import { benchProjectSpec, BENCH_VERSION } from "../../bench/lib/worlds.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import { startSim, World } from "../../src/sim/index.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe("bench daemon config", { timeout: 60_000 }, () => {
  it("verifies the sim's attestations, so steady cycles make 0 billable GitHub requests", async () => {
    const sim = await startSim({ world: new World({}), githubToken: "ghp_bench", logLimit: 10_000 });
    cleanup.push(() => sim.close());
    const spec = benchProjectSpec(0);
    sim.world.addProject(spec);
    sim.world.publish(spec.name, BENCH_VERSION, { publishedAt: sim.world.now() - 48 * 3_600_000 });
    const dir = mkdtempSync(join(tmpdir(), "rm-bench-config-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = writeConfig(dir, "bench.yaml", sim.settingsOverlay(), [scaleProject(0)], {
      settings: { state_dir: join(dir, "state"), watch: { jitter: "0" } },
    });
    const bundle = createDaemon(loadConfigFile(config, { env: {} }), {
      logLevel: "silent",
      sinks: [],
      daemon: { flushMs: 1_000, cycleDrainMs: 2_000 },
    });
    cleanup.push(() => bundle.daemon.stop());
    const first = await bundle.daemon.runScheduledCycle(spec.name);
    assert.equal(first.provenance?.status, "ok", JSON.stringify(first.provenance?.channels.map((c) => c.status)));
    await bundle.daemon.runScheduledCycle(spec.name);
    const mark = sim.stats.log.length;
    const third = await bundle.daemon.runScheduledCycle(spec.name);
    const billable = sim.stats.log
      .slice(mark)
      .filter((e) => e.service === "github-api" && e.authenticated && e.status !== 304)
      .map((e) => `${e.method} ${e.path} ${e.status}`);
    assert.deepEqual(billable, []);
    assert.equal(third.status, first.status);
  });
});
