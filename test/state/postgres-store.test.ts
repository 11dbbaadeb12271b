import { after, before } from "node:test";
import pg from "pg";
import { LeaseKeeper } from "../../src/state/postgres/leases.ts";
import { openPostgresState, PostgresStateStore } from "../../src/state/postgres/store.ts";
import type { StateStore } from "../../src/state/types.ts";
import { startPostgres, type PostgresCluster } from "../helpers/postgres.ts";
import { runStateContract, type LeaseReplica, type StateFixture } from "./contract.ts";

let cluster: PostgresCluster;
before(async () => {
  cluster = await startPostgres();
});
after(() => cluster.stop());

let databases = 0;
const urls = new WeakMap<StateFixture, string>();

// The same contract as SQLite's, on a fresh database per test of a real server (reopen = a new pool, as a
// restarted replica opens it). The plain store is unfenced (as `monitor silence` opens it); ownership is proven
// by fenced replicas below.
runStateContract(
  "postgres",
  async () => {
    const url = cluster.createDatabase(`contract_${++databases}`);
    const opened: StateStore[] = [];
    const open = async (): Promise<StateStore> => {
      const store = await openPostgresState(new pg.Pool({ connectionString: url, max: 4 }), { fencing: "unfenced" });
      opened.push(store);
      return store;
    };
    const fixture: StateFixture = {
      store: await open(),
      reopen: open,
      cleanup: async () => {
        for (const s of opened) await s.close();
      },
    };
    urls.set(fixture, url);
    return fixture;
  },
  {
    ownership: "leases",
    replicas: (f) => ({
      replica: (id: string, ttlMs: number): Promise<LeaseReplica> => {
        const pool = new pg.Pool({ connectionString: urls.get(f), max: 4 });
        const keeper = new LeaseKeeper(pool, { replicaId: id, host: "h", pid: process.pid, ttlMs });
        const store = new PostgresStateStore(pool, { fencing: keeper, leaseTtlMs: ttlMs, ownsPool: false });
        return Promise.resolve({
          id,
          store,
          tick: async (projects) => new Set((await keeper.tick(projects)).owned.keys()),
          close: () => pool.end(),
        });
      },
    }),
  },
);
