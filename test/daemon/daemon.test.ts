import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { AlertMessage, Sink } from "../../src/alerts/types.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { createDaemon, type CreateDaemonOptions } from "../../src/daemon/create.ts";
import type { VerifyFn } from "../../src/daemon/daemon.ts";
import { pickLatest } from "../../src/daemon/latest-tag.ts";
import { isHot, watchPlanFor } from "../../src/daemon/watch-settings.ts";
import { AppError } from "../../src/errors.ts";
import { REPORT_SCHEMA, type Report } from "../../src/report/types.ts";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { openStateStore, stateDbPath } from "../../src/state/sqlite.ts";

const HOUR = 3_600_000;
const TOKEN = "ghp_daemonUnitToken0123456";
const dirs: string[] = [];
const sims: Sim[] = [];
after(async () => {
  await Promise.all(sims.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A sim with projects `names`, each with a release published `ageMs` ago (GitHub + npm). */
async function world(names: string[], ageMs = 2 * HOUR): Promise<Sim> {
  const sim = await startSim({ githubToken: TOKEN });
  sims.push(sim);
  for (const name of names) {
    sim.world.addProject({
      name,
      repo: `acme/${name}`,
      npm: name,
      crate: null,
      pypi: null,
      tap: null,
      targetsManifest: null,
    });
    sim.world.publish(name, "1.0.0", { publishedAt: Date.now() - 30 * 24 * HOUR });
    sim.world.publish(name, "1.1.0", { publishedAt: Date.now() - ageMs });
  }
  return sim;
}

function loaded(sim: Sim, names: string[], watch: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "monitor-daemon-"));
  dirs.push(dir);
  const config = {
    settings: {
      ...sim.settingsOverlay(),
      http: { retries: 0 },
      state_dir: "state",
      watch: { jitter: "0", hot_interval: "0", ...watch },
      alerts: { flap_cycles: 1 },
    },
    projects: names.map((name) => ({ name, repo: `acme/${name}`, channels: { npm: { package: name } } })),
  };
  return loadConfigText(JSON.stringify(config), join(dir, "monitor.json"), dir, { env: {} });
}

function report(project: string, tag: string, npm: "ok" | "drift" = "ok"): Report {
  return {
    schema: REPORT_SCHEMA,
    project,
    repo: `acme/${project}`,
    tag,
    version: tag.slice(1),
    checked_at: new Date().toISOString(),
    status: npm,
    published_at: null,
    channels: [
      {
        channel: "npm",
        status: npm,
        observed: null,
        findings:
          npm === "drift" ? [{ code: "version-missing", severity: "drift", message: `npm has no ${project}` }] : [],
        evidence: [],
        duration_ms: 1,
      },
    ],
    duration_ms: 1,
  };
}

class RecordingSink implements Sink {
  readonly name = "rec";
  readonly type = "test";
  readonly minIntervalMs = 0;
  readonly got: AlertMessage[] = [];
  deliver(m: AlertMessage): Promise<void> {
    this.got.push(m);
    return Promise.resolve();
  }
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const quiet: CreateDaemonOptions = { logLevel: "silent" };

describe("daemon (in process)", () => {
  it("never runs two cycles of one project at once (skips and counts), and a hung project times out without stalling another", async () => {
    const sim = await world(["slow", "fast"]);
    const running = new Map<string, number>();
    let maxConcurrent = 0;
    /** Cycles the daemon considers in flight: a call counts until it returns or its cycle is aborted. */
    const verify: VerifyFn = async (_deps, _loaded, project, tag, options) => {
      const n = (running.get(project.name) ?? 0) + 1;
      running.set(project.name, n);
      maxConcurrent = Math.max(maxConcurrent, n);
      let done = false;
      const release = () => {
        if (!done) running.set(project.name, (running.get(project.name) ?? 1) - 1);
        done = true;
      };
      options?.signal?.addEventListener("abort", release, { once: true });
      try {
        // "slow" ignores its abort signal on purpose: the daemon must bound the cycle anyway.
        if (project.name === "slow") await new Promise((r) => setTimeout(r, 60_000).unref());
        return report(project.name, tag);
      } finally {
        release();
      }
    };
    const { daemon, store } = createDaemon(
      loaded(sim, ["slow", "fast"], { schedule: "*/1 * * * * *", cycle_timeout: "1500ms" }),
      {
        ...quiet,
        sinks: [],
        daemon: { verify, cycleDrainMs: 200 },
      },
    );
    await daemon.start();
    await until(
      async () => (await store.cycles("slow", 10)).some((c) => c.outcome === "timeout"),
      "a timed-out slow cycle",
    );
    await until(() => daemon.metrics().cycles.skipped_overlap >= 1, "a skipped overlapping trigger");
    const fast = await store.cycles("fast", 100);
    assert.ok(fast.filter((c) => c.outcome === "ok").length >= 2, "fast kept cycling while slow hung");
    assert.equal(maxConcurrent, 1, "never two cycles of a project at once");
    const timedOut = (await store.cycles("slow", 10)).find((c) => c.outcome === "timeout");
    assert.match(timedOut?.error ?? "", /timed out after 1500 ms/);
    assert.equal((await daemon.status()).projects.find((p) => p.project === "slow")?.last_error, timedOut?.error);
    await daemon.stop();
  });

  it("polls hot while the tag is young, only on cron once it is old", async () => {
    const young = await world(["young"], 10 * 60_000);
    const old = await world(["old"], 2 * 24 * HOUR);
    const cycles: Record<string, number> = { young: 0, old: 0 };
    const verify: VerifyFn = (_d, _l, project, tag) => {
      cycles[project.name] = (cycles[project.name] ?? 0) + 1;
      return Promise.resolve(report(project.name, tag));
    };
    const watch = { schedule: "0 0 1 1 *", hot_interval: "200ms", hot_for: "1h" };
    const a = createDaemon(loaded(young, ["young"], watch), { ...quiet, sinks: [], daemon: { verify } });
    const b = createDaemon(loaded(old, ["old"], watch), { ...quiet, sinks: [], daemon: { verify } });
    await a.daemon.start();
    await b.daemon.start();
    await until(() => (cycles["young"] ?? 0) >= 4, "hot cycles of the young release");
    assert.equal((await a.daemon.status()).projects[0]?.hot, true);
    assert.equal((await b.daemon.status()).projects[0]?.hot, false);
    assert.equal(cycles["old"], 1, "only the startup cycle: the yearly cron has not fired");
    const next = Date.parse((await a.daemon.status()).projects[0]?.next_check_at ?? "");
    assert.ok(next - Date.now() <= 1_000, "the next check is the hot one, not next year's cron");
    await Promise.all([a.daemon.stop(), b.daemon.stop()]);
  });

  it("jitter delays each scheduled cycle by random() x jitter", async () => {
    const sim = await world(["jit"]);
    let firstAt = 0;
    const verify: VerifyFn = (_d, _l, project, tag) => {
      firstAt ||= Date.now();
      return Promise.resolve(report(project.name, tag));
    };
    const { daemon } = createDaemon(loaded(sim, ["jit"], { schedule: "0 0 1 1 *", jitter: "1s" }), {
      ...quiet,
      sinks: [],
      daemon: { verify, random: () => 0.6 },
    });
    const started = Date.now();
    await daemon.start();
    await until(() => firstAt > 0, "the startup cycle");
    assert.ok(firstAt - started >= 600, `waited ${firstAt - started} ms`);
    await daemon.stop();
  });

  it("runCycleNow returns the report; status(), onCycle and metrics expose the cycle and its incidents", async () => {
    const sim = await world(["api"]);
    const sink = new RecordingSink();
    const verify: VerifyFn = (_d, _l, project, tag) => Promise.resolve(report(project.name, tag, "drift"));
    const { daemon } = createDaemon(loaded(sim, ["api"], { schedule: "0 0 1 1 *" }), {
      ...quiet,
      sinks: [sink],
      daemon: { verify },
    });
    const seen: string[] = [];
    daemon.onCycle((r, info) => seen.push(`${r.project} ${r.tag} ${info.trigger} ${info.alerts}`));
    const exchanges: number[] = [];
    daemon.onExchange((e) => exchanges.push(e.status ?? 0));
    await daemon.start();
    await until(() => seen.length === 1, "the startup cycle");
    const r = await daemon.runCycleNow("api");
    assert.equal(r.tag, "v1.1.0", "the highest non-prerelease semver release");
    assert.deepEqual(seen, ["api v1.1.0 startup 1", "api v1.1.0 manual 0"]);
    await until(() => sink.got.length === 1, "the open alert delivered");
    const status = await daemon.status();
    const p = status.projects[0];
    assert.equal(p?.tag, "v1.1.0");
    assert.equal(p?.report?.status, "drift");
    assert.deepEqual(
      p?.open_incidents.map((i) => i.code),
      ["version-missing"],
    );
    assert.ok(p?.last_check_at && p.next_check_at);
    assert.ok(status.last_successful_cycle_at);
    assert.deepEqual(status.outbox_depth, {});
    const m = daemon.metrics();
    assert.equal(m.cycles.ok, 2);
    assert.deepEqual(m.alerts["rec"], { sent: 1, retry: 0, dead: 0 });
    assert.ok(
      exchanges.length >= 2 && exchanges.includes(304),
      "exchange events, including the revalidated releases list",
    );
    await assert.rejects(daemon.runCycleNow("nope"), (e: unknown) => e instanceof AppError && e.code === "E_USAGE");
    await daemon.stop();
  });

  it("when GitHub cannot list releases, the cycle checks the last known tag", async () => {
    const sim = await world(["gh"]);
    const verify: VerifyFn = (_d, _l, project, tag) => Promise.resolve(report(project.name, tag));
    const { daemon } = createDaemon(loaded(sim, ["gh"], { schedule: "0 0 1 1 *" }), {
      ...quiet,
      sinks: [],
      daemon: { verify },
    });
    await daemon.start();
    await until(() => daemon.metrics().cycles.ok === 1, "the startup cycle");
    const fault = sim.world.faults.add({ service: "github-api", path: /\/releases\?/, kind: "503" });
    const r = await daemon.runCycleNow("gh");
    assert.equal(r.tag, "v1.1.0");
    assert.ok(fault.hits() >= 1, "the list was asked for and failed");
    await daemon.stop();
  });

  it("stop() aborts an in-flight cycle after the drain bound and still returns", async () => {
    const sim = await world(["stuck"]);
    let started = false;
    const verify: VerifyFn = (_d, _l, project, tag, options) =>
      new Promise((resolve, reject) => {
        started = true;
        options?.signal?.addEventListener("abort", () => reject(new Error("aborted")));
        setTimeout(() => resolve(report(project.name, tag)), 60_000).unref();
      });
    const { daemon } = createDaemon(loaded(sim, ["stuck"], { schedule: "0 0 1 1 *" }), {
      ...quiet,
      sinks: [],
      daemon: { verify, cycleDrainMs: 300, flushMs: 100 },
    });
    await daemon.start();
    await until(() => started, "the cycle in flight");
    await daemon.stop();
    await assert.rejects(daemon.status(), (e: unknown) => e instanceof AppError && e.code === "E_STATE");
    // The store is closed by stop(); reopen to look.
    const again = openStateStore(stateDbPath(dirs.at(-1)!, "state"));
    assert.deepEqual(
      (await again.cycles("stuck", 5)).map((c) => [c.outcome, c.error]),
      [["error", "aborted by shutdown"]],
    );
    await again.close();
  });

  it("refuses to run a second daemon on the same state", async () => {
    const sim = await world(["solo"]);
    const cfg = loaded(sim, ["solo"], { schedule: "0 0 1 1 *" });
    const verify: VerifyFn = (_d, _l, project, tag) => Promise.resolve(report(project.name, tag));
    const first = createDaemon(cfg, { ...quiet, sinks: [], daemon: { verify } });
    await first.daemon.start();
    const second = createDaemon(cfg, { ...quiet, sinks: [], daemon: { verify } });
    try {
      await assert.rejects(
        second.daemon.start(),
        (e: unknown) => e instanceof AppError && e.code === "E_STATE" && /another monitor watch/.test(e.message),
      );
    } finally {
      await second.store.close();
      await second.runtime.close();
      await first.daemon.stop();
    }
  });
});

describe("latest release selection", () => {
  const rel = (tag_name: string, over: { draft?: boolean; prerelease?: boolean } = {}) => ({
    tag_name,
    draft: false,
    prerelease: false,
    published_at: "2026-01-01T00:00:00Z",
    ...over,
  });
  const table: {
    name: string;
    releases: ReturnType<typeof rel>[];
    prefix: string;
    pre: boolean;
    want: string | null;
  }[] = [
    {
      name: "highest semver, not newest",
      releases: [rel("v1.2.10"), rel("v1.10.0"), rel("v1.9.9")],
      prefix: "v",
      pre: false,
      want: "v1.10.0",
    },
    {
      name: "drafts never count",
      releases: [rel("v2.0.0", { draft: true }), rel("v1.0.0")],
      prefix: "v",
      pre: false,
      want: "v1.0.0",
    },
    {
      name: "GitHub prereleases skipped",
      releases: [rel("v2.0.0", { prerelease: true }), rel("v1.0.0")],
      prefix: "v",
      pre: false,
      want: "v1.0.0",
    },
    {
      name: "semver prereleases skipped",
      releases: [rel("v2.0.0-rc.1"), rel("v1.0.0")],
      prefix: "v",
      pre: false,
      want: "v1.0.0",
    },
    {
      name: "prereleases included on request",
      releases: [rel("v2.0.0-rc.1", { prerelease: true }), rel("v1.0.0")],
      prefix: "v",
      pre: true,
      want: "v2.0.0-rc.1",
    },
    {
      name: "tag prefix filters",
      releases: [rel("sdk-v3.0.0"), rel("cli-v9.0.0")],
      prefix: "sdk-v",
      pre: false,
      want: "sdk-v3.0.0",
    },
    { name: "non-semver ignored", releases: [rel("nightly"), rel("v1")], prefix: "v", pre: false, want: null },
    { name: "no prefix", releases: [rel("1.0.0"), rel("0.9.0")], prefix: "", pre: false, want: "1.0.0" },
  ];
  for (const t of table) {
    it(t.name, () => assert.equal(pickLatest(t.releases, t.prefix, t.pre)?.tag ?? null, t.want));
  }

  it("the version keeps the tag's spelling", () => {
    assert.deepEqual(pickLatest([rel("v1.2.3")], "v", false), {
      tag: "v1.2.3",
      version: "1.2.3",
      published_at: "2026-01-01T00:00:00Z",
    });
  });
});

describe("watch settings", () => {
  it("project.watch overrides settings.watch field by field", () => {
    const sim = { settingsOverlay: () => ({}) } as unknown as Sim;
    const cfg = loaded(sim, ["a"], { schedule: "*/5 * * * *", hot_interval: "1m", hot_for: "6h", jitter: "10s" });
    const project = { ...cfg.config.projects[0]!, watch: { schedule: "0 * * * *", jitter: "0" } };
    const plan = watchPlanFor(cfg.config.settings, project);
    assert.deepEqual(plan, {
      schedule: "0 * * * *",
      hot_interval_ms: 60_000,
      hot_for_ms: 6 * HOUR,
      jitter_ms: 0,
      cycle_timeout_ms: 300_000,
      include_prereleases: false,
    });
  });

  it("a tag is hot for hot_for after published_at (else first seen)", () => {
    const plan = {
      schedule: "",
      hot_interval_ms: 60_000,
      hot_for_ms: HOUR,
      jitter_ms: 0,
      cycle_timeout_ms: 1,
      include_prereleases: false,
    };
    const now = new Date("2026-01-01T12:00:00Z");
    assert.equal(isHot(plan, "2026-01-01T11:30:00Z", "2026-01-01T11:59:00Z", now), true);
    assert.equal(
      isHot(plan, "2026-01-01T10:00:00Z", "2026-01-01T11:59:00Z", now),
      false,
      "published long ago, first seen now",
    );
    assert.equal(isHot(plan, null, "2026-01-01T11:30:00Z", now), true);
    assert.equal(isHot({ ...plan, hot_interval_ms: 0 }, null, "2026-01-01T11:59:00Z", now), false, "hot polling off");
  });
});
