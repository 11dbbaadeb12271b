import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { incidentId, type Incident } from "../../src/alerts/types.ts";
import { AppError } from "../../src/errors.ts";
import { openStateStore, stateDbPath } from "../../src/state/sqlite.ts";
import { DEFAULT_RETENTION } from "../../src/state/retention.ts";
import type { StateStore } from "../../src/state/types.ts";
import { T0, sampleCommit, sampleIncident, sampleMessage, sampleReport } from "./samples.ts";

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "monitor-state-"));
  dirs.push(dir);
  return join(dir, "state", "monitor.db");
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const DAY = 86_400_000;

describe("sqlite state store", () => {
  it("resolves state_dir against the config's directory", () => {
    assert.equal(stateDbPath("/etc/monitor", ".monitor-state"), "/etc/monitor/.monitor-state/monitor.db");
    assert.equal(stateDbPath("/etc/monitor", "/var/lib/monitor"), "/var/lib/monitor/monitor.db");
  });

  it("commits a cycle in one transaction: channel states, history, report, incidents, outbox per sink", () => {
    const store = openStateStore(":memory:");
    const { messageIds } = store.commitCycle(sampleCommit(0, ["slack", "ergo"]));
    assert.equal(messageIds.length, 1);
    assert.deepEqual(
      store.channelStates("plasmite", "v0.8.0").map((c) => [c.channel, c.status, c.live_at !== null]),
      [
        ["github", "ok", true],
        ["npm", "drift", false],
      ],
      "skipped channels are not tracked; live_at is set on the first ok",
    );
    assert.equal(store.latestReport("plasmite")?.checked_at, new Date(T0).toISOString());
    assert.equal(store.incidents("plasmite").length, 1);
    const rows = store.outboxRows();
    assert.deepEqual(
      rows.map((r) => [r.sink, r.state, r.message.id]),
      [
        ["slack", "pending", String(messageIds[0])],
        ["ergo", "pending", String(messageIds[0])],
      ],
    );
    assert.deepEqual(store.outboxDepth(), { slack: 1, ergo: 1 });
    assert.equal(store.projects()[0]?.last_outcome, "ok");
    store.close();
  });

  it("records history only on status changes, and live_at once", () => {
    const store = openStateStore(":memory:");
    store.commitCycle(sampleCommit(0, [], { messages: [] }));
    store.commitCycle(sampleCommit(1, [], { messages: [] }));
    const fixed = sampleCommit(2, [], {
      messages: [],
      report: sampleReport(2, new Date(T0 + 2000).toISOString(), "ok"),
    });
    store.commitCycle(fixed);
    store.commitCycle(
      sampleCommit(3, [], { messages: [], report: sampleReport(3, new Date(T0 + 3000).toISOString(), "ok") }),
    );
    const npm = store.channelHistory("plasmite", "v0.8.0").filter((h) => h.channel === "npm");
    assert.deepEqual(
      npm.map((h) => [h.from, h.to, h.at]),
      [
        [null, "drift", new Date(T0).toISOString()],
        ["drift", "ok", new Date(T0 + 2000).toISOString()],
      ],
    );
    const state = store.channelStates("plasmite", "v0.8.0").find((c) => c.channel === "npm");
    assert.equal(state?.live_at, new Date(T0 + 2000).toISOString(), "when npm went live");
    assert.equal(state?.since, new Date(T0 + 2000).toISOString());
    assert.equal(state?.updated_at, new Date(T0 + 3000).toISOString());
    store.close();
  });

  it("rolls the whole cycle back when any part fails", () => {
    const store = openStateStore(":memory:");
    const bad = sampleCommit(0, ["slack"], {
      incidents: [sampleIncident(), { ...sampleIncident(), project: "other", id: "other|x" }],
    });
    assert.throws(
      () => store.commitCycle(bad),
      (e: unknown) => e instanceof AppError && e.code === "E_INTERNAL",
    );
    assert.equal(store.latestReport("plasmite"), null);
    assert.deepEqual(store.outboxRows(), []);
    assert.equal(store.messageCount(), 0);
    assert.deepEqual(store.channelStates("plasmite"), []);
    assert.deepEqual(store.projects(), []);
    store.close();
  });

  it("replaces a project's incident set and keeps registry-degraded ones apart", () => {
    const store = openStateStore(":memory:");
    const degradedKey = {
      project: "*",
      tag: "*",
      channel: "npm" as const,
      code: "registry-degraded" as const,
      subject: "",
    };
    const degraded: Incident = { ...sampleIncident(), ...degradedKey, id: incidentId(degradedKey) };
    store.commitCycle(sampleCommit(0, [], { degraded: [degraded] }));
    assert.equal(store.openIncidents().length, 2);
    store.commitCycle(sampleCommit(1, [], { incidents: [], messages: [] }));
    assert.deepEqual(store.incidents("plasmite"), []);
    assert.deepEqual(
      store.incidents("*").map((i) => i.id),
      ["*|*|npm|registry-degraded|"],
      "degraded: null leaves them untouched",
    );
    store.commitCycle(sampleCommit(2, [], { incidents: [], messages: [], degraded: [] }));
    assert.deepEqual(store.incidents("*"), []);
    store.close();
  });

  it("survives close and reopen", () => {
    const path = tempDb();
    const a = openStateStore(path);
    a.commitCycle(sampleCommit(0, ["slack"]));
    a.addSilence({
      project: "plasmite",
      channel: null,
      until: new Date(T0 + DAY).toISOString(),
      reason: "release week",
      created_at: new Date(T0).toISOString(),
    });
    a.sinkMemory("ergo").set("task:x", "ABC123");
    a.close();
    const b = openStateStore(path);
    assert.equal(b.incidents("plasmite")[0]?.state, "open");
    assert.equal(b.nextOutbox("slack")?.message.summary, "message 0");
    assert.equal(b.silences()[0]?.reason, "release week");
    assert.equal(b.sinkMemory("ergo").get("task:x"), "ABC123");
    assert.equal(b.sinkMemory("slack").get("task:x"), null, "memory is per sink");
    b.close();
  });

  it("a transaction left open by a dying connection is rolled back, not half-applied", () => {
    const path = tempDb();
    openStateStore(path).close();
    const raw = new DatabaseSync(path);
    raw.exec("BEGIN IMMEDIATE");
    raw.exec("INSERT INTO messages (kind, incident_id, created_at, data) VALUES ('open', 'x', 'now', '{}')");
    // No COMMIT: the connection goes away without cleanup.
    raw.close();
    const store = openStateStore(path);
    assert.equal(store.messageCount(), 0);
    store.close();
  });

  it("stays consistent when the writer is killed with SIGKILL mid-stream", async () => {
    const path = tempDb();
    openStateStore(path).close();
    const child = spawn(process.execPath, [join(import.meta.dirname, "crash-writer.ts"), path], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        if (d.toString().includes("ready")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`writer exited early (${code})`)));
    });
    // A second process writes while the first one is busy (busy_timeout, not SQLITE_BUSY).
    const other = openStateStore(path);
    other.addSilence({
      project: "*",
      channel: null,
      until: new Date(T0 + DAY).toISOString(),
      reason: null,
      created_at: new Date(T0).toISOString(),
    });
    other.close();
    await new Promise((r) => setTimeout(r, 150));
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGKILL");
    await exited;

    const raw = new DatabaseSync(path);
    assert.equal((raw.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok");
    const count = (sql: string) => Number((raw.prepare(sql).get() as { n: number }).n);
    const messages = count("SELECT count(*) AS n FROM messages");
    const cycles = count("SELECT count(*) AS n FROM cycles");
    assert.ok(messages >= 20, `at least the first 20 cycles are there (got ${messages})`);
    assert.equal(count("SELECT count(*) AS n FROM outbox"), 2 * messages, "every message has its two outbox rows");
    assert.equal(cycles, messages, "every cycle record came with its message");
    assert.equal(count("SELECT count(*) AS n FROM silences"), 1);
    raw.close();
    const store = openStateStore(path);
    assert.equal(store.latestReport("plasmite")?.checked_at, new Date(T0 + (cycles - 1) * 1000).toISOString());
    store.close();
  });

  it("keeps outbox rows in order and tracks retries, sends and dead letters", () => {
    const store = openStateStore(":memory:");
    store.commitCycle(sampleCommit(0, ["slack"], { messages: [sampleMessage(1), sampleMessage(2), sampleMessage(3)] }));
    const first = store.nextOutbox("slack");
    assert.equal(first?.message.summary, "message 1");
    store.markRetry(first.id, 1, T0 + 5000, "HTTP 500");
    const again = store.nextOutbox("slack");
    assert.equal(again?.id, first?.id, "a retrying row keeps the head of the queue");
    assert.deepEqual([again?.attempts, again?.next_attempt_at, again?.last_error], [1, T0 + 5000, "HTTP 500"]);
    store.markSent(first.id, new Date(T0).toISOString());
    const second = store.nextOutbox("slack");
    assert.equal(second?.message.summary, "message 2");
    store.markDead(second.id, 1, "HTTP 404 no_service", new Date(T0).toISOString());
    assert.equal(store.nextOutbox("slack")?.message.summary, "message 3");
    assert.deepEqual(
      store.outboxRows({ state: "dead" }).map((r) => [r.message.summary, r.last_error]),
      [["message 2", "HTTP 404 no_service"]],
    );
    assert.deepEqual(
      store.outboxRows({ state: "sent" }).map((r) => r.attempts),
      [2],
    );
    assert.deepEqual(store.outboxDepth(), { slack: 1 });
    store.close();
  });

  it("is a ValidatorCache (binary bodies round-trip)", () => {
    const path = tempDb();
    const a = openStateStore(path);
    const body = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    a.validatorCache.set("GET https://api.example/x", {
      etag: 'W/"abc"',
      last_modified: null,
      status: 200,
      headers: { etag: 'W/"abc"' },
      body,
      stored_at: 42,
    });
    a.close();
    const b = openStateStore(path);
    const got = b.validatorCache.get("GET https://api.example/x");
    assert.ok(got);
    assert.deepEqual(
      [got.etag, got.last_modified, got.status, got.stored_at, got.headers],
      ['W/"abc"', null, 200, 42, { etag: 'W/"abc"' }],
    );
    assert.ok(Buffer.isBuffer(got.body) && got.body.equals(body));
    assert.equal(b.validatorCache.get("GET https://api.example/y"), undefined);
    b.close();
  });

  it("lists silences with expired ones, and removes by id", () => {
    const store = openStateStore(":memory:");
    const active = store.addSilence({
      project: "plasmite",
      channel: "npm",
      until: new Date(T0 + 3_600_000).toISOString(),
      reason: "npm outage",
      created_at: new Date(T0).toISOString(),
    });
    store.addSilence({
      project: "plasmite",
      channel: null,
      until: new Date(T0 - 1).toISOString(),
      reason: null,
      created_at: new Date(T0 - DAY).toISOString(),
    });
    assert.equal(store.silences().length, 2);
    assert.deepEqual(
      store.activeSilences(new Date(T0)).map((s) => s.id),
      [active.id],
    );
    assert.equal(store.removeSilence(active.id), true);
    assert.equal(store.removeSilence(active.id), false);
    assert.deepEqual(store.activeSilences(new Date(T0)), []);
    store.close();
  });

  it("retention removes old history, resolved incidents, finished outbox rows, unused cache, cycles, expired silences", () => {
    const store = openStateStore(":memory:");
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
    store.noteRelease({ project: "plasmite", tag: "v0.7.0", version: "0.7.0", published_at: null, now: oldAt });
    store.commitCycle(oldCommit);
    const oldRow = store.nextOutbox("slack")!;
    store.markSent(oldRow.id, oldAt);
    store.addSilence({ project: "plasmite", channel: null, until: oldAt, reason: null, created_at: oldAt });
    // The current release, today.
    store.noteRelease({
      project: "plasmite",
      tag: "v0.8.0",
      version: "0.8.0",
      published_at: null,
      now: new Date(T0).toISOString(),
    });
    store.commitCycle(sampleCommit(1, ["slack"], { incidents: [resolved, sampleIncident()] }));
    store.validatorCache.set("GET https://api.example/fresh", {
      etag: '"f"',
      last_modified: null,
      status: 200,
      headers: {},
      body: Buffer.alloc(1),
      stored_at: 0,
    });

    const counts = store.prune(DEFAULT_RETENTION, new Date(T0 + 2000));
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
    assert.equal(store.release("plasmite", "v0.7.0"), null);
    assert.ok(store.release("plasmite", "v0.8.0"), "the current release stays");
    assert.deepEqual(
      store.incidents("plasmite").map((i) => i.tag),
      ["v0.8.0"],
    );
    assert.equal(store.outboxRows().length, 1, "the pending row of today stays");
    assert.ok(store.validatorCache.get("GET https://api.example/fresh"));
    const later = store.prune(DEFAULT_RETENTION, new Date(Date.now() + 8 * DAY));
    assert.equal(later.http_cache, 1, "cache entries unused for 7 days go");
    store.close();
  });

  it("holds a single-daemon lock", () => {
    const store: StateStore = openStateStore(":memory:");
    const at = (ms: number) => new Date(T0 + ms);
    const me = (instance: string, pid: number, ms = 0) => ({ instance, pid, host: "h", now: at(ms), staleMs: 60_000 });
    const alive = () => true;
    assert.equal(store.acquireDaemonLock(me("a", 100), alive), null);
    assert.equal(store.acquireDaemonLock(me("a", 100), alive), null, "re-entrant for the same instance");
    assert.equal(store.acquireDaemonLock(me("b", 100), alive)?.pid, 100, "another instance in the same live process");
    assert.equal(store.acquireDaemonLock(me("b", 200), alive)?.pid, 100, "held by a live process");
    assert.equal(
      store.acquireDaemonLock(me("b", 200), () => false),
      null,
      "a killed holder's lock is taken over",
    );
    assert.equal(store.acquireDaemonLock(me("a", 100, 120_000), alive), null, "a stale heartbeat is taken over");
    store.heartbeat("a", at(130_000));
    assert.equal(store.acquireDaemonLock(me("c", 300, 140_000), alive)?.pid, 100);
    assert.equal(
      store.acquireDaemonLock({ ...me("d", 100, 140_000), host: "other" }, () => false)?.host,
      "h",
      "another host's fresh lock is trusted",
    );
    store.releaseDaemonLock("a");
    assert.equal(store.acquireDaemonLock(me("c", 300, 140_000), alive), null);
    store.close();
  });

  it("keeps first_seen and fills published_at later", () => {
    const store = openStateStore(":memory:");
    const a = store.noteRelease({
      project: "p",
      tag: "v1.0.0",
      version: "1.0.0",
      published_at: null,
      now: "2026-01-01T00:00:00.000Z",
    });
    const b = store.noteRelease({
      project: "p",
      tag: "v1.0.0",
      version: "1.0.0",
      published_at: "2025-12-31T23:00:00Z",
      now: "2026-01-02T00:00:00.000Z",
    });
    const c = store.noteRelease({
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
    store.close();
  });

  it("refuses a database from a newer release", () => {
    const path = tempDb();
    openStateStore(path).close();
    const raw = new DatabaseSync(path);
    raw.exec("PRAGMA user_version = 99");
    raw.close();
    assert.throws(
      () => openStateStore(path),
      (e: unknown) => e instanceof AppError && e.code === "E_STATE" && /newer/.test(e.message),
    );
  });
  it("keeps attestation results by (kind, digest), across reopening, and brings a v1 file forward", async () => {
    const path = tempDb();
    const store = openStateStore(path);
    const key = `github:sandover/plasmite:${"ab".repeat(32)}`;
    assert.equal(await store.attestations.get(key), undefined);
    await store.attestations.set(key, '[{"kind":"attestation"}]');
    await store.attestations.set(`npm:${"ab".repeat(32)}`, "other kind");
    assert.equal(await store.attestations.get(key), '[{"kind":"attestation"}]');
    store.close();
    const raw = new DatabaseSync(path);
    assert.deepEqual(
      raw
        .prepare("SELECT kind, digest FROM attestations ORDER BY kind")
        .all()
        .map((r) => [r["kind"], r["digest"]]),
      [
        ["github", `sandover/plasmite:${"ab".repeat(32)}`],
        ["npm", "ab".repeat(32)],
      ],
    );
    // A state file from before the table existed (schema v1).
    raw.exec("DROP TABLE attestations; PRAGMA user_version = 1");
    raw.close();
    const again = openStateStore(path);
    assert.equal(await again.attestations.get(key), undefined);
    await again.attestations.set(key, "v");
    assert.equal(await again.attestations.get(key), "v");
    again.close();
    const check = new DatabaseSync(path);
    assert.equal((check.prepare("PRAGMA user_version").get() as { user_version: number }).user_version, 2);
    check.close();
  });
});
