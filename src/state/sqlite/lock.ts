/* eslint-disable @typescript-eslint/require-await -- SQLite answers synchronously; these methods fulfil async interfaces with settled promises (a throw becomes a rejection). */
import type { DaemonLockHolder, LockStore } from "../types.ts";
import { num, str, type SqliteDb } from "./db.ts";

/** The single-daemon lock: one row, taken over when stale or held by a dead process on this host. */
export class SqliteLock implements LockStore {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async acquireDaemonLock(
    me: { instance: string; pid: number; host: string; now: Date; staleMs: number },
    isAlive: (pid: number) => boolean,
  ): Promise<DaemonLockHolder | null> {
    return this.#db.tx(() => {
      const r = this.#db.get("SELECT * FROM daemon_lock WHERE id = 1");
      if (r && str(r, "instance") !== me.instance) {
        const holder: DaemonLockHolder = {
          pid: num(r, "pid"),
          host: str(r, "host"),
          started_at: str(r, "started_at"),
          heartbeat_at: str(r, "heartbeat_at"),
        };
        const fresh = me.now.getTime() - Date.parse(holder.heartbeat_at) < me.staleMs;
        // Another host's process cannot be probed: trust its heartbeat. On this host, a dead pid frees the lock.
        const alive = holder.host !== me.host || isAlive(holder.pid);
        if (fresh && alive) return holder;
      }
      const at = me.now.toISOString();
      this.#db.run(
        `INSERT INTO daemon_lock (id, instance, pid, host, started_at, heartbeat_at) VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, pid = excluded.pid, host = excluded.host,
           started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
        me.instance,
        me.pid,
        me.host,
        at,
        at,
      );
      return null;
    });
  }

  async heartbeat(instance: string, now: Date): Promise<void> {
    this.#db.tx(() =>
      this.#db.run(
        "UPDATE daemon_lock SET heartbeat_at = ? WHERE id = 1 AND instance = ?",
        now.toISOString(),
        instance,
      ),
    );
  }

  async releaseDaemonLock(instance: string): Promise<void> {
    this.#db.tx(() => this.#db.run("DELETE FROM daemon_lock WHERE id = 1 AND instance = ?", instance));
  }
}
