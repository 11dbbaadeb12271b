import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it, mock } from "node:test";
import { AppError } from "../../src/errors.ts";
import { openStateStore, stateDbPath } from "../../src/state/sqlite.ts";
import { SqliteValidatorCache } from "../../src/state/sqlite/cache.ts";
import { SqliteDb } from "../../src/state/sqlite/db.ts";
import type { StateStore } from "../../src/state/types.ts";
import { runStateContract } from "./contract.ts";
import { sampleCommit, T0 } from "./samples.ts";

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

// Every store-agnostic assertion, on a fresh database file per test (reopen = a new connection to the same file).
runStateContract(
  "sqlite",
  () => {
    const path = tempDb();
    const opened: StateStore[] = [openStateStore(path)];
    return Promise.resolve({
      store: opened[0]!,
      reopen: () => {
        const next = openStateStore(path);
        opened.push(next);
        return Promise.resolve(next);
      },
      cleanup: async () => {
        for (const s of opened) await s.close();
      },
    });
  },
  // One daemon per state file: the daemon lock (heartbeat, dead-pid takeover) is SQLite's ownership model.
  { ownership: "single-daemon" },
);

describe("sqlite state store (file, connections, crashes)", () => {
  it("resolves state_dir against the config's directory", () => {
    assert.equal(stateDbPath("/etc/monitor", ".monitor-state"), "/etc/monitor/.monitor-state/monitor.db");
    assert.equal(stateDbPath("/etc/monitor", "/var/lib/monitor"), "/var/lib/monitor/monitor.db");
  });

  it("re-fetchable writes commit without waiting for the disk; every other transaction keeps FULL", async () => {
    const path = tempDb();
    const db = SqliteDb.open(path);
    const level = () => Number(db.get("PRAGMA synchronous")?.["synchronous"]);
    assert.equal(level(), 2, "FULL by default");
    assert.equal(db.txRelaxed(level), 1, "NORMAL inside a relaxed transaction");
    assert.equal(level(), 2, "FULL again after it");
    assert.equal(db.tx(level), 2);
    assert.equal(
      db.tx(() => db.txRelaxed(level)),
      2,
      "inside a durable transaction a relaxed write is part of it",
    );
    assert.throws(() => db.txRelaxed(() => db.run("INSERT INTO nope VALUES (1)")));
    assert.equal(level(), 2, "FULL again after a failed relaxed transaction");
    const cache = new SqliteValidatorCache(db);
    await cache.set("GET k", {
      etag: '"e"',
      last_modified: null,
      status: 200,
      headers: {},
      body: Buffer.from("x"),
      stored_at: 1,
    });
    assert.equal(level(), 2);
    db.close();
    const again = SqliteDb.open(path);
    assert.equal(
      (await new SqliteValidatorCache(again).get("GET k"))?.etag,
      '"e"',
      "the cached row survives reopening",
    );
    again.close();
  });

  it("a cycle commit waits for the disk only when it queues an alert", async () => {
    const store = openStateStore(tempDb());
    const relaxed = mock.method(SqliteDb.prototype, "txRelaxed");
    const durable = mock.method(SqliteDb.prototype, "tx");
    try {
      await store.commitCycle(sampleCommit(0, ["slack"]));
      assert.equal(relaxed.mock.callCount(), 0, "a commit that queues a message is durable");
      assert.equal(durable.mock.callCount(), 1);
      await store.commitCycle(sampleCommit(1, ["slack"], { messages: [] }));
      assert.equal(relaxed.mock.callCount(), 1, "a commit that queues nothing is relaxed");
      assert.equal((await store.latestReport("plasmite"))?.checked_at, sampleCommit(1, []).report.checked_at);
    } finally {
      relaxed.mock.restore();
      durable.mock.restore();
      await store.close();
    }
  });

  it("a transaction left open by a dying connection is rolled back, not half-applied", async () => {
    const path = tempDb();
    await openStateStore(path).close();
    const raw = new DatabaseSync(path);
    raw.exec("BEGIN IMMEDIATE");
    raw.exec("INSERT INTO messages (kind, incident_id, created_at, data) VALUES ('open', 'x', 'now', '{}')");
    // No COMMIT: the connection goes away without cleanup.
    raw.close();
    const store = openStateStore(path);
    assert.equal(await store.messageCount(), 0);
    await store.close();
  });

  it("stays consistent when the writer is killed with SIGKILL mid-stream", async () => {
    const path = tempDb();
    await openStateStore(path).close();
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
    await other.addSilence({
      project: "*",
      channel: null,
      until: new Date(T0 + DAY).toISOString(),
      reason: null,
      created_at: new Date(T0).toISOString(),
    });
    await other.close();
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
    assert.equal((await store.latestReport("plasmite"))?.checked_at, new Date(T0 + (cycles - 1) * 1000).toISOString());
    await store.close();
  });

  it("refuses a database from a newer release", async () => {
    const path = tempDb();
    await openStateStore(path).close();
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
    await store.close();
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
    await again.close();
    const check = new DatabaseSync(path);
    assert.equal((check.prepare("PRAGMA user_version").get() as { user_version: number }).user_version, 2);
    check.close();
  });
});
