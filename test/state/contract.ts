import { strict as assert } from "node:assert";
import { afterEach, describe, it } from "node:test";
import { incidentId, type Incident } from "../../src/alerts/types.ts";
import { AppError } from "../../src/errors.ts";
import { DEFAULT_RETENTION } from "../../src/state/retention.ts";
import type { StateStore } from "../../src/state/types.ts";
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

const DAY = 86_400_000;

export function runStateContract(name: string, makeStore: MakeStore): void {
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
