/**
 * A probe gets its Octokit only if it asks for one: the crates, npm and PyPI probes never touch GitHub, and a
 * pending crates.io completion (held until its API answer, up to minutes in a cold daemon) must not keep an Octokit
 * per probe alive. Counted through the runtime's `github` factory, on the clean sim.
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { loadConfigFile } from "../../src/config/load.ts";
import { createRuntime } from "../../src/runtime/runtime.ts";
import { applyScenario, startSim } from "../../src/sim/index.ts";
import { verifyRelease } from "../../src/verify/run.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe("verify: Octokit per probe, on demand", { timeout: 60_000 }, () => {
  it("builds one only for the probes that call GitHub", async () => {
    const sim = await startSim();
    cleanup.push(() => sim.close());
    applyScenario(sim.world, "clean");
    const dir = tempDir("rm-octokit-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const loaded = loadConfigFile(writeConfig(dir, simConfigYaml(sim)), { env: {} });
    const project = loaded.config.projects[0];
    assert.ok(project);
    const rt = createRuntime(loaded, { logLevel: "silent" });
    cleanup.push(() => rt.close());
    let built = 0;
    const github: typeof rt.github = (http) => {
      built++;
      return rt.github(http);
    };
    // Provenance aside (its gatherers have their own HTTP path): the probes alone.
    const { provenance: _provenance, ...probesOnly } = rt;
    const deps = { ...probesOnly, github };
    const some = await verifyRelease(deps, loaded, project, "v0.8.0", { channels: ["crates", "npm", "pypi"] });
    assert.deepEqual(
      some.channels.filter((c) => c.status !== "skipped").map((c) => [c.channel, c.status]),
      [
        ["crates", "ok"],
        ["npm", "ok"],
        ["pypi", "ok"],
      ],
    );
    assert.equal(built, 0, "no Octokit for crates, npm and PyPI");
    const all = await verifyRelease(deps, loaded, project, "v0.8.0");
    assert.equal(all.status, "ok");
    assert.equal(built, 2, "one each for the GitHub and Homebrew probes");
  });
});
