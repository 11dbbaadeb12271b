/**
 * The global cycle scheduler (src/daemon/scheduler.ts, settings.watch.max_concurrent_cycles): a tick for more
 * projects than the cap runs exactly `cap` cycles at once, never more, and every project's cycle runs; waiting is
 * fair (round-robin between projects); a waiter leaves the queue on shutdown. Every wait is on an event.
 */
import { strict as assert } from "node:assert";
import { getEventListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, mock } from "node:test";
import { loadConfigText, type LoadedConfig } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { VerifyFn } from "../../src/daemon/daemon.ts";
import { CycleScheduler } from "../../src/daemon/scheduler.ts";
import { AppError } from "../../src/errors.ts";
import { REPORT_SCHEMA, type Report } from "../../src/report/types.ts";
import { startSim, type Sim } from "../../src/sim/index.ts";

const HOUR = 3_600_000;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function okReport(project: string, repo: string, tag: string): Report {
  return {
    schema: REPORT_SCHEMA,
    project,
    repo,
    tag,
    version: tag.slice(1),
    checked_at: new Date().toISOString(),
    status: "ok",
    published_at: null,
    channels: [],
    duration_ms: 1,
  };
}

/** A sim with an npm-only project per name (a release 2 hours old) and a config watching them under `cap`. */
async function npmProjects(names: readonly string[], cap: number): Promise<{ sim: Sim; loaded: LoadedConfig }> {
  const sim = await startSim({ githubToken: null });
  const dir = mkdtempSync(join(tmpdir(), "monitor-scheduler-"));
  dirs.push(dir);
  for (const name of names) {
    const project = { name, repo: `acme/${name}`, npm: name, crate: null, pypi: null, tap: null };
    sim.world.addProject({ ...project, targetsManifest: null });
    sim.world.publish(name, "1.0.0", { publishedAt: Date.now() - 2 * HOUR });
  }
  const config = {
    settings: {
      ...sim.settingsOverlay(),
      http: { retries: 0 },
      state_dir: "state",
      watch: { jitter: "0", hot_interval: "0", max_concurrent_cycles: cap },
    },
    projects: names.map((name) => ({ name, repo: `acme/${name}`, channels: { npm: { package: name } } })),
  };
  return { sim, loaded: loadConfigText(JSON.stringify(config), join(dir, "monitor.json"), dir, { env: {} }) };
}

describe("CycleScheduler", () => {
  it("grants at most max slots; a free slot goes round-robin between projects", async () => {
    const order: string[] = [];
    const s = new CycleScheduler(1);
    const first = await s.acquire("a");
    const waits = ["b", "c", "a", "d", "a"].map((k, i) =>
      s.acquire(k).then((release) => {
        order.push(`${k}${i}`);
        return release;
      }),
    );
    assert.equal(s.active, 1);
    assert.equal(s.queued, 5);
    let release = first;
    for (const w of waits) {
      release();
      release = await w;
      assert.equal(s.active, 1);
    }
    release();
    assert.equal(s.active, 0);
    // a2 waited since before d, so it runs before d; a4 queued behind a2, so after d.
    assert.deepEqual(order, ["b0", "c1", "a2", "d3", "a4"]);
  });

  it("a waiter whose signal aborts leaves the queue with E_ABORTED; releasing twice frees one slot", async () => {
    const s = new CycleScheduler(1);
    const held = await s.acquire("a");
    const ac = new AbortController();
    const waiting = s.acquire("b", ac.signal);
    const next = s.acquire("c");
    ac.abort();
    await assert.rejects(waiting, (e: unknown) => e instanceof AppError && e.code === "E_ABORTED");
    assert.equal(s.queued, 1);
    held();
    held();
    const c = await next;
    assert.equal(s.active, 1);
    c();
    assert.equal(s.active, 0);
    assert.throws(() => new CycleScheduler(0), RangeError);
  });

  it("waiters on one signal share one abort listener; aborting it rejects every waiter, in order", async () => {
    // A listener per waiter made a tick of N projects O(N²): an EventTarget walks its list on every add and remove.
    const s = new CycleScheduler(1);
    const held = await s.acquire("a");
    const ac = new AbortController();
    const order: number[] = [];
    const waits = Array.from({ length: 200 }, (_, i) =>
      s.acquire(`p${i}`, ac.signal).then(
        () => assert.fail("granted after the abort"),
        (e: unknown) => {
          assert.ok(e instanceof AppError && e.code === "E_ABORTED");
          order.push(i);
        },
      ),
    );
    assert.equal(getEventListeners(ac.signal, "abort").length, 1);
    assert.equal(s.queued, 200);
    ac.abort();
    await Promise.all(waits);
    assert.deepEqual(
      order,
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.equal(s.queued, 0);
    held();
    assert.equal(s.active, 0);
  });

  it("a granted waiter no longer reacts to its signal", async () => {
    const s = new CycleScheduler(1);
    const held = await s.acquire("a");
    const ac = new AbortController();
    const waiting = s.acquire("b", ac.signal);
    held();
    const release = await waiting;
    ac.abort();
    assert.equal(s.active, 1, "the abort after the grant left the slot alone");
    release();
    assert.equal(s.active, 0);
  });
});

describe("daemon: settings.watch.max_concurrent_cycles", () => {
  it("one tick for 12 projects with a cap of 3: 3 cycles run at once, never 4, and all 12 complete", async () => {
    const CAP = 3;
    const names = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const { sim, loaded } = await npmProjects(names, CAP);
    try {
      assert.equal(loaded.config.settings.watch.max_concurrent_cycles, CAP);

      // The probe: the cycle body counts itself while it runs and holds until the test lets it go.
      let running = 0;
      let peak = 0;
      const started: string[] = [];
      const gates: (() => void)[] = [];
      let onStart: (() => void) | null = null;
      const verify: VerifyFn = async (_deps, _loaded, project, tag) => {
        running++;
        peak = Math.max(peak, running);
        started.push(project.name);
        await new Promise<void>((resolve) => {
          gates.push(resolve);
          onStart?.();
        });
        running--;
        return okReport(project.name, project.repo, tag);
      };
      const startedCount = (n: number) =>
        new Promise<void>((resolve) => {
          const check = () => {
            if (gates.length >= n) {
              onStart = null;
              resolve();
            }
          };
          onStart = check;
          check();
        });
      const { daemon } = createDaemon(loaded, { logLevel: "silent", sinks: [], daemon: { verify } });
      try {
        const all = Promise.all(names.map((n) => daemon.runScheduledCycle(n)));
        let released = 0;
        while (released < names.length) {
          // Wait until every slot is taken (or the rest of the projects started), then free one slot.
          await startedCount(Math.min(names.length, released + CAP));
          assert.equal(running, Math.min(CAP, names.length - released), `after ${released} cycles finished`);
          (gates[released] as () => void)();
          released++;
        }
        const reports = await all;
        assert.equal(reports.length, names.length);
        assert.ok(reports.every((r) => r.status === "ok"));
        assert.equal(peak, CAP, "the cap was reached and never exceeded");
        // Fair: the tick's projects ran in the order they were queued.
        assert.deepEqual(started, names);
      } finally {
        await daemon.stop();
      }
    } finally {
      await sim.close();
    }
  });

  it("cycles waiting for a slot add no listener each to the stop signal (a tick of N was O(N²))", async () => {
    const CAP = 2;
    const names = Array.from({ length: 40 }, (_, i) => `q${i}`);
    const { sim, loaded } = await npmProjects(names, CAP);
    try {
      const verify: VerifyFn = async (_deps, _loaded, project, tag) => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        return okReport(project.name, project.repo, tag);
      };
      const { daemon } = createDaemon(loaded, { logLevel: "silent", sinks: [], daemon: { verify } });
      // The most abort listeners any signal held at any moment of the tick, seen at each addEventListener.
      let most = 0;
      // eslint-disable-next-line @typescript-eslint/unbound-method -- applied to the receiver it was called on
      const original = EventTarget.prototype.addEventListener;
      const spy = mock.method(
        EventTarget.prototype,
        "addEventListener",
        function (this: EventTarget, ...args: Parameters<EventTarget["addEventListener"]>) {
          original.apply(this, args);
          if (this instanceof AbortSignal) most = Math.max(most, getEventListeners(this, "abort").length);
        },
      );
      try {
        const reports = await Promise.all(names.map((n) => daemon.runScheduledCycle(n)));
        assert.ok(reports.every((r) => r.status === "ok"));
      } finally {
        spy.mock.restore();
        await daemon.stop();
      }
      assert.ok(most <= 2, `a signal held ${most} abort listeners while ${names.length - CAP} cycles waited`);
    } finally {
      await sim.close();
    }
  });

  it("defaults to 16 and refuses 0", () => {
    const base = { projects: [{ name: "a", repo: "acme/a", channels: { npm: { package: "a" } } }] };
    const dir = mkdtempSync(join(tmpdir(), "monitor-scheduler-"));
    dirs.push(dir);
    const loaded = loadConfigText(JSON.stringify(base), join(dir, "monitor.json"), dir, { env: {} });
    assert.equal(loaded.config.settings.watch.max_concurrent_cycles, 16);
    assert.throws(
      () =>
        loadConfigText(
          JSON.stringify({ ...base, settings: { watch: { max_concurrent_cycles: 0 } } }),
          join(dir, "monitor.json"),
          dir,
          { env: {} },
        ),
      /settings\.watch\.max_concurrent_cycles/,
    );
  });
});
