/**
 * The attestation cache in the state store (issue 13): attestation results are immutable per digest, so once a
 * daemon has verified them, a steady cycle makes no request to any attestation endpoint and verifies nothing again,
 * and the verdict is the same. The cache is the state db's, so it survives a restart of the daemon.
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon, type DaemonBundle } from "../../src/daemon/create.ts";
import type { BundleVerifier } from "../../src/provenance/verify.ts";
import { applyScenario, startSim, type RequestLogEntry, type Sim } from "../../src/sim/index.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";
import { verdict } from "../helpers/verdict.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** Requests for attestations: GitHub's list and blob host, npm's attestations endpoint, PyPI's Integrity API. */
function attestationRequests(log: readonly RequestLogEntry[]): RequestLogEntry[] {
  return log.filter(
    (e) =>
      (e.service === "github-api" && e.path.includes("/attestations/")) ||
      e.service === "github-blobs" ||
      (e.service === "npm" && e.path.includes("/-/npm/v1/attestations/")) ||
      (e.service === "pypi" && e.path.startsWith("/integrity/")) ||
      e.service === "sigstore",
  );
}

interface Counted {
  bundle: DaemonBundle;
  /** Signature verifications so far. */
  verifications(): number;
}

/** A daemon on `config` (not started: cycles only when asked), counting the bundles its verifier checks. */
function daemonOn(config: string): Counted {
  const bundle = createDaemon(loadConfigFile(config, { env: {} }), {
    logLevel: "silent",
    sinks: [],
    daemon: { flushMs: 1_000, cycleDrainMs: 2_000 },
  });
  let n = 0;
  const prov = bundle.runtime.provenance;
  const real = prov.verifier.bind(prov);
  prov.verifier = async (): Promise<BundleVerifier | undefined> => {
    const v = await real();
    if (!v) return v;
    return {
      rootName: v.rootName,
      stats: v.stats,
      verify: (b, kind) => {
        n++;
        return v.verify(b, kind);
      },
    };
  };
  return { bundle, verifications: () => n };
}

/** What must not change between cycles: the report without times, durations and evidence. */
describe("attestation cache in the state store", { timeout: 60_000 }, () => {
  let sim: Sim;
  it("a second cycle makes zero attestation requests and no verification, with an identical verdict; a restarted daemon too", async () => {
    sim = await startSim();
    cleanup.push(() => sim.close());
    applyScenario(sim.world, "provenance-bundle-url");
    const dir = tempDir("rm-attcache-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const settings = ["  state_dir: state", "  watch:", '    jitter: "0"', '    hot_interval: "0"'].join("\n");
    const config = writeConfig(dir, simConfigYaml(sim, { settings }));

    const first = daemonOn(config);
    const r1 = await first.bundle.daemon.runCycleNow("plasmite");
    const firstRequests = attestationRequests(sim.stats.log);
    assert.equal(r1.provenance?.status, "ok", JSON.stringify(r1.provenance));
    for (const service of ["github-api", "github-blobs", "npm", "pypi"] as const) {
      assert.ok(
        firstRequests.some((e) => e.service === service),
        `the first cycle fetched attestations from ${service}`,
      );
    }
    const verifiedFirst = first.verifications();
    assert.ok(verifiedFirst > 0, "the first cycle verified bundles");

    const mark = sim.stats.log.length;
    const r2 = await first.bundle.daemon.runCycleNow("plasmite");
    assert.deepEqual(
      attestationRequests(sim.stats.log.slice(mark)).map((e) => `${e.service} ${e.path}`),
      [],
      "no attestation request in the second cycle",
    );
    assert.equal(first.verifications(), verifiedFirst, "no verification in the second cycle");
    assert.deepEqual(verdict(r2), verdict(r1));
    await first.bundle.daemon.stop();

    // A new daemon process on the same state db: the results come from the store, not from memory.
    const second = daemonOn(config);
    cleanup.push(() => second.bundle.daemon.stop());
    const mark2 = sim.stats.log.length;
    const r3 = await second.bundle.daemon.runCycleNow("plasmite");
    assert.deepEqual(
      attestationRequests(sim.stats.log.slice(mark2)).map((e) => `${e.service} ${e.path}`),
      [],
      "no attestation request after a restart",
    );
    assert.equal(second.verifications(), 0, "nothing verified again after a restart");
    assert.deepEqual(verdict(r3), verdict(r1));
  });
});
