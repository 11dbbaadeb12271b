/**
 * A newer cycle of a project releases the older cycle's pending crates.io completion at once (issue 16): the older
 * one holds nothing more and is never committed; only the newest completion waits. The queue is held by a request
 * of the test's own: no timing.
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { after, afterEach, describe, it } from "node:test";
import { cratesApiQueue } from "../../src/channels/crates/api-queue.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { Report } from "../../src/report/types.ts";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import { verifyRelease, type DeferredCompletion } from "../../src/verify/run.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";
import { holdQueue } from "./many-projects.ts";

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

describe("daemon: a newer cycle releases an older pending completion", { timeout: 60_000 }, () => {
  it("the older completion resolves null at once (its answer still queued) and is never committed", async () => {
    const { config } = await world("rm-crates-supersede-");
    const completions: DeferredCompletion[] = [];
    const bundle = createDaemon(loadConfigFile(config, { env: {} }), {
      logLevel: "silent",
      sinks: [],
      daemon: {
        flushMs: 1_000,
        cycleDrainMs: 2_000,
        verify: (deps, loaded, project, tag, options) =>
          verifyRelease(deps, loaded, project, tag, {
            ...options,
            ...(options?.onDeferred
              ? {
                  onDeferred: (c: DeferredCompletion) => {
                    completions.push(c);
                    options.onDeferred?.(c);
                  },
                }
              : {}),
          }),
      },
    });
    cleanup.push(() => bundle.daemon.stop());
    const seen: Report[] = [];
    let onThird = (): void => {};
    const third = new Promise<void>((resolve) => (onThird = resolve));
    bundle.daemon.onCycle((report) => {
      seen.push(report);
      if (crates(report)?.status === "ok") onThird();
    });
    const hold = holdQueue();
    const r1 = await bundle.daemon.runScheduledCycle("plasmite");
    const r2 = await bundle.daemon.runScheduledCycle("plasmite");
    assert.equal(crates(r1)?.status, "pending");
    assert.equal(crates(r2)?.status, "pending");
    assert.equal(completions.length, 2, "each cycle deferred its crates.io API answer");
    const [older, newer] = completions as [DeferredCompletion, DeferredCompletion];
    // The queue is still held: the older completion was released by the newer cycle's commit, not by an answer.
    assert.equal(await older.completed, null, "the older completion is released at once");
    assert.equal(bundle.daemon.pendingCompletions(), 1, "one completion waits: the newest cycle's");

    hold.release();
    const done = await newer.completed;
    assert.equal(crates(done as Report)?.status, "ok");
    await third;
    assert.deepEqual(
      seen.map((r) => crates(r)?.status),
      ["pending", "pending", "ok"],
      "two cycles and one completion committed; the older completion never",
    );
    assert.equal(bundle.daemon.pendingCompletions(), 0);
  });
});
