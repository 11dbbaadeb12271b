/**
 * Provenance rides along with the probes: GitHub's attestation lookups start from the release document (its assets'
 * digests) while the probe still peels the tag and reads the checksum file, and every other channel's gatherer
 * starts on its own probe's answer (npm's attestations and previous version, PyPI's Integrity API, the crates
 * publish run) while GitHub's probe finishes. With provenance on, a verify costs the probes' three round trips, not
 * five. Read from the sim's request log (arrival times at 100 ms per request): every provenance request arrives
 * before the checksum file's download (the probes' third round trip), no request is sent twice, and the verdict is
 * ok with provenance ok.
 */
import { strict as assert } from "node:assert";
import diagnostics from "node:diagnostics_channel";
import { after, describe, it } from "node:test";
import { verifyRelease } from "../../src/verify/run.ts";
import { cleanWorld } from "./helpers.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

/** verifyRelease of v0.8.0, ok, calling `onRequest` with the path of each request as undici creates it. */
async function verifyOkWatching(
  rt: Parameters<typeof verifyRelease>[0],
  loaded: Parameters<typeof verifyRelease>[1],
  project: Parameters<typeof verifyRelease>[2],
  onRequest: (path: string) => void,
): Promise<void> {
  const onCreate = (m: unknown): void => onRequest((m as { request: { path: string } }).request.path);
  diagnostics.subscribe("undici:request:create", onCreate);
  try {
    const report = await verifyRelease(rt, loaded, project, "v0.8.0");
    assert.equal(report.status, "ok");
  } finally {
    diagnostics.unsubscribe("undici:request:create", onCreate);
  }
}

describe("verify: GitHub provenance starts from the release document", { timeout: 60_000 }, () => {
  it("every provenance request overlaps the probes, each sent once", async () => {
    const { sim, loaded, project, rt } = await cleanWorld(cleanup);
    await rt.provenance?.verifier(); // loaded before the clock: the figure is about requests, not Sigstore's load
    sim.setLatency(100);
    const mark = sim.stats.log.length;
    const report = await verifyRelease(rt, loaded, project, "v0.8.0");
    sim.setLatency(0);
    assert.equal(report.status, "ok");
    assert.equal(report.provenance?.status, "ok");
    const log = sim.stats.log.slice(mark);
    const shown = log.map((e) => `${e.at} ${e.service} ${e.path}`).join("\n");
    const download = log.find((e) => e.service === "github-download" && e.path.includes("sha256sums"));
    assert.ok(download, shown);
    const provenance = log.filter(
      (e) =>
        e.path.includes("/attestations/") ||
        e.path.startsWith("/integrity/") ||
        e.path.includes("/actions/runs/") ||
        (e.service === "npm" && e.path.endsWith("/0.7.2")),
    );
    for (const kind of [
      "/repos/sandover/plasmite/attestations/",
      "/-/npm/v1/attestations/",
      "/integrity/",
      "/actions/runs/",
      "/0.7.2",
    ])
      assert.ok(
        provenance.some((e) => e.path.includes(kind)),
        `no ${kind} request:\n${shown}`,
      );
    const late = provenance.filter((e) => e.at >= download.at);
    assert.deepEqual(
      late.map((e) => `${e.service} ${e.path}`),
      [],
      `provenance requests after the probes' last round trip:\n${shown}`,
    );
    const sent = log.map((e) => `${e.service} ${e.method} ${e.path}`);
    assert.deepEqual(
      sent.filter((k, i) => sent.indexOf(k) !== i),
      [],
      "no request twice",
    );
  });

  it("the checksum file, the next hop of the critical path, is asked for before the attestation lookups", async () => {
    const { loaded, project, rt } = await cleanWorld(cleanup);
    await rt.provenance?.verifier();
    const sent: string[] = [];
    await verifyOkWatching(rt, loaded, project, (path) => sent.push(path));
    const shown = sent.join("\n");
    const sums = sent.findIndex((p) => p.endsWith("/releases/download/v0.8.0/sha256sums.txt"));
    const firstLookup = sent.findIndex((p) => p.includes("/attestations/sha256:"));
    assert.ok(sums >= 0 && firstLookup >= 0, shown);
    assert.ok(sums < firstLookup, `an attestation lookup went out before the checksum file:\n${shown}`);
  });

  it("the Sigstore verifier starts loading once the probes' first requests have left, not before them", async () => {
    const { loaded, project, rt } = await cleanWorld(cleanup);
    const prov = rt.provenance;
    assert.ok(prov);
    let created = 0;
    const onCreate = (): void => void created++;
    const sentBeforeLoad: number[] = [];
    const load = prov.verifier.bind(prov);
    prov.verifier = () => {
      sentBeforeLoad.push(created);
      return load();
    };
    await verifyOkWatching(rt, loaded, project, onCreate);
    // Loading Sigstore is ~20 ms of a CLI's CPU: done while the probes wait on the network, it costs no wall.
    assert.ok(sentBeforeLoad.length > 0, "the verifier was never asked for");
    assert.ok((sentBeforeLoad[0] ?? 0) > 0, `the verifier was asked for before any request (${sentBeforeLoad[0]})`);
  });
});
