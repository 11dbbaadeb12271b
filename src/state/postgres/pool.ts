/**
 * The one place a PostgreSQL state's connection pool is made, for every user of it (a daemon replica, `monitor
 * silence`, `monitor release`, `monitor state migrate`): the idle-in-transaction bound on every session and the
 * connection-error handlers, so no user of the state can hold a lease row locked forever or crash on a dropped
 * connection. Takes the `pg` module from the caller, which loads it only when a PostgreSQL state is configured.
 */
import type pg from "pg";

export interface StatePoolOptions {
  url: string;
  /** Connections at most (default 10). */
  max?: number;
  /** The cluster's lease TTL (default 30 s): sessions idle in a transaction end after half of it. */
  leaseTtlMs?: number;
}

/**
 * A process frozen inside a transaction (SIGSTOP, a long GC pause, a partition) keeps its session and the row locks
 * it took: a lease row it had locked (a commit's fence, a lease round) would then be skipped by every replica's SKIP
 * LOCKED and never taken over. The server ends such a session after half a lease TTL idle in a transaction, which
 * frees its locks before the lease expires.
 */
export function idleInTransactionMs(leaseTtlMs: number): number {
  return Math.max(500, Math.floor(leaseTtlMs / 2));
}

export function createStatePool(pgModule: typeof pg, o: StatePoolOptions): pg.Pool {
  const pool = new pgModule.Pool({
    connectionString: o.url,
    max: o.max ?? 10,
    connectionTimeoutMillis: 10_000,
    // Sent in each connection's startup packet: set before the first query, on every connection the pool opens.
    idle_in_transaction_session_timeout: idleInTransactionMs(o.leaseTtlMs ?? 30_000),
  });
  const ignore = (): undefined => undefined;
  // An idle connection the server drops (restart, failover) must not crash the process: the next query reports it.
  pool.on("error", ignore);
  // A session the server ends while a client is checked out (the bound above, a database restart) is an 'error'
  // event on that client: the query in flight rejects with it, and the process must not crash on the event.
  pool.on("connect", (c) => c.on("error", ignore));
  return pool;
}
