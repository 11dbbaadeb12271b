/**
 * The crates.io API answer, deferred (issue 16): in the daemon, a probe whose API request has to wait behind others
 * in the process-wide queue (one request per second) does not hold the cycle. The report is committed with the
 * API-only findings pending and the reason shown; when the queued answer arrives the completed report is committed
 * (status page, onCycle) without another cycle. A one-shot verify waits for the answer, bounded by its timeout.
 * The queue is held busy with a request of the test's own that answers only when the test says so: no timing.
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { after, afterEach, describe, it } from "node:test";
import { cratesApiQueue } from "../../src/channels/crates/api-queue.ts";
import { cratesProbe } from "../../src/channels/crates/probe.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { Probe } from "../../src/probes/types.ts";
import type { Report } from "../../src/report/types.ts";
import { createRuntime } from "../../src/runtime/runtime.ts";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import { verifyRelease } from "../../src/verify/run.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";
import { holdQueue } from "./many-projects.ts";
import { verdict } from "../helpers/verdict.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

afterEach(() => cratesApiQueue.clear());

async function world(prefix: string): Promise<{ sim: Sim; config: string; another: () => string }> {
  const sim = await startSim();
  cleanup.push(() => sim.close());
  applyScenario(sim.world, "clean");
  const settings = ["  state_dir: state", "  watch:", '    jitter: "0"', '    hot_interval: "0"'].join("\n");
  const another = () => {
    const dir = tempDir(prefix);
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    return writeConfig(dir, simConfigYaml(sim, { settings }));
  };
  return { sim, config: another(), another };
}

const crates = (r: Report) => r.channels.find((c) => c.channel === "crates");
const cratesApi = (sim: Sim, from = 0) =>
  sim.stats.log
    .slice(from)
    .filter((e) => e.service === "crates-api")
    .map((e) => e.path);

describe("daemon: a queued crates.io API answer completes the report when it arrives", { timeout: 60_000 }, () => {
  it("pending with the reason first, then the completed report in the store and onCycle, one API request", async () => {
    // The reference: the same cycle with an idle queue (waits for the API answer, as before).
    const { sim, config, another } = await world("rm-crates-deferred-");
    const refBundle = createDaemon(loadConfigFile(another(), { env: {} }), {
      logLevel: "silent",
      sinks: [],
      daemon: { flushMs: 1_000, cycleDrainMs: 2_000 },
    });
    cleanup.push(() => refBundle.daemon.stop());
    const expected = await refBundle.daemon.runScheduledCycle("plasmite");
    assert.equal(crates(expected)?.status, "ok");
    cratesApiQueue.clear();
    const mark = sim.stats.log.length;
    const bundle = createDaemon(loadConfigFile(config, { env: {} }), {
      logLevel: "silent",
      sinks: [],
      daemon: { flushMs: 1_000, cycleDrainMs: 2_000 },
    });
    cleanup.push(() => bundle.daemon.stop());
    const seen: Report[] = [];
    let onSecond = (): void => {};
    const second = new Promise<void>((resolve) => (onSecond = resolve));
    bundle.daemon.onCycle((report) => {
      seen.push(report);
      if (seen.length === 2) onSecond();
    });

    const hold = holdQueue();
    const first = await bundle.daemon.runScheduledCycle("plasmite");
    const c1 = crates(first);
    assert.equal(c1?.status, "pending", "the index verdict stands; the API part waits");
    const skipped = c1?.findings.find((f) => f.code === "cross-check-skipped");
    assert.equal(skipped?.severity, "pending");
    assert.match(skipped?.message ?? "", /queued behind 1 other request .*completed when it arrives/);
    assert.match(skipped?.message ?? "", /trusted-publishing data/);
    assert.equal(first.provenance?.channels.find((c) => c.channel === "crates")?.status, "pending");
    assert.deepEqual(cratesApi(sim, mark), [], "the API request is still queued behind the held one");
    const stored = (await bundle.daemon.status()).projects.find((p) => p.project === "plasmite");
    assert.equal(stored?.report?.channels.find((c) => c.channel === "crates")?.status, "pending");

    hold.release();
    await second;
    const completed = seen[1] as Report;
    assert.deepEqual(verdict(completed), verdict(expected), "the completed report is the one an idle queue gives");
    assert.deepEqual(
      cratesApi(sim, mark),
      ["/api/v1/crates/plasmite/0.8.0"],
      "one API request for probe and provenance",
    );
    const after = (await bundle.daemon.status()).projects.find((p) => p.project === "plasmite");
    assert.equal(after?.report?.channels.find((c) => c.channel === "crates")?.status, "ok");
    assert.equal(after?.report?.status, completed.status);
    assert.equal(
      crates(completed)?.evidence.some((e) => e.url.endsWith("/api/v1/crates/plasmite/0.8.0")),
      true,
      "the API exchange is in the completed report's evidence",
    );
  });

  it("`watch --once` waits for the queued answer instead of deferring it", async () => {
    const { sim, config } = await world("rm-crates-deferred-once-");
    const bundle = createDaemon(loadConfigFile(config, { env: {} }), {
      logLevel: "silent",
      sinks: [],
      daemon: { flushMs: 1_000, cycleDrainMs: 2_000 },
    });
    const hold = holdQueue();
    // The probe queues its API request before it reads the index: the index answer means it waits behind ours.
    const indexHost = new URL(sim.urls.cratesIndex).host;
    let backlogAtIndex = 0;
    bundle.daemon.onExchange((e) => {
      if (e.host !== indexHost || backlogAtIndex > 0) return;
      backlogAtIndex = cratesApiQueue.backlog;
      hold.release();
    });
    const [result] = await bundle.daemon.runOnce();
    assert.equal(backlogAtIndex, 2, "the probe's API request was queued behind the held one");
    const c = crates(result?.report as Report);
    assert.equal(c?.status, "ok");
    assert.equal(
      c?.findings.some((f) => f.code === "cross-check-skipped"),
      false,
    );
  });
});

describe(
  "one-shot verify: waits for a queued crates.io API answer, bounded by the timeout",
  { timeout: 60_000 },
  () => {
    it("waits: the answer queued behind another arrives and the report is complete", async () => {
      const { config } = await world("rm-crates-wait-");
      const loaded = loadConfigFile(config, { env: {} });
      const rt = createRuntime(loaded, { logLevel: "silent" });
      cleanup.push(() => rt.close());
      const hold = holdQueue();
      // Let the held request go as soon as the crates probe has queued its own behind it.
      const probe: Probe = {
        channel: "crates",
        observe: (plan, ctx) => {
          const p = cratesProbe.observe(plan, ctx);
          assert.equal(cratesApiQueue.backlog, 2, "the probe's API request waits behind the held one");
          hold.release();
          return p;
        },
      };
      const project = loaded.config.projects[0];
      assert.ok(project);
      const report = await verifyRelease({ ...rt, probes: { crates: probe } }, loaded, project, "v0.8.0", {
        timeoutMs: 45_000,
      });
      const c = crates(report);
      assert.equal(c?.status, "ok");
      assert.equal(
        c?.findings.some((f) => f.code === "cross-check-skipped"),
        false,
      );
    });

    it("bounded: an answer that does not arrive before --timeout leaves the API part pending with the reason", async () => {
      const { config } = await world("rm-crates-timeout-");
      const loaded = loadConfigFile(config, { env: {} });
      const rt = createRuntime(loaded, { logLevel: "silent" });
      cleanup.push(() => rt.close());
      const hold = holdQueue();
      cleanup.push(() => hold.release());
      const project = loaded.config.projects[0];
      assert.ok(project);
      const report = await verifyRelease(rt, loaded, project, "v0.8.0", { timeoutMs: 1_500 });
      const c = crates(report);
      assert.equal(c?.status, "pending");
      const skipped = c?.findings.find((f) => f.code === "cross-check-skipped");
      assert.equal(skipped?.severity, "pending");
      assert.match(skipped?.message ?? "", /did not arrive before the deadline/);
      assert.equal(report.channels.find((x) => x.channel === "npm")?.status, "ok", "other channels are unaffected");
    });
  },
);
