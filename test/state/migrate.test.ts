import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import pg from "pg";
import { cellKey } from "../../src/state/migrate-command.ts";
import { LeaseKeeper } from "../../src/state/postgres/leases.ts";
import { openPostgresState, PostgresStateStore } from "../../src/state/postgres/store.ts";
import { openStateStore, stateDbPath } from "../../src/state/sqlite.ts";
import type { StateStore } from "../../src/state/types.ts";
import { readSqlite, TRANSFER_TABLES, type TableRows } from "../../src/state/transfer.ts";
import { runCli, tempDir } from "../helpers/cli.ts";
import { startPostgres, type PostgresCluster } from "../helpers/postgres.ts";
import { sampleCommit, sampleIncident, T0 } from "../state/samples.ts";

let cluster: PostgresCluster;
before(async () => {
  cluster = await startPostgres();
});
after(() => cluster.stop());

/** A state with rows in every copied table: cycles with incidents and messages, sent/retried/dead outbox rows. */
async function populate(dir: string): Promise<void> {
  const store = openStateStore(stateDbPath(dir, "state"));
  await store.noteRelease({
    project: "plasmite",
    tag: "v0.8.0",
    version: "0.8.0",
    published_at: null,
    now: "2026-03-01T12:00:00.000Z",
  });
  for (let n = 1; n <= 4; n++) await store.commitCycle(sampleCommit(n, ["slack", "ergo"]));
  await store.commitCycle(
    sampleCommit(5, ["slack"], {
      incidents: [sampleIncident({ state: "resolved", resolved_at: new Date(T0 + 5000).toISOString() })],
    }),
  );
  const first = await store.nextOutbox("slack");
  assert.ok(first);
  await store.markSent(first.id, "2026-03-01T12:01:00.000Z");
  const second = await store.nextOutbox("slack");
  assert.ok(second);
  await store.markRetry(second.id, 1, T0 + 60_000, "HTTP 503");
  const ergo = await store.nextOutbox("ergo");
  assert.ok(ergo);
  await store.markDead(ergo.id, 9, "E_SINK_PERMANENT", "2026-03-01T12:02:00.000Z");
  await store.recordCycleFailure(
    {
      project: "other",
      tag: null,
      trigger: "schedule",
      started_at: "2026-03-01T12:00:00.000Z",
      finished_at: "2026-03-01T12:00:01.000Z",
      duration_ms: 1000,
      outcome: "timeout",
      status: null,
      error: "deadline",
    },
    "2026-03-01T12:05:00.000Z",
  );
  await store.validatorCache.set("GET https://api.example/x", {
    etag: 'W/"abc"',
    last_modified: null,
    status: 200,
    headers: { etag: 'W/"abc"' },
    body: Buffer.from([0, 1, 2, 255, 254, 10, 13]),
    stored_at: 42,
  });
  await store.sinkMemory("ergo").set("epic:plasmite@v0.8.0", "ABCDEF");
  // The SQLite store writes synchronously; its promise only reports the (already done) write.
  void (await store.attestations.set("github:sandover/plasmite:" + "ab".repeat(32), '[{"kind":"none"}]'));
  await store.addSilence({
    project: "plasmite",
    channel: "npm",
    until: "2027-01-01T00:00:00.000Z",
    reason: "mirror lag",
    created_at: "2026-03-01T12:00:00.000Z",
  });
  await store.close();
}

function tables(dir: string): TableRows {
  const db = new DatabaseSync(stateDbPath(dir, "state"));
  try {
    return readSqlite(db);
  } finally {
    db.close();
  }
}

function normalised(rows: TableRows): Record<string, unknown[]> {
  return Object.fromEntries(TRANSFER_TABLES.map((t) => [t, rows[t].map((r) => r.map(cellKey))]));
}

test("state migrate: SQLite to PostgreSQL and back gives equal tables, and the copy is a working state", async () => {
  const src = tempDir();
  await populate(src);
  const before = tables(src);
  for (const t of TRANSFER_TABLES) assert.ok(before[t].length > 0, `sample state has rows in ${t}`);
  // Every table of the SQLite state is copied, but the instance-local daemon lock.
  const raw = new DatabaseSync(stateDbPath(src, "state"));
  const all = raw
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => String(r["name"]));
  raw.close();
  assert.deepEqual(all, [...TRANSFER_TABLES, "daemon_lock"].sort());

  const url = cluster.createDatabase("migrate_rt");
  const up = await runCli(["state", "migrate", "--from", "sqlite:state", "--to", url, "--json"], { cwd: src });
  assert.equal(up.code, 0, up.stderr);
  const upCounts = JSON.parse(up.stdout) as { tables: Record<string, number> };
  for (const t of TRANSFER_TABLES) assert.equal(upCounts.tables[t], before[t].length, t);

  const back = tempDir();
  const down = await runCli(["state", "migrate", "--from", url, "--to", "sqlite:state"], { cwd: back });
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /^copied \d+ rows from postgres:\/\/127\.0\.0\.1:\d+\/migrate_rt to sqlite:state/);
  assert.deepEqual(normalised(tables(back)), normalised(before));

  // The round-tripped file is a state the store reads: the pending slack row is next, the silence is there.
  const store = openStateStore(stateDbPath(back, "state"));
  try {
    assert.equal((await store.outboxDepth()).slack, 4);
    assert.equal((await store.silences())[0]?.reason, "mirror lag");
    assert.equal((await store.validatorCache.get("GET https://api.example/x"))?.body.at(3), 255);
    assert.equal(await store.sinkMemory("ergo").get("epic:plasmite@v0.8.0"), "ABCDEF");
  } finally {
    await store.close();
  }
});

test("state migrate refuses a non-empty destination, bad locations, and never prints the password", async () => {
  const src = tempDir();
  await populate(src);
  const url = cluster.createDatabase("migrate_full");
  assert.equal((await runCli(["state", "migrate", "--from", "sqlite:state", "--to", url], { cwd: src })).code, 0);
  const again = await runCli(["state", "migrate", "--from", "sqlite:state", "--to", url], { cwd: src });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /destination PostgreSQL database is not empty \(table releases has 1 rows\)/);

  const same = await runCli(["state", "migrate", "--from", "sqlite:a", "--to", "sqlite:b"], { cwd: src });
  assert.equal(same.code, 2);
  assert.match(same.stderr, /one SQLite state and one PostgreSQL database/);
  const missing = await runCli(["state", "migrate", "--to", url], { cwd: src });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--from is required/);
  const bogus = await runCli(["state", "migrate", "--from", "mysql://u:hunter22@h/db", "--to", "sqlite:x"], {
    cwd: src,
  });
  assert.equal(bogus.code, 2);
  assert.doesNotMatch(bogus.stderr, /hunter22/);

  // A wrong password on a reachable server: the error names the database, not the secret.
  const secretUrl = url.replace("postgres@", "postgres:s3cretpassw0rd@").replace("127.0.0.1", "localhost:1");
  const refused = await runCli(
    ["state", "migrate", "--from", "sqlite:state", "--to", secretUrl.replace(/:\d+\//, "/")],
    {
      cwd: src,
    },
  );
  assert.notEqual(refused.code, 0);
  assert.doesNotMatch(refused.stderr + refused.stdout, /s3cretpassw0rd/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, "no stack trace");
});

/** Everything the store interfaces show of a state (what a daemon on either engine would read). */
async function view(store: StateStore): Promise<unknown> {
  const projects = ["plasmite", "other", "*"];
  return {
    releases: await Promise.all(projects.map((p) => store.release(p, "v0.8.0"))),
    reports: await store.latestReports(),
    channels: await Promise.all(projects.map((p) => store.channelStates(p))),
    history: await store.channelHistory("plasmite", "v0.8.0"),
    incidents: await Promise.all(projects.map((p) => store.incidents(p))),
    open: await store.openIncidents(),
    outbox: await store.outboxRows(),
    depth: await store.outboxDepth(),
    messages: await store.messageCount(),
    silences: await store.silences(),
    projects: await store.projects(),
    cycles: await Promise.all(projects.map((p) => store.cycles(p, 100))),
    memory: await store.sinkMemory("ergo").get("epic:plasmite@v0.8.0"),
    validator: (await store.validatorCache.get("GET https://api.example/x"))?.body.toString("hex"),
    attestation: await store.attestations.get("github:sandover/plasmite:" + "ab".repeat(32)),
  };
}

test("state migrate: the PostgreSQL copy reads the same through the store, and a replica owning the project delivers its pending rows", async () => {
  const src = tempDir();
  await populate(src);
  const url = cluster.createDatabase("migrate_view");
  const up = await runCli(["state", "migrate", "--from", "sqlite:state", "--to", url], { cwd: src });
  assert.equal(up.code, 0, up.stderr);

  const sqlite = openStateStore(stateDbPath(src, "state"));
  const postgres = await openPostgresState(new pg.Pool({ connectionString: url, max: 2 }), { fencing: "unfenced" });
  try {
    assert.deepEqual(await view(postgres), await view(sqlite));
  } finally {
    await sqlite.close();
    await postgres.close();
  }

  // Rows copied from SQLite carry no lease project; the copy gives them their incident's, so the owner claims them.
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const keeper = new LeaseKeeper(pool, { replicaId: "monitor-0", host: "h", pid: 1, ttlMs: 60_000 });
    await keeper.tick(["plasmite", "other"]);
    const replica = new PostgresStateStore(pool, { fencing: keeper, ownsPool: false });
    const head = await replica.nextOutbox("slack");
    assert.ok(head, "the migrated pending slack row is claimable by the project's owner");
    assert.equal(head.message.incident.project, "plasmite");
    await replica.markSent(head.id, "2026-03-01T12:10:00.000Z");
    assert.equal((await replica.outboxDepth()).slack, 3);
  } finally {
    await pool.end();
  }
});
