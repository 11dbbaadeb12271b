/**
 * One tick for N projects (issue 16): the number of requests per host is N times one project's, nothing is fetched
 * twice, crates.io is read from the sparse index, and the crates.io API is asked only for the version documents
 * (trusted-publishing data), each once per version across cycles, deferred ones included. Counts, not times.
 */
import { strict as assert } from "node:assert";
import { after, describe, it } from "node:test";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { Report } from "../../src/report/types.ts";
import { startSim, type RequestLogEntry, type Sim } from "../../src/sim/index.ts";
import { addProjects, MANY_TOKEN, manyProjectsConfig, nameOf } from "./many-projects.ts";

const N = 50;
const VERSION = "1.0.0";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

const config = (sim: Sim, count: number) => manyProjectsConfig(sim, count, cleanup);

function perService(log: readonly RequestLogEntry[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of log) out[e.service] = (out[e.service] ?? 0) + 1;
  return out;
}

function repeated(log: readonly RequestLogEntry[]): string[] {
  const seen = new Map<string, number>();
  for (const e of log) {
    const key = `${e.service} ${e.method} ${e.path}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
}

const apiPaths = (log: readonly RequestLogEntry[]) =>
  log
    .filter((e) => e.service === "crates-api")
    .map((e) => e.path)
    .sort();

const deferredCrates = (r: Report) =>
  r.channels.some((c) => c.channel === "crates" && c.findings.some((f) => /queued behind/.test(f.message)));

describe(`one tick for ${N} projects: requests per host`, { timeout: 240_000 }, () => {
  it("N x one project's requests, no path twice, sparse index, one API request per version across cycles", async () => {
    const sim = await startSim({ githubToken: MANY_TOKEN, logLimit: 1_000_000 });
    cleanup.push(() => sim.close());
    addProjects(sim, N, VERSION);

    // One project alone: what a cycle costs per host.
    const one = createDaemon(loadConfigFile(config(sim, 1), { env: {} }), { logLevel: "silent", sinks: [] });
    cleanup.push(() => one.daemon.stop());
    let mark = sim.stats.log.length;
    const solo = await one.daemon.runScheduledCycle(nameOf(0));
    assert.equal(solo.status, "ok");
    const soloLog = sim.stats.log.slice(mark);
    const perProject = perService(soloLog);
    assert.equal(perProject["crates-index"], 1);
    assert.equal(perProject["crates-api"], 1);
    await one.daemon.stop();

    // The same projects, N of them, in one tick of a fresh daemon (its own state; the process-wide crates.io queue
    // already holds p0000's document, so p0000 asks the API nothing this time).
    const bundle = createDaemon(loadConfigFile(config(sim, N), { env: {} }), { logLevel: "silent", sinks: [] });
    cleanup.push(() => bundle.daemon.stop());
    const reports: Report[] = [];
    bundle.daemon.onCycle((r) => reports.push(r));
    mark = sim.stats.log.length;
    const tick = await Promise.all(Array.from({ length: N }, (_, i) => bundle.daemon.runScheduledCycle(nameOf(i))));
    const deferred = tick.filter(deferredCrates).length;
    // The completions of the deferred reports: one more onCycle each, with no request of their own.
    await new Promise<void>((resolve) => {
      const check = () => {
        if (reports.length >= N + deferred) resolve();
      };
      bundle.daemon.onCycle(check);
      check();
    });
    const first = sim.stats.log.slice(mark);
    const counts = perService(first);
    for (const [service, n] of Object.entries(perProject)) {
      const expected = service === "crates-api" ? (N - 1) * n : N * n;
      assert.equal(
        counts[service] ?? 0,
        expected,
        `${service}: ${counts[service] ?? 0} requests, expected ${expected}`,
      );
    }
    assert.deepEqual(Object.keys(counts).sort(), Object.keys(perProject).sort(), "no other host is asked");
    assert.deepEqual(repeated(first), [], "nothing is fetched twice in one tick");
    assert.equal(
      first.filter((e) => e.service === "crates-index").length,
      N,
      "presence, yank state and checksum from the sparse index",
    );
    assert.deepEqual(
      apiPaths(first),
      Array.from({ length: N - 1 }, (_, i) => `/api/v1/crates/${nameOf(i + 1)}/${VERSION}`).sort(),
      "one API version document per version (trusted-publishing data), shared by probe and provenance",
    );
    assert.ok(deferred > 0, "with N cycles in flight, API answers wait in the queue and are deferred");
    const latest = (await bundle.daemon.status()).projects;
    assert.equal(latest.filter((p) => p.report?.status === "ok").length, N, "every report is complete");

    // The next tick: the sparse index again, the API never (each version's document was asked once, ever).
    mark = sim.stats.log.length;
    const again = await Promise.all(Array.from({ length: N }, (_, i) => bundle.daemon.runScheduledCycle(nameOf(i))));
    const second = sim.stats.log.slice(mark);
    assert.equal(again.filter((r) => r.status === "ok").length, N);
    assert.equal(again.filter(deferredCrates).length, 0);
    assert.deepEqual(apiPaths(second), [], "no crates.io API request in the second tick");
    assert.equal(second.filter((e) => e.service === "crates-index").length, N);
    assert.deepEqual(repeated(second), []);
  });
});
