/**
 * The PostgreSQL state store's connection pool, transactions and fencing. A store is either fenced (a daemon
 * replica: every side-effect write carries the lease generation of its project, see leases.ts) or unfenced (a
 * tool such as `monitor silence`, or a test of the plain contract): unfenced stores must never run cycles or
 * deliver alerts in a cluster.
 */
import type pg from "pg";
import { AppError } from "../../errors.ts";

/** What a fenced store needs from the lease keeper (LeaseKeeper fits): who we are and what we hold. */
export interface Fencing {
  readonly replicaId: string;
  /** The generation this replica holds `project` at (as of its last lease tick), or undefined. */
  generation(project: string): number | undefined;
  owned(): ReadonlyMap<string, number>;
}

export type Queryable = Pick<pg.PoolClient, "query">;

export class PgDb {
  readonly pool: pg.Pool;
  /** For logs and errors: the database URL without credentials. */
  readonly path: string;
  readonly fencing: Fencing | null;
  readonly replicaId: string;
  readonly ttlMs: number;

  constructor(pool: pg.Pool, o: { path: string; fencing: Fencing | null; replicaId: string; ttlMs: number }) {
    this.pool = pool;
    this.path = o.path;
    this.fencing = o.fencing;
    this.replicaId = o.replicaId;
    this.ttlMs = o.ttlMs;
  }

  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params as unknown[]);
  }

  /** One transaction on one connection; rolled back when `fn` throws. */
  async tx<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      try {
        const out = await fn(client);
        await client.query("COMMIT");
        return out;
      } catch (err) {
        await client.query("ROLLBACK");
        throw err;
      }
    } finally {
      client.release();
    }
  }

  /** The generation to fence a write on `project` with; throws E_LEASE_LOST when this replica does not hold it. */
  generationFor(project: string): number {
    const g = this.fencing?.generation(project);
    if (g === undefined) throw leaseLost(project, "this replica does not hold its lease");
    return g;
  }

  /** The projects this replica holds and their generations, as two parallel arrays (for unnest in SQL). */
  ownedArrays(): [string[], number[]] {
    const owned = [...(this.fencing?.owned() ?? new Map<string, number>())];
    return [owned.map(([p]) => p), owned.map(([, g]) => g)];
  }

  /**
   * Inside a transaction: checks that this replica holds `project` at `generation` by the database's clock and
   * locks the lease row until commit (FOR SHARE), so the lease cannot move while the transaction writes.
   */
  async guard(c: Queryable, project: string, generation: number): Promise<void> {
    const { rowCount } = await c.query(
      `SELECT 1 FROM leases WHERE project = $1 AND owner = $2 AND generation = $3 AND expires_at > clock_timestamp()
       FOR SHARE`,
      [project, this.replicaId, generation],
    );
    if (rowCount !== 1) throw leaseLost(project, `the lease moved past generation ${generation}`);
  }
}

export function leaseLost(project: string, why: string): AppError {
  return new AppError("E_LEASE_LOST", `lease on ${project} lost: ${why}; the write was not applied`, {
    details: { project },
  });
}

export const int = (v: unknown): number => Number(v);
export const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const textOrNull = (v: unknown): string | null =>
  v === null || v === undefined ? null : typeof v === "string" ? v : JSON.stringify(v);
