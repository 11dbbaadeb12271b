/**
 * One verification reads each attestation cache entry once. A channel's prefetch, its gatherer's early run (on its
 * probe's answer) and the real run after every probe ask the cache for the same keys; in a steady daemon cycle
 * every one is a hit, and each read is a SQLite row and a JSON parse of the evidence.
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { loadConfigFile } from "../../src/config/load.ts";
import { memoryAttestationCache, type AttestationCache } from "../../src/provenance/gather.ts";
import { createRuntime } from "../../src/runtime/runtime.ts";
import { applyScenario, startSim } from "../../src/sim/index.ts";
import { verifyRelease } from "../../src/verify/run.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe("verify: the attestation cache within one verification", { timeout: 60_000 }, () => {
  it("reads each key at most once, and a steady verification reads every key it stored", async () => {
    const sim = await startSim();
    cleanup.push(() => sim.close());
    applyScenario(sim.world, "clean");
    const dir = tempDir("rm-att-reads-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const loaded = loadConfigFile(writeConfig(dir, simConfigYaml(sim)), { env: {} });
    const project = loaded.config.projects[0];
    assert.ok(project);
    const store = memoryAttestationCache();
    const reads = new Map<string, number>();
    const counting: AttestationCache = {
      get: (key) => {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        return store.get(key);
      },
      set: (key, value) => store.set(key, value),
    };
    const rt = createRuntime(loaded, { logLevel: "silent", attestationCache: counting });
    cleanup.push(() => rt.close());
    const first = await verifyRelease(rt, loaded, project, "v0.8.0");
    assert.equal(first.provenance?.status, "ok");
    assert.ok(store.size > 0, "the first verification stored its verified attestations");
    reads.clear();
    const second = await verifyRelease(rt, loaded, project, "v0.8.0");
    assert.equal(second.status, "ok");
    assert.deepEqual(second.provenance, first.provenance);
    const twice = [...reads].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], "no key read twice in one verification");
    assert.ok(reads.size >= store.size, `${reads.size} keys read, ${store.size} stored`);
  });
});
