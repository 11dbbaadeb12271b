/**
 * Pending crates.io completions do not each add a listener to the daemon's stop signal. An EventTarget compares a
 * new listener with every one it holds, so one (two, with the abort race) per pending completion made a cold start
 * of N projects cost O(N²) in `addEventListener` (2 % of a 300-project tick's samples). One listener per stop
 * signal releases them all; stopping the daemon still releases every pending completion at once.
 */
import { strict as assert } from "node:assert";
import { getEventListeners } from "node:events";
import { after, afterEach, describe, it, mock } from "node:test";
import { cratesApiQueue } from "../../src/channels/crates/api-queue.ts";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { Report } from "../../src/report/types.ts";
import { startSim } from "../../src/sim/index.ts";
import { addProjects, holdQueue, MANY_TOKEN, manyProjectsConfig, nameOf } from "./many-projects.ts";

const N = 12;
const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});
afterEach(() => cratesApiQueue.clear());

const pendingCrates = (r: Report) =>
  r.channels.some((c) => c.channel === "crates" && c.findings.some((f) => /queued behind/.test(f.message)));

describe("pending completions and the stop signal", { timeout: 120_000 }, () => {
  it("one listener per stop signal, however many completions wait; stop releases them all", async () => {
    const sim = await startSim({ githubToken: MANY_TOKEN });
    cleanup.push(() => sim.close());
    addProjects(sim, N, "1.0.0");
    const bundle = createDaemon(loadConfigFile(manyProjectsConfig(sim, N, cleanup), { env: {} }), {
      logLevel: "silent",
      sinks: [],
    });
    cleanup.push(() => bundle.daemon.stop());
    // Records which signals get listeners; the listeners themselves are added by the original method.
    const signals = new Set<AbortSignal>();
    // eslint-disable-next-line @typescript-eslint/unbound-method -- applied to the receiver it was called on
    const original = EventTarget.prototype.addEventListener;
    const hold = holdQueue();
    try {
      const spy = mock.method(
        EventTarget.prototype,
        "addEventListener",
        function (this: EventTarget, ...args: Parameters<EventTarget["addEventListener"]>) {
          if (this instanceof AbortSignal) signals.add(this);
          original.apply(this, args);
        },
      );
      let tick: Report[];
      try {
        tick = await Promise.all(Array.from({ length: N }, (_, i) => bundle.daemon.runScheduledCycle(nameOf(i))));
      } finally {
        spy.mock.restore();
      }
      assert.equal(tick.filter(pendingCrates).length, N, "every crates.io API answer waits behind the hold");
      assert.equal(bundle.daemon.pendingCompletions(), N);
      const most = Math.max(...[...signals].map((s) => getEventListeners(s, "abort").length));
      assert.ok(most <= 2, `the busiest signal holds ${most} abort listeners with ${N} completions pending`);
    } finally {
      hold.release();
    }
    await bundle.daemon.stop();
    assert.equal(bundle.daemon.pendingCompletions(), 0, "stopping releases every pending completion");
  });
});
