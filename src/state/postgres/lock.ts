import type { DaemonLockHolder, LockStore } from "../types.ts";
import { int, type PgDb } from "./db.ts";

/**
 * The daemon lock on a shared state: many daemons run on one PostgreSQL state (that is the point), each as a
 * replica with its own id, owning projects by lease (leases.ts). What stays exclusive is the replica id: one
 * process at a time may run as a given replica, judged by its heartbeat against the database's clock (a
 * heartbeat older than the lease TTL is stale), or held by a dead process on this host (a restarted container).
 * `me.now` and `me.staleMs` (a replica's clock) are not used: the database's clock judges staleness.
 */
export class PgLock implements LockStore {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  async acquireDaemonLock(
    me: { instance: string; pid: number; host: string; now: Date; staleMs: number },
    isAlive: (pid: number) => boolean,
  ): Promise<DaemonLockHolder | null> {
    const ttl = `${Math.max(1, Math.round(this.#db.ttlMs))} milliseconds`;
    return this.#db.tx(async (q) => {
      await q.query("INSERT INTO replicas (id, host, pid) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", [
        this.#db.replicaId,
        me.host,
        me.pid,
      ]);
      const { rows } = await q.query<{
        instance: string | null;
        host: string;
        pid: number;
        started_at: Date;
        heartbeat_at: Date;
        fresh: boolean;
      }>("SELECT *, heartbeat_at > now() - $2::interval AS fresh FROM replicas WHERE id = $1 FOR UPDATE", [
        this.#db.replicaId,
        ttl,
      ]);
      const r = rows[0];
      // Another host's process cannot be probed: trust its heartbeat. On this host, a dead pid frees the id.
      const alive = r !== undefined && (r.host !== me.host || isAlive(int(r.pid)));
      if (r && r.instance !== null && r.instance !== me.instance && r.fresh && alive) {
        return {
          pid: int(r.pid),
          host: r.host,
          started_at: r.started_at.toISOString(),
          heartbeat_at: r.heartbeat_at.toISOString(),
        };
      }
      await q.query(
        `UPDATE replicas SET instance = $2, host = $3, pid = $4, heartbeat_at = now(),
           started_at = CASE WHEN instance IS DISTINCT FROM $2 THEN now() ELSE started_at END
         WHERE id = $1`,
        [this.#db.replicaId, me.instance, me.host, me.pid],
      );
      return null;
    });
  }

  async heartbeat(instance: string): Promise<void> {
    await this.#db.query("UPDATE replicas SET heartbeat_at = now() WHERE id = $1 AND instance = $2", [
      this.#db.replicaId,
      instance,
    ]);
  }

  async releaseDaemonLock(instance: string): Promise<void> {
    await this.#db.query("UPDATE replicas SET instance = NULL WHERE id = $1 AND instance = $2", [
      this.#db.replicaId,
      instance,
    ]);
  }
}
