import { strict as assert } from "node:assert";
import { afterEach, describe, it } from "node:test";
import { incidentId, type Incident } from "../../src/alerts/types.ts";
import { AppError } from "../../src/errors.ts";
import { DEFAULT_RETENTION } from "../../src/state/retention.ts";
import type { CycleCommit, StateStore } from "../../src/state/types.ts";
import { T0, sampleCommit, sampleIncident, sampleMessage, sampleReport } from "./samples.ts";

/**
 * The StateStore contract: what every implementation (SQLite today, PostgreSQL for HA) must do, through the
 * interfaces only. An implementation's test calls `runStateContract` with a factory for empty stores.
 */

export interface StateFixture {
  /** An empty store. */
  store: StateStore;
  /**
   * A new handle on the same state, as a restarted process would open it (the test closes the old handle first,
   * as a stopping daemon does).
   */
  reopen: () => Promise<StateStore>;
  /** Closes whatever is still open and removes the state (temp files, schema). */
  cleanup: () => Promise<void>;
}

export type MakeStore = () => Promise<StateFixture>;

/** One daemon replica on a shared state: its store (fenced by its leases) and its lease round. */
export interface LeaseReplica {
  readonly id: string;
  readonly store: StateStore;
  /** One renew/acquire round over `projects`; the projects held afterwards. */
  tick(projects: readonly string[]): Promise<ReadonlySet<string>>;
  close(): Promise<void>;
}

/**
 * How a store keeps two daemons from acting on one project at once, declared by the implementation so that each
 * proves its own model with full-strength assertions:
 * - `single-daemon` (SQLite): one daemon per state, by the daemon lock (heartbeat, dead-pid takeover).
 * - `leases` (PostgreSQL): many replicas per state; each project is owned by one replica through a lease with a
 *   fencing generation, and one process at a time runs as a given replica id. `replica(id, ttlMs)` starts a
 *   replica on the fixture's state (calling it twice with one id gives two processes claiming the same id).
 */
export type StateCapabilities =
  | { ownership: "single-daemon" }
  | {
      ownership: "leases";
      replicas: (state: StateFixture) => {
        replica: (id: string, ttlMs: number) => Promise<LeaseReplica>;
      };
    };

const DAY = 86_400_000;

export function runStateContract(name: string, makeStore: MakeStore, capabilities: StateCapabilities): void {
  describe(`${name} state store (contract)`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0)) await c();
    });
    async function fresh(): Promise<StateFixture> {
      const f = await makeStore();
      cleanups.push(f.cleanup);
      return f;
    }

    it("commits a cycle in one transaction: channel states, history, report, incidents, outbox per sink", async () => {
      const { store } = await fresh();
      const { messageIds } = await store.commitCycle(sampleCommit(0, ["slack", "ergo"]));
      assert.equal(messageIds.length, 1);
      assert.deepEqual(
        (await store.channelStates("plasmite", "v0.8.0")).map((c) => [c.channel, c.status, c.live_at !== null]),
        [
          ["github", "ok", true],
          ["npm", "drift", false],
        ],
        "skipped channels are not tracked; live_at is set on the first ok",
      );
      assert.equal((await store.latestReport("plasmite"))?.checked_at, new Date(T0).toISOString());
      assert.equal((await store.incidents("plasmite")).length, 1);
      const rows = await store.outboxRows();
      assert.deepEqual(
        rows.map((r) => [r.sink, r.state, r.message.id]),
        [
          ["slack", "pending", String(messageIds[0])],
          ["ergo", "pending", String(messageIds[0])],
        ],
      );
      assert.deepEqual(await store.outboxDepth(), { slack: 1, ergo: 1 });
      assert.equal((await store.projects())[0]?.last_outcome, "ok");
      await store.close();
    });

    it("records history only on status changes, and live_at once", async () => {
      const { store } = await fresh();
      await store.commitCycle(sampleCommit(0, [], { messages: [] }));
      await store.commitCycle(sampleCommit(1, [], { messages: [] }));
      const fixed = sampleCommit(2, [], {
        messages: [],
        report: sampleReport(2, new Date(T0 + 2000).toISOString(), "ok"),
      });
      await store.commitCycle(fixed);
      await store.commitCycle(
        sampleCommit(3, [], { messages: [], report: sampleReport(3, new Date(T0 + 3000).toISOString(), "ok") }),
      );
      const npm = (await store.channelHistory("plasmite", "v0.8.0")).filter((h) => h.channel === "npm");
      assert.deepEqual(
        npm.map((h) => [h.from, h.to, h.at]),
        [
          [null, "drift", new Date(T0).toISOString()],
          ["drift", "ok", new Date(T0 + 2000).toISOString()],
        ],
      );
      const state = (await store.channelStates("plasmite", "v0.8.0")).find((c) => c.channel === "npm");
      assert.equal(state?.live_at, new Date(T0 + 2000).toISOString(), "when npm went live");
      assert.equal(state?.since, new Date(T0 + 2000).toISOString());
      assert.equal(state?.updated_at, new Date(T0 + 3000).toISOString());
      await store.close();
    });

    it("rolls the whole cycle back when any part fails", async () => {
      const { store } = await fresh();
      const bad = sampleCommit(0, ["slack"], {
        incidents: [sampleIncident(), { ...sampleIncident(), project: "other", id: "other|x" }],
      });
      await assert.rejects(store.commitCycle(bad), (e: unknown) => e instanceof AppError && e.code === "E_INTERNAL");
      assert.equal(await store.latestReport("plasmite"), null);
      assert.deepEqual(await store.outboxRows(), []);
      assert.equal(await store.messageCount(), 0);
      assert.deepEqual(await store.channelStates("plasmite"), []);
      assert.deepEqual(await store.projects(), []);
      await store.close();
    });

    it("replaces a project's incident set and keeps registry-degraded ones apart", async () => {
      const { store } = await fresh();
      const degradedKey = {
        project: "*",
        tag: "*",
        channel: "npm" as const,
        code: "registry-degraded" as const,
        subject: "",
      };
      const degraded: Incident = { ...sampleIncident(), ...degradedKey, id: incidentId(degradedKey) };
      await store.commitCycle(sampleCommit(0, [], { degraded: [degraded] }));
      assert.equal((await store.openIncidents()).length, 2);
      await store.commitCycle(sampleCommit(1, [], { incidents: [], messages: [] }));
      assert.deepEqual(await store.incidents("plasmite"), []);
      assert.deepEqual(
        (await store.incidents("*")).map((i) => i.id),
        ["*|*|npm|registry-degraded|"],
        "degraded: null leaves them untouched",
      );
      await store.commitCycle(sampleCommit(2, [], { incidents: [], messages: [], degraded: [] }));
      assert.deepEqual(await store.incidents("*"), []);
      await store.close();
    });

    it("survives close and reopen", async () => {
      const { store: a, reopen } = await fresh();
      await a.commitCycle(sampleCommit(0, ["slack"]));
      await a.addSilence({
        project: "plasmite",
        channel: null,
        until: new Date(T0 + DAY).toISOString(),
        reason: "release week",
        created_at: new Date(T0).toISOString(),
      });
      await a.sinkMemory("ergo").set("task:x", "ABC123");
      await a.close();
      const b = await reopen();
      assert.equal((await b.incidents("plasmite"))[0]?.state, "open");
      assert.equal((await b.nextOutbox("slack"))?.message.summary, "message 0");
      assert.equal((await b.silences())[0]?.reason, "release week");
      assert.equal(await b.sinkMemory("ergo").get("task:x"), "ABC123");
      assert.equal(await b.sinkMemory("slack").get("task:x"), null, "memory is per sink");
      await b.close();
    });

    it("keeps outbox rows in order and tracks retries, sends and dead letters", async () => {
      const { store } = await fresh();
      await store.commitCycle(
        sampleCommit(0, ["slack"], { messages: [sampleMessage(1), sampleMessage(2), sampleMessage(3)] }),
      );
      const first = await store.nextOutbox("slack");
      assert.equal(first?.message.summary, "message 1");
      await store.markRetry(first.id, 1, T0 + 5000, "HTTP 500");
      const again = await store.nextOutbox("slack");
      assert.equal(again?.id, first?.id, "a retrying row keeps the head of the queue");
      assert.deepEqual([again?.attempts, again?.next_attempt_at, again?.last_error], [1, T0 + 5000, "HTTP 500"]);
      await store.markSent(first.id, new Date(T0).toISOString());
      const second = await store.nextOutbox("slack");
      assert.equal(second?.message.summary, "message 2");
      await store.markDead(second.id, 1, "HTTP 404 no_service", new Date(T0).toISOString());
      assert.equal((await store.nextOutbox("slack"))?.message.summary, "message 3");
      assert.deepEqual(
        (await store.outboxRows({ state: "dead" })).map((r) => [r.message.summary, r.last_error]),
        [["message 2", "HTTP 404 no_service"]],
      );
      assert.deepEqual(
        (await store.outboxRows({ state: "sent" })).map((r) => r.attempts),
        [2],
      );
      assert.deepEqual(await store.outboxDepth(), { slack: 1 });
      await store.close();
    });

    it("is a ValidatorCache (binary bodies round-trip)", async () => {
      const { store: a, reopen } = await fresh();
      const body = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
      await a.validatorCache.set("GET https://api.example/x", {
        etag: 'W/"abc"',
        last_modified: null,
        status: 200,
        headers: { etag: 'W/"abc"' },
        body,
        stored_at: 42,
      });
      await a.close();
      const b = await reopen();
      const got = await b.validatorCache.get("GET https://api.example/x");
      assert.ok(got);
      assert.deepEqual(
        [got.etag, got.last_modified, got.status, got.stored_at, got.headers],
        ['W/"abc"', null, 200, 42, { etag: 'W/"abc"' }],
      );
      assert.ok(Buffer.isBuffer(got.body) && got.body.equals(body));
      assert.equal(await b.validatorCache.get("GET https://api.example/y"), undefined);
      await b.close();
    });

    it("lists silences with expired ones, and removes by id", async () => {
      const { store } = await fresh();
      const active = await store.addSilence({
        project: "plasmite",
        channel: "npm",
        until: new Date(T0 + 3_600_000).toISOString(),
        reason: "npm outage",
        created_at: new Date(T0).toISOString(),
      });
      await store.addSilence({
        project: "plasmite",
        channel: null,
        until: new Date(T0 - 1).toISOString(),
        reason: null,
        created_at: new Date(T0 - DAY).toISOString(),
      });
      assert.equal((await store.silences()).length, 2);
      assert.deepEqual(
        (await store.activeSilences(new Date(T0))).map((s) => s.id),
        [active.id],
      );
      assert.equal(await store.removeSilence(active.id), true);
      assert.equal(await store.removeSilence(active.id), false);
      assert.deepEqual(await store.activeSilences(new Date(T0)), []);
      await store.close();
    });

    it("retention removes old history, resolved incidents, finished outbox rows, unused cache, cycles, expired silences", async () => {
      const { store } = await fresh();
      const old = T0 - 100 * DAY;
      const oldAt = new Date(old).toISOString();
      // An old release whose incident resolved long ago, delivered long ago.
      const resolved = sampleIncident(
        { tag: "v0.7.0", id: "plasmite|v0.7.0|npm|version-missing|", state: "resolved", resolved_at: oldAt },
        oldAt,
      );
      const oldCommit = sampleCommit(0, ["slack"], {
        report: { ...sampleReport(0, oldAt), tag: "v0.7.0" },
        incidents: [resolved],
        messages: [{ ...sampleMessage(0), created_at: oldAt }],
        cycle: { ...sampleCommit(0, []).cycle, started_at: oldAt, finished_at: oldAt },
      });
      await store.noteRelease({ project: "plasmite", tag: "v0.7.0", version: "0.7.0", published_at: null, now: oldAt });
      await store.commitCycle(oldCommit);
      const oldRow = (await store.nextOutbox("slack"))!;
      await store.markSent(oldRow.id, oldAt);
      await store.addSilence({ project: "plasmite", channel: null, until: oldAt, reason: null, created_at: oldAt });
      // The current release, today.
      await store.noteRelease({
        project: "plasmite",
        tag: "v0.8.0",
        version: "0.8.0",
        published_at: null,
        now: new Date(T0).toISOString(),
      });
      await store.commitCycle(sampleCommit(1, ["slack"], { incidents: [resolved, sampleIncident()] }));
      await store.validatorCache.set("GET https://api.example/fresh", {
        etag: '"f"',
        last_modified: null,
        status: 200,
        headers: {},
        body: Buffer.alloc(1),
        stored_at: 0,
      });

      const counts = await store.prune(DEFAULT_RETENTION, new Date(T0 + 2000));
      assert.deepEqual(
        { ...counts },
        {
          history: 2,
          channels: 2,
          releases: 1,
          incidents: 1,
          outbox: 1,
          messages: 1,
          http_cache: 0,
          attestations: 0,
          cycles: 1,
          silences: 1,
        },
      );
      assert.equal(await store.release("plasmite", "v0.7.0"), null);
      assert.ok(await store.release("plasmite", "v0.8.0"), "the current release stays");
      assert.deepEqual(
        (await store.incidents("plasmite")).map((i) => i.tag),
        ["v0.8.0"],
      );
      assert.equal((await store.outboxRows()).length, 1, "the pending row of today stays");
      assert.ok(await store.validatorCache.get("GET https://api.example/fresh"));
      const later = await store.prune(DEFAULT_RETENTION, new Date(Date.now() + 8 * DAY));
      assert.equal(later.http_cache, 1, "cache entries unused for 7 days go");
      await store.close();
    });

    if (capabilities.ownership === "single-daemon") {
      it("holds a single-daemon lock", async () => {
        const { store } = await fresh();
        const at = (ms: number) => new Date(T0 + ms);
        const me = (instance: string, pid: number, ms = 0) => ({
          instance,
          pid,
          host: "h",
          now: at(ms),
          staleMs: 60_000,
        });
        const alive = () => true;
        assert.equal(await store.acquireDaemonLock(me("a", 100), alive), null);
        assert.equal(await store.acquireDaemonLock(me("a", 100), alive), null, "re-entrant for the same instance");
        assert.equal(
          (await store.acquireDaemonLock(me("b", 100), alive))?.pid,
          100,
          "another instance in the same live process",
        );
        assert.equal((await store.acquireDaemonLock(me("b", 200), alive))?.pid, 100, "held by a live process");
        assert.equal(
          await store.acquireDaemonLock(me("b", 200), () => false),
          null,
          "a killed holder's lock is taken over",
        );
        assert.equal(
          await store.acquireDaemonLock(me("a", 100, 120_000), alive),
          null,
          "a stale heartbeat is taken over",
        );
        await store.heartbeat("a", at(130_000));
        assert.equal((await store.acquireDaemonLock(me("c", 300, 140_000), alive))?.pid, 100);
        assert.equal(
          (await store.acquireDaemonLock({ ...me("d", 100, 140_000), host: "other" }, () => false))?.host,
          "h",
          "another host's fresh lock is trusted",
        );
        await store.releaseDaemonLock("a");
        assert.equal(await store.acquireDaemonLock(me("c", 300, 140_000), alive), null);
        await store.close();
      });
    } else {
      const { replicas } = capabilities;
      leaseOwnershipContract((f) => replicas(f), fresh);
    }

    it("keeps attestation results by key, across reopening", async () => {
      const { store: a, reopen } = await fresh();
      const key = `github:sandover/plasmite:${"ab".repeat(32)}`;
      assert.equal(await a.attestations.get(key), undefined);
      await a.attestations.set(key, '[{"kind":"attestation"}]');
      await a.attestations.set(`npm:${"ab".repeat(32)}`, "other kind");
      await a.attestations.set(key, '[{"kind":"attestation","v":2}]');
      await a.close();
      const b = await reopen();
      assert.equal(await b.attestations.get(key), '[{"kind":"attestation","v":2}]');
      assert.equal(await b.attestations.get(`npm:${"ab".repeat(32)}`), "other kind");
      assert.equal(await b.attestations.get(`npm:${"cd".repeat(32)}`), undefined);
      await b.close();
    });

    it("keeps first_seen and fills published_at later", async () => {
      const { store } = await fresh();
      const a = await store.noteRelease({
        project: "p",
        tag: "v1.0.0",
        version: "1.0.0",
        published_at: null,
        now: "2026-01-01T00:00:00.000Z",
      });
      const b = await store.noteRelease({
        project: "p",
        tag: "v1.0.0",
        version: "1.0.0",
        published_at: "2025-12-31T23:00:00Z",
        now: "2026-01-02T00:00:00.000Z",
      });
      const c = await store.noteRelease({
        project: "p",
        tag: "v1.0.0",
        version: "1.0.0",
        published_at: null,
        now: "2026-01-03T00:00:00.000Z",
      });
      assert.equal(a.first_seen, "2026-01-01T00:00:00.000Z");
      assert.equal(b.first_seen, "2026-01-01T00:00:00.000Z");
      assert.equal(b.published_at, "2025-12-31T23:00:00Z");
      assert.equal(c.published_at, "2025-12-31T23:00:00Z");
      await store.close();
    });
  });
}

/** A cycle of `project` (the samples are plasmite's) with one incident and one message to slack. */
function commitFor(project: string, n: number): CycleCommit {
  const base = sampleCommit(n, ["slack"]);
  const key = { project, tag: "v0.8.0", channel: "npm" as const, code: "version-missing" as const, subject: "" };
  const incident = sampleIncident({ ...key, id: incidentId(key) });
  return {
    ...base,
    report: { ...base.report, project },
    incidents: [incident],
    messages: [sampleMessage(n, incident)],
    cycle: { ...base.cycle, project },
  };
}

/** Polls `fn` until it holds or the deadline passes (no fixed sleeps). */
async function until(what: string, fn: () => Promise<boolean>, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const isLeaseLost = (e: unknown): boolean => e instanceof AppError && e.code === "E_LEASE_LOST";

/** What a project's rows look like, to show that a rejected write changed nothing. */
async function snapshot(store: StateStore, project: string): Promise<string> {
  return JSON.stringify({
    report: await store.latestReport(project),
    incidents: await store.incidents(project),
    cycles: await store.cycles(project, 1000),
    projects: await store.projects(),
    outbox: await store.outboxRows(),
    messages: await store.messageCount(),
    memory: await store.sinkMemory("slack").get("k"),
  });
}

function leaseOwnershipContract(
  replicasOf: (f: StateFixture) => { replica: (id: string, ttlMs: number) => Promise<LeaseReplica> },
  fresh: () => Promise<StateFixture>,
): void {
  it("two replicas never own one project at once, and a stale owner's late writes are rejected and change nothing", async () => {
    const f = await fresh();
    const { replica } = replicasOf(f);
    const ttlMs = 4000;
    const a = await replica("replica-a", ttlMs);
    const b = await replica("replica-b", ttlMs);
    const projects = Array.from({ length: 8 }, (_, i) => `p${i}`);
    let n = 0;
    const commit = async (r: LeaseReplica, p: string): Promise<boolean> => {
      try {
        await r.store.commitCycle(commitFor(p, n++));
        return true;
      } catch (e) {
        assert.ok(isLeaseLost(e), `a refused commit is E_LEASE_LOST (${String(e)})`);
        return false;
      }
    };
    // Both heartbeat first, so each sees the other when choosing; then rounds until the projects are split.
    await a.tick([]);
    await b.tick([]);
    let rounds = 0;
    let heldA = new Set<string>();
    await until("the projects split over both replicas", async () => {
      const [ha, hb] = await Promise.all([a.tick(projects), b.tick(projects)]);
      const results = await Promise.all(
        projects.map(async (p) => [p, await commit(a, p), await commit(b, p)] as const),
      );
      for (const [p, okA, okB] of results) {
        assert.ok(!(ha.has(p) && hb.has(p)), `${p} held by both replicas`);
        assert.ok(!(okA && okB), `${p} committed by both replicas in one round`);
        assert.equal(okA, ha.has(p), `${p}: replica-a commits exactly when it holds the lease`);
        assert.equal(okB, hb.has(p), `${p}: replica-b commits exactly when it holds the lease`);
      }
      rounds++;
      heldA = new Set(ha);
      return ha.size > 0 && hb.size > 0 && ha.size + hb.size === projects.length;
    });
    assert.ok(rounds >= 1);

    // replica-a claims an outbox row of one of its projects, then dies (stops renewing) mid-delivery.
    const victim = [...heldA][0]!;
    const claimed = await a.store.nextOutbox("slack");
    assert.ok(claimed && heldA.has(claimed.message.incident.project), "a replica claims rows of its own projects");
    const staleMemory = a.store.sinkMemory("slack");
    await until("replica-b holds every project", async () => (await b.tick(projects)).size === projects.length);

    const before = await snapshot(b.store, victim);
    assert.equal(await commit(a, victim), false, "the stale owner's late commit is rejected");
    await assert.rejects(a.store.markSent(claimed.id, new Date(T0).toISOString()), isLeaseLost);
    await assert.rejects(a.store.markRetry(claimed.id, 1, T0, "x"), isLeaseLost);
    await assert.rejects(a.store.markDead(claimed.id, 1, "x", new Date(T0).toISOString()), isLeaseLost);
    await assert.rejects(staleMemory.set("k", "stale"), isLeaseLost);
    await assert.rejects(
      a.store.recordCycleFailure({ ...commitFor(victim, 0).cycle, outcome: "error", error: "late" }, null),
      isLeaseLost,
    );
    assert.equal(await snapshot(b.store, victim), before, "the rejected writes changed nothing");

    // The new owner continues from the shared state: the claimed row is still pending, and it delivers it.
    const again = await b.store.nextOutbox("slack");
    assert.equal(again?.id, (await b.store.outboxRows({ sink: "slack", state: "pending" }))[0]?.id);
    assert.ok(again);
    await b.store.sinkMemory("slack").set("k", "fresh");
    await b.store.markSent(again.id, new Date(T0).toISOString());
    assert.equal((await b.store.outboxRows({ state: "sent" })).length, 1);
    assert.equal(await b.store.sinkMemory("slack").get("k"), "fresh");
    await a.close();
    await b.close();
  });

  it("one process at a time runs as a given replica id (the daemon lock), judged by the database's clock", async () => {
    const f = await fresh();
    const { replica } = replicasOf(f);
    const me = (instance: string, pid: number, host = "h") => ({
      instance,
      pid,
      host,
      now: new Date(T0),
      staleMs: 60_000,
    });
    const alive = () => true;
    const dead = () => false;
    const x1 = await replica("replica-x", 60_000);
    const x2 = await replica("replica-x", 60_000);
    const y = await replica("replica-y", 60_000);
    assert.equal(await x1.store.acquireDaemonLock(me("i1", 100), alive), null);
    assert.equal(await x1.store.acquireDaemonLock(me("i1", 100), alive), null, "re-entrant for the same instance");
    assert.equal(
      (await x2.store.acquireDaemonLock(me("i2", 200), alive))?.pid,
      100,
      "a second process as the same replica id is refused",
    );
    assert.equal(
      (await x2.store.acquireDaemonLock(me("i2", 200, "other"), dead))?.host,
      "h",
      "another host's fresh holder is trusted (its pid is not probed)",
    );
    assert.equal(await y.store.acquireDaemonLock(me("i3", 300), alive), null, "another replica runs beside it");
    await x1.store.heartbeat("i1", new Date(T0));
    await x1.store.releaseDaemonLock("i1");
    assert.equal(await x2.store.acquireDaemonLock(me("i2", 200), alive), null, "released: the next process runs");
    assert.equal(
      await x1.store.acquireDaemonLock(me("i4", 400), dead),
      null,
      "a killed holder on this host (a restarted container) frees the id",
    );

    // A holder that stops heartbeating goes stale after the TTL by the database's clock.
    const z1 = await replica("replica-z", 1000);
    const z2 = await replica("replica-z", 1000);
    assert.equal(await z1.store.acquireDaemonLock(me("z1", 1), alive), null);
    assert.ok(await z2.store.acquireDaemonLock(me("z2", 2, "other"), dead), "fresh: refused");
    await until(
      "the silent holder goes stale",
      async () => (await z2.store.acquireDaemonLock(me("z2", 2, "other"), dead)) === null,
    );
    for (const r of [x1, x2, y, z1, z2]) await r.close();
  });
}
