import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { fenced, LeaseKeeper, rendezvousOwner } from "../../src/state/postgres/leases.ts";
import { LATEST_SCHEMA_VERSION, migrate } from "../../src/state/postgres/migrate.ts";
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

/** Polls `fn` until it returns true or the deadline passes (no fixed sleeps). */
async function until(what: string, fn: () => Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const projects = Array.from({ length: 30 }, (_, i) => `org/p${i}`);

test("migrations apply once, concurrently from three replicas, and a newer schema is refused", async () => {
  const url = cluster.createDatabase("mig");
  const results = await Promise.all([pool(url), pool(url), pool(url)].map((p) => migrate(p)));
  assert.deepEqual(
    results.flat().sort(),
    Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
  );
  assert.deepEqual(await migrate(pool(url)), []);
  const p = pool(url);
  await p.query("INSERT INTO schema_migrations (version) VALUES ($1)", [LATEST_SCHEMA_VERSION + 5]);
  await assert.rejects(migrate(p), (err: { code?: string; message: string }) => {
    assert.equal(err.code, "E_STATE_SCHEMA_NEWER");
    assert.match(err.message, new RegExp(`v${LATEST_SCHEMA_VERSION + 5}, newer than this release knows`));
    return true;
  });
});

test("rendezvous hashing is stable and spreads projects over replicas", () => {
  const replicas = ["a", "b", "c"];
  const counts = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const o = rendezvousOwner(`org/p${i}`, replicas)!;
    assert.equal(rendezvousOwner(`org/p${i}`, [...replicas].reverse()), o);
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  for (const r of replicas) assert.ok((counts.get(r) ?? 0) > 60, `replica ${r} owns ${counts.get(r)} of 300`);
  assert.equal(rendezvousOwner("x", []), undefined);
});

test("two replicas split the projects, each owned exactly once; a dead replica's leases move on expiry", async () => {
  const url = cluster.createDatabase("lease");
  await migrate(pool(url));
  const ttlMs = 1500;
  const a = new LeaseKeeper(pool(url), { replicaId: "replica-a", host: "h", pid: 1, ttlMs });
  const b = new LeaseKeeper(pool(url), { replicaId: "replica-b", host: "h", pid: 2, ttlMs });
  // Both heartbeat first, so each sees the other as live when choosing.
  await a.tick([]);
  await b.tick([]);
  await until("every project owned", async () => {
    await a.tick(projects);
    await b.tick(projects);
    return a.owned().size + b.owned().size === projects.length;
  });
  for (const p of projects) assert.ok(a.owned().has(p) !== b.owned().has(p), `${p} owned exactly once`);
  assert.ok(a.owned().size >= 5 && b.owned().size >= 5, `spread ${a.owned().size}/${b.owned().size}`);

  // a dies (stops renewing). Its old generation must be fenced out as soon as the lease expires by the DB clock.
  const victim = [...a.owned().keys()][0]!;
  const staleGeneration = a.generation(victim)!;
  const check = pool(url);
  const fence = async (owner: string, gen: number): Promise<boolean> =>
    (await check.query<{ ok: boolean }>(`SELECT ${fenced(1)} AS ok`, [victim, owner, gen])).rows[0]!.ok;
  assert.equal(await fence("replica-a", staleGeneration), true);
  await until("b owns everything", async () => {
    await b.tick(projects);
    return b.owned().size === projects.length;
  });
  assert.equal(await fence("replica-a", staleGeneration), false, "the dead owner's write is rejected");
  assert.equal(await fence("replica-b", b.generation(victim)!), true);
  assert.equal(b.generation(victim), staleGeneration + 1);

  const events = await check.query<{ previous_owner: string; gap_ms: number }>(
    `SELECT e.previous_owner, extract(epoch FROM e.at - (e.previous_expired_at - $2::interval)) * 1000 AS gap_ms
     FROM lease_events e WHERE e.owner = 'replica-b' AND e.previous_owner = 'replica-a' AND e.project = $1`,
    [victim, `${ttlMs} milliseconds`],
  );
  assert.equal(events.rows.length, 1);
  // Taken over no sooner than the expiry: the gap since a's last renewal is at least one TTL.
  assert.ok(Number(events.rows[0]!.gap_ms) >= ttlMs, `gap ${events.rows[0]!.gap_ms} ms`);

  // a comes back: it learns it lost them and holds nothing it did not re-acquire through rendezvous.
  const back = await a.tick(projects);
  assert.ok(back.lost.includes(victim) || a.generation(victim) !== staleGeneration);
  await until("the split is restored", async () => {
    await a.tick(projects);
    await b.tick(projects);
    return a.owned().size > 0 && a.owned().size + b.owned().size === projects.length;
  });
  for (const p of projects) assert.ok(a.owned().has(p) !== b.owned().has(p), `${p} owned exactly once after return`);
});

test("an orderly shutdown hands leases over without waiting for the TTL", async () => {
  const url = cluster.createDatabase("handover");
  await migrate(pool(url));
  const a = new LeaseKeeper(pool(url), { replicaId: "a", host: "h", pid: 1, ttlMs: 600_000 });
  const b = new LeaseKeeper(pool(url), { replicaId: "b", host: "h", pid: 2, ttlMs: 600_000 });
  await a.tick(projects);
  assert.equal(a.owned().size, projects.length);
  await a.releaseAll();
  // b is now the only live replica and preferred for everything; a 10-minute TTL would otherwise block it.
  await b.tick(projects);
  assert.equal(b.owned().size, projects.length);
});
