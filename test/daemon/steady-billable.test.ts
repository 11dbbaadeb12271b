/**
 * Steady state makes no billable GitHub request (issue 16, item 5): on the clean plasmite scenario with the default
 * provenance policy, every cycle after the first asks GitHub only conditionally (304, not billed) or not at all.
 * The sim bills authenticated api.github.com requests that do not answer 304.
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";
import { verdict } from "../helpers/verdict.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe("steady state: billable GitHub requests", { timeout: 60_000 }, () => {
  it("cycles after the first make 0 billable GitHub requests, with the same verdict", async () => {
    const sim: Sim = await startSim();
    cleanup.push(() => sim.close());
    applyScenario(sim.world, "clean");
    const dir = tempDir("rm-billable-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const settings = ["  state_dir: state", "  watch:", '    jitter: "0"', '    hot_interval: "0"'].join("\n");
    const config = writeConfig(dir, simConfigYaml(sim, { settings }));
    const bundle = createDaemon(loadConfigFile(config, { env: {} }), {
      logLevel: "silent",
      sinks: [],
      daemon: { flushMs: 1_000, cycleDrainMs: 2_000 },
    });
    cleanup.push(() => bundle.daemon.stop());
    const first = await bundle.daemon.runScheduledCycle("plasmite");
    const verdicts = [];
    for (let cycle = 2; cycle <= 4; cycle++) {
      const mark = sim.stats.log.length;
      const r = await bundle.daemon.runScheduledCycle("plasmite");
      verdicts.push(verdict(r));
      const billable = sim.stats.log
        .slice(mark)
        .filter((e) => e.service === "github-api" && e.authenticated && e.status !== 304)
        .map((e) => `${e.method} ${e.path} ${e.status}`);
      assert.deepEqual(billable, [], `cycle ${cycle}: billable GitHub requests`);
    }
    for (const v of verdicts) assert.deepEqual(v, verdict(first));
  });
});
