import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { AppError } from "../../src/errors.ts";
import { LeaseKeeper } from "../../src/state/postgres/leases.ts";
import { LATEST_SCHEMA_VERSION, migrate } from "../../src/state/postgres/migrate.ts";
import { MIGRATIONS } from "../../src/state/postgres/schema.ts";
import { openPostgresState, PostgresStateStore } from "../../src/state/postgres/store.ts";
import { startPostgres, type PostgresCluster } from "../helpers/postgres.ts";

let cluster: PostgresCluster;
const pools: pg.Pool[] = [];
function pool(url: string): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max: 4 });
  pools.push(p);
  return p;
}
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await Promise.all(pools.map((p) => p.end()));
  cluster.stop();
});

async function until(what: string, fn: () => Promise<boolean>, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function replica(url: string, id: string, ttlMs: number) {
  const p = pool(url);
  const keeper = new LeaseKeeper(p, { replicaId: id, host: "h", pid: process.pid, ttlMs });
  const store = new PostgresStateStore(p, { fencing: keeper, leaseTtlMs: ttlMs, ownsPool: false });
  return { keeper, store };
}

const rateLimited = (e: unknown): boolean => {
  assert.ok(e instanceof AppError && e.code === "E_RATE_LIMITED", String(e));
  const retry = e.details?.["retry_after_s"];
  assert.ok(typeof retry === "number" && retry >= 1 && retry <= 60, `retry_after_s ${String(retry)}`);
  assert.match(e.message, /cluster-wide/);
  return true;
};
const leaseLost = (e: unknown): boolean => e instanceof AppError && e.code === "E_LEASE_LOST";

test("a manual check asked of a non-owner is handed to the owner through the database, and re-taken after failover", async () => {
  const url = cluster.createDatabase("manual_handoff");
  await openPostgresState(pool(url), { fencing: "unfenced", ownsPool: false });
  const ttlMs = 3000;
  const a = replica(url, "replica-a", ttlMs);
  const b = replica(url, "replica-b", ttlMs);
  await a.keeper.tick(["solo"]);
  assert.equal(a.keeper.generation("solo"), 1, "a alone: it owns the project");
  await b.keeper.tick(["solo"]);
  const mine = b.keeper.owned().has("solo") ? b : a;
  const other = mine === a ? b : a;
  await mine.keeper.tick(["solo"]);

  const asked = await other.store.requestManualCheck("solo", { requestedBy: other.store.replicaId, limitPerMinute: 6 });
  assert.equal(asked.joined, false);
  const joined = await mine.store.requestManualCheck("solo", { requestedBy: mine.store.replicaId, limitPerMinute: 6 });
  assert.deepEqual(joined, { id: asked.id, joined: true }, "a request while one is open shares its cycle");
  assert.deepEqual(await other.store.takeManualChecks(), [], "a non-owner takes nothing");
  const taken = await mine.store.takeManualChecks();
  assert.deepEqual(
    taken.map((t) => [t.id, t.project, t.taken_by]),
    [[asked.id, "solo", mine.store.replicaId]],
  );
  assert.deepEqual(await mine.store.takeManualChecks(), [], "taken once");
  await mine.store.finishManualCheck(asked.id, { outcome: "ok", error: null });
  const done = await other.store.manualCheck(asked.id);
  assert.equal(done?.outcome, "ok");
  assert.ok(done?.finished_at);

  // The owner takes a request and dies before finishing: the next owner takes it again; the dead one's finish is fenced.
  const second = await other.store.requestManualCheck("solo", { requestedBy: "x", limitPerMinute: 6 });
  assert.equal((await mine.store.takeManualChecks())[0]?.id, second.id);
  await until("the other replica owns the project", async () => {
    await other.keeper.tick(["solo"]);
    return other.keeper.owned().has("solo");
  });
  assert.deepEqual(
    (await other.store.takeManualChecks()).map((t) => [t.id, t.taken_by]),
    [[second.id, other.store.replicaId]],
  );
  await assert.rejects(mine.store.finishManualCheck(second.id, { outcome: "ok", error: null }), leaseLost);
  assert.equal((await other.store.manualCheck(second.id))?.finished_at, null, "the stale finish changed nothing");
  await other.store.finishManualCheck(second.id, { outcome: "error", error: "E_PROBE_FAILED" });
  assert.equal((await mine.store.manualCheck(second.id))?.error, "E_PROBE_FAILED");
});

test("the manual-check rate limit is cluster-wide, counted by the database's clock, and concurrent requests share one check", async () => {
  const url = cluster.createDatabase("manual_limit");
  const first = await openPostgresState(pool(url), { fencing: "unfenced", ownsPool: false });
  const second = new PostgresStateStore(pool(url), { fencing: "unfenced", ownsPool: false });
  const owner = replica(url, "owner", 60_000);
  await owner.keeper.tick(["p"]);
  const finish = async () => {
    for (const t of await owner.store.takeManualChecks()) {
      await owner.store.finishManualCheck(t.id, { outcome: "ok", error: null });
    }
  };

  // Two replicas ask at once: one request is recorded, the other joins it.
  const both = await Promise.all([
    first.requestManualCheck("p", { requestedBy: "a", limitPerMinute: 2 }),
    second.requestManualCheck("p", { requestedBy: "b", limitPerMinute: 2 }),
  ]);
  assert.equal(both[0].id, both[1].id);
  assert.deepEqual(both.map((r) => r.joined).sort(), [false, true]);
  await finish();
  await second.requestManualCheck("p", { requestedBy: "b", limitPerMinute: 2 });
  await finish();
  await assert.rejects(first.requestManualCheck("p", { requestedBy: "a", limitPerMinute: 2 }), rateLimited);
  await assert.rejects(second.requestManualCheck("p", { requestedBy: "b", limitPerMinute: 2 }), rateLimited);
  assert.equal(
    (await first.requestManualCheck("q", { requestedBy: "a", limitPerMinute: 2 })).joined,
    false,
    "per project",
  );

  // The window is the database's: requests older than a minute by now() no longer count.
  await pool(url).query(
    "UPDATE manual_checks SET requested_at = requested_at - interval '61 seconds' WHERE project = 'p'",
  );
  assert.equal((await first.requestManualCheck("p", { requestedBy: "a", limitPerMinute: 2 })).joined, false);
});

test("an unfenced store cannot take manual checks", async () => {
  const url = cluster.createDatabase("manual_unfenced");
  const store = await openPostgresState(pool(url), { fencing: "unfenced", ownsPool: false });
  await assert.rejects(store.takeManualChecks(), (e: unknown) => e instanceof AppError && e.code === "E_INTERNAL");
});

test("opening brings a v2 database to the latest schema, and refuses a newer one", async () => {
  const url = cluster.createDatabase("schema_v2");
  assert.deepEqual(await migrate(pool(url), MIGRATIONS.slice(0, 2)), [1, 2]);
  const store = await openPostgresState(pool(url), { fencing: "unfenced", ownsPool: false });
  const { rows } = await pool(url).query<{ v: number }>("SELECT max(version) AS v FROM schema_migrations");
  assert.equal(rows[0]?.v, LATEST_SCHEMA_VERSION);
  assert.ok(LATEST_SCHEMA_VERSION >= 3);
  assert.equal((await store.requestManualCheck("p", { requestedBy: "a", limitPerMinute: 1 })).joined, false);

  await pool(url).query("INSERT INTO schema_migrations (version) VALUES ($1)", [LATEST_SCHEMA_VERSION + 1]);
  await assert.rejects(
    openPostgresState(pool(url), { fencing: "unfenced", ownsPool: false }),
    (e: unknown) =>
      e instanceof AppError && e.code === "E_STATE_SCHEMA_NEWER" && /newer than this release/.test(e.message),
  );
});
