import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import { incidentId } from "../../src/alerts/types.ts";
import { AppError } from "../../src/errors.ts";
import { LeaseKeeper } from "../../src/state/postgres/leases.ts";
import { openPostgresState, PostgresStateStore } from "../../src/state/postgres/store.ts";
import type { CycleCommit } from "../../src/state/types.ts";
import { startPostgres, type PostgresCluster } from "../helpers/postgres.ts";
import { sampleCommit, sampleIncident, sampleMessage } from "./samples.ts";

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

const leaseLost = (e: unknown): boolean => e instanceof AppError && e.code === "E_LEASE_LOST";

function commitFor(project: string, n: number, sinks = ["slack"]): CycleCommit {
  const base = sampleCommit(n, sinks);
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

function replica(url: string, id: string, ttlMs = 60_000) {
  const p = pool(url);
  const keeper = new LeaseKeeper(p, { replicaId: id, host: "h", pid: process.pid, ttlMs });
  return { keeper, store: new PostgresStateStore(p, { fencing: keeper, leaseTtlMs: ttlMs, ownsPool: false }) };
}

test("a cycle carries the generation it ran under: once the lease moved past it, the commit is rejected", async () => {
  const url = cluster.createDatabase("fence_generation");
  await openPostgresState(pool(url), { fencing: "unfenced", ownsPool: false });
  const a = replica(url, "a", 1000);
  await a.keeper.tick(["p"]);
  const started = a.keeper.generation("p")!;
  await a.store.commitCycle({ ...commitFor("p", 0), generation: started });
  // The lease lapses and a takes it again: a new generation. A cycle started under the old one must not land.
  await pool(url).query("UPDATE leases SET expires_at = now() - interval '1 second' WHERE project = 'p'");
  await a.keeper.tick(["p"]);
  assert.equal(a.keeper.generation("p"), started + 1);
  const before = await a.store.cycles("p", 10);
  await assert.rejects(a.store.commitCycle({ ...commitFor("p", 1), generation: started }), leaseLost);
  assert.deepEqual(await a.store.cycles("p", 10), before, "nothing written");
  await a.store.commitCycle({ ...commitFor("p", 2), generation: started + 1 });
  assert.equal((await a.store.cycles("p", 10)).length, 2);
  await assert.rejects(a.store.setNextCheck("not-mine", null), leaseLost);
});

test("two replicas deliver disjoint rows, each only of the projects it holds, in order per project", async () => {
  const url = cluster.createDatabase("fence_outbox");
  await openPostgresState(pool(url), { fencing: "unfenced", ownsPool: false });
  const projects = Array.from({ length: 6 }, (_, i) => `p${i}`);
  const a = replica(url, "a");
  const b = replica(url, "b");
  await a.keeper.tick([]);
  await b.keeper.tick([]);
  for (let round = 0; round < 5 && a.keeper.owned().size + b.keeper.owned().size < projects.length; round++) {
    await a.keeper.tick(projects);
    await b.keeper.tick(projects);
  }
  assert.equal(a.keeper.owned().size + b.keeper.owned().size, projects.length);
  assert.ok(a.keeper.owned().size > 0 && b.keeper.owned().size > 0);
  const owner = (p: string) => (a.keeper.owned().has(p) ? a : b);
  let n = 0;
  for (const p of projects) for (let i = 0; i < 3; i++) await owner(p).store.commitCycle(commitFor(p, n++));

  const delivered = new Map<string, string[]>();
  const drain = async (r: ReturnType<typeof replica>, name: string) => {
    for (;;) {
      const row = await r.store.nextOutbox("slack");
      if (!row) return;
      assert.ok(r.keeper.owned().has(row.message.incident.project), `${name} claimed a row of a project it holds`);
      delivered.set(row.message.incident.project, [
        ...(delivered.get(row.message.incident.project) ?? []),
        row.message.summary,
      ]);
      await r.store.markSent(row.id, new Date().toISOString());
    }
  };
  await Promise.all([drain(a, "a"), drain(b, "b")]);
  assert.deepEqual(await a.store.outboxDepth(), {}, "the outbox drained");
  assert.equal([...delivered.values()].flat().length, projects.length * 3, "each row delivered once");
  for (const [p, summaries] of delivered) {
    const ns = summaries.map((s) => Number(s.split(" ")[1]));
    assert.deepEqual(
      ns,
      [...ns].sort((x, y) => x - y),
      `${p} delivered in order`,
    );
  }
  const claims = await pool(url).query<{ project: string; claimed_by: string }>(
    "SELECT DISTINCT project, claimed_by FROM outbox",
  );
  for (const c of claims.rows) assert.equal(c.claimed_by, owner(c.project).keeper.replicaId);
});
