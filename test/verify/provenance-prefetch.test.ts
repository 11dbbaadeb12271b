/**
 * GitHub's attestation lookups start from the release document (its assets' digests), while the probe is still
 * peeling the tag and reading the checksum file: with provenance on, a verify costs the probes' three round trips
 * plus one, not plus two. Read from the sim's request log (arrival times at 100 ms per request): the first
 * attestation request arrives before the checksum file's download, each digest is asked once, and the verdict is
 * what it was.
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

describe("verify: GitHub provenance starts from the release document", { timeout: 60_000 }, () => {
  it("attestation lookups overlap the GitHub probe, once per digest, same verdict", async () => {
    const sim = await startSim();
    cleanup.push(() => sim.close());
    applyScenario(sim.world, "clean");
    const dir = tempDir("rm-prefetch-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const loaded = loadConfigFile(writeConfig(dir, simConfigYaml(sim)), { env: {} });
    const project = loaded.config.projects[0];
    assert.ok(project);
    const rt = createRuntime(loaded, { logLevel: "silent" });
    cleanup.push(() => rt.close());
    await rt.provenance?.verifier(); // loaded before the clock: the figure is about requests, not Sigstore's load
    sim.setLatency(100);
    const mark = sim.stats.log.length;
    const report = await verifyRelease(rt, loaded, project, "v0.8.0", { channels: ["github"] });
    sim.setLatency(0);
    assert.equal(report.status, "ok");
    assert.equal(report.provenance?.status, "ok");
    const log = sim.stats.log.slice(mark);
    const attestations = log.filter((e) => e.service === "github-api" && e.path.includes("/attestations/sha256:"));
    const download = log.find((e) => e.service === "github-download" && e.path.includes("sha256sums"));
    assert.ok(attestations.length > 0 && download, log.map((e) => `${e.service} ${e.path}`).join("\n"));
    const first = Math.min(...attestations.map((e) => e.at));
    assert.ok(
      first < download.at,
      `first attestation lookup arrived ${first - download.at} ms after the checksum download (want before)`,
    );
    const paths = attestations.map((e) => e.path.split("?")[0]);
    assert.equal(new Set(paths).size, paths.length, `a digest asked twice:\n${paths.join("\n")}`);
  });
});
