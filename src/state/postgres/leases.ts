/**
 * Project ownership by lease rows (PostgreSQL). A replica heartbeats into `replicas`, renews the leases it holds
 * and takes expired ones with `SELECT … FOR UPDATE SKIP LOCKED`. Expiry is judged by the database's `now()`,
 * never a replica's clock. Every take bumps the lease's `generation`: side-effect writes carry the generation
 * they were started under in their WHERE clause (`fenced()`), so a stale owner's late write matches no row.
 *
 * Spreading: rendezvous hashing over the live replicas picks each project's preferred owner. A replica takes an
 * expired lease it is preferred for at once, any other expired lease once it has been expired for a whole TTL
 * (nobody preferred is alive to take it), and hands a lease back when a live replica is preferred for it.
 */
import { createHash } from "node:crypto";
import type pg from "pg";

export interface LeaseOptions {
  readonly replicaId: string;
  readonly host: string;
  readonly pid: number;
  readonly ttlMs: number;
}

export interface LeaseTick {
  /** Project -> generation, for every lease this replica holds after the tick. */
  readonly owned: ReadonlyMap<string, number>;
  readonly acquired: readonly string[];
  /** Held before the tick and not any more (expired or taken while we were away). */
  readonly lost: readonly string[];
  readonly released: readonly string[];
  /** Acquired from another replica (not first ownership). */
  readonly takeovers: number;
  readonly liveReplicas: readonly string[];
}

/** The preferred owner of `project` among `replicas` (highest-random-weight hashing). */
export function rendezvousOwner(project: string, replicas: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const r of replicas) {
    const w = createHash("sha256").update(r).update("\0").update(project).digest().readBigUInt64BE(0);
    if (w > bestWeight || (w === bestWeight && best !== undefined && r < best)) {
      best = r;
      bestWeight = w;
    }
  }
  return best;
}

/**
 * The fencing predicate for a side-effect write on `project`: true only while `owner` holds the lease at
 * `generation` and it has not expired by the database's clock. Parameters are numbered from `first`.
 */
export function fenced(first: number): string {
  return `EXISTS (SELECT 1 FROM leases WHERE project = $${first} AND owner = $${first + 1} AND generation = $${first + 2} AND expires_at > now())`;
}

export class LeaseKeeper {
  readonly #pool: pg.Pool;
  readonly #opts: LeaseOptions;
  #owned = new Map<string, number>();

  constructor(pool: pg.Pool, opts: LeaseOptions) {
    this.#pool = pool;
    this.#opts = opts;
  }

  get replicaId(): string {
    return this.#opts.replicaId;
  }

  /** The generation this replica holds `project` at, as of the last tick. */
  generation(project: string): number | undefined {
    return this.#owned.get(project);
  }

  owned(): ReadonlyMap<string, number> {
    return this.#owned;
  }

  /**
   * One renew/acquire/hand-off round over `projects` (the configured set). `busy` projects (a cycle or delivery
   * in flight) are never handed back in this round.
   */
  async tick(projects: readonly string[], busy: (project: string) => boolean = () => false): Promise<LeaseTick> {
    const me = this.#opts.replicaId;
    const ttl = `${Math.max(1, Math.round(this.#opts.ttlMs))} milliseconds`;
    const before = new Map(this.#owned);
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      // The database cannot be reached (down, restarting): not knowing is not owning, as for a failed round.
      this.#owned = new Map();
      throw err;
    }
    try {
      await client.query(
        `INSERT INTO replicas (id, host, pid) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), host = EXCLUDED.host, pid = EXCLUDED.pid`,
        [me, this.#opts.host, this.#opts.pid],
      );
      const live = (
        await client.query<{ id: string }>(
          "SELECT id FROM replicas WHERE heartbeat_at > now() - $1::interval ORDER BY id",
          [ttl],
        )
      ).rows.map((r) => r.id);
      await client.query(
        "INSERT INTO leases (project, expires_at) SELECT unnest($1::text[]), '-infinity' ON CONFLICT (project) DO NOTHING",
        [projects],
      );
      const renewed = await client.query<{ project: string; generation: string }>(
        `UPDATE leases SET expires_at = now() + $2::interval, renewed_at = now()
         WHERE owner = $1 AND expires_at > now() AND project = ANY($3::text[])
         RETURNING project, generation`,
        [me, ttl, projects],
      );
      const owned = new Map<string, number>();
      for (const r of renewed.rows) owned.set(r.project, Number(r.generation));

      const handOff = [...owned.keys()].filter((p) => {
        const preferred = rendezvousOwner(p, live);
        return preferred !== undefined && preferred !== me && !busy(p);
      });
      if (handOff.length > 0) {
        await client.query("UPDATE leases SET expires_at = now() WHERE owner = $1 AND project = ANY($2::text[])", [
          me,
          handOff,
        ]);
        for (const p of handOff) owned.delete(p);
      }

      const preferred = projects.filter((p) => !owned.has(p) && rendezvousOwner(p, live) === me);
      const others = projects.filter((p) => !owned.has(p) && rendezvousOwner(p, live) !== me);
      const acquired: string[] = [];
      let takeovers = 0;
      for (const [candidates, graceCondition] of [
        [preferred, "expires_at <= now()"],
        [others, "owner IS NOT NULL AND expires_at <= now() - $3::interval"],
      ] as const) {
        if (candidates.length === 0) continue;
        await client.query("BEGIN");
        try {
          const taken = await client.query<{
            project: string;
            generation: string;
            previous_owner: string | null;
            previous_expires_at: Date | null;
          }>(
            `WITH c AS (
               SELECT project, owner, expires_at FROM leases
               WHERE project = ANY($1::text[]) AND ${graceCondition}
               FOR UPDATE SKIP LOCKED)
             UPDATE leases l SET owner = $2, generation = l.generation + 1, expires_at = now() + $3::interval,
               acquired_at = now(), renewed_at = now(),
               takeovers = l.takeovers + CASE WHEN c.owner IS NOT NULL AND c.owner <> $2 THEN 1 ELSE 0 END
             FROM c WHERE l.project = c.project
             RETURNING l.project, l.generation, c.owner AS previous_owner,
               CASE WHEN c.expires_at = '-infinity' THEN NULL ELSE c.expires_at END AS previous_expires_at`,
            [candidates, me, ttl],
          );
          for (const r of taken.rows) {
            owned.set(r.project, Number(r.generation));
            acquired.push(r.project);
            if (r.previous_owner !== null && r.previous_owner !== me) takeovers++;
            await client.query(
              `INSERT INTO lease_events (project, owner, previous_owner, generation, previous_expired_at)
               VALUES ($1, $2, $3, $4, $5)`,
              [r.project, me, r.previous_owner, r.generation, r.previous_expires_at],
            );
          }
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK");
          throw err;
        }
      }
      this.#owned = owned;
      const lost = [...before.keys()].filter((p) => !owned.has(p) && !handOff.includes(p));
      return { owned, acquired, lost, released: handOff, takeovers, liveReplicas: live };
    } catch (err) {
      // Not knowing is not owning: until a tick succeeds again, this replica holds nothing.
      this.#owned = new Map();
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * `watch --once` on a cluster: takes, outside rendezvous hashing and without joining the live replicas, every
   * lease of `projects` that nobody holds by the database's clock (never owned, expired, handed back); returns the
   * live owner of each of the others. A lease another process is taking this very moment (locked) counts as owned.
   */
  async claimFree(
    projects: readonly string[],
  ): Promise<{ owned: ReadonlyMap<string, number>; others: Map<string, string> }> {
    const me = this.#opts.replicaId;
    const ttl = `${Math.max(1, Math.round(this.#opts.ttlMs))} milliseconds`;
    const owned = new Map<string, number>();
    try {
      await this.#pool.query(
        "INSERT INTO leases (project, expires_at) SELECT unnest($1::text[]), '-infinity' ON CONFLICT (project) DO NOTHING",
        [projects],
      );
      const taken = await this.#pool.query<{ project: string; generation: string }>(
        `WITH c AS (
           SELECT project FROM leases WHERE project = ANY($1::text[]) AND expires_at <= now() FOR UPDATE SKIP LOCKED)
         UPDATE leases l SET owner = $2, generation = l.generation + 1, expires_at = now() + $3::interval,
           acquired_at = now(), renewed_at = now()
         FROM c WHERE l.project = c.project
         RETURNING l.project, l.generation`,
        [projects, me, ttl],
      );
      for (const r of taken.rows) owned.set(r.project, Number(r.generation));
      this.#owned = owned;
      const rest = await this.#pool.query<{ project: string; owner: string | null }>(
        "SELECT project, owner FROM leases WHERE project = ANY($1::text[])",
        [projects.filter((p) => !owned.has(p))],
      );
      const others = new Map(rest.rows.map((r) => [r.project, r.owner ?? "another replica"]));
      for (const p of projects) if (!owned.has(p) && !others.has(p)) others.set(p, "another replica");
      return { owned, others };
    } catch (err) {
      this.#owned = new Map();
      throw err;
    }
  }

  /** Renews what this keeper holds (claimFree's leases), and nothing else; drops what it could not renew. */
  async renewHeld(): Promise<ReadonlyMap<string, number>> {
    const me = this.#opts.replicaId;
    const ttl = `${Math.max(1, Math.round(this.#opts.ttlMs))} milliseconds`;
    const held = [...this.#owned.keys()];
    try {
      const { rows } = await this.#pool.query<{ project: string; generation: string }>(
        `UPDATE leases SET expires_at = now() + $2::interval, renewed_at = now()
         WHERE owner = $1 AND expires_at > now() AND project = ANY($3::text[]) RETURNING project, generation`,
        [me, ttl, held],
      );
      const owned = new Map<string, number>();
      for (const r of rows)
        if (this.#owned.get(r.project) === Number(r.generation)) owned.set(r.project, Number(r.generation));
      this.#owned = owned;
      return owned;
    } catch (err) {
      this.#owned = new Map();
      throw err;
    }
  }

  /** Gives back the leases this keeper holds, leaving the replica row alone (`watch --once`). */
  async releaseHeld(): Promise<void> {
    const held = [...this.#owned.keys()];
    this.#owned = new Map();
    if (held.length === 0) return;
    await this.#pool.query(
      "UPDATE leases SET expires_at = now() WHERE owner = $1 AND expires_at > now() AND project = ANY($2::text[])",
      [this.#opts.replicaId, held],
    );
  }

  /** Gives every lease back (orderly shutdown) so another replica takes over without waiting for the TTL. */
  async releaseAll(): Promise<void> {
    const me = this.#opts.replicaId;
    this.#owned = new Map();
    await this.#pool.query("UPDATE leases SET expires_at = now() WHERE owner = $1 AND expires_at > now()", [me]);
    await this.#pool.query("DELETE FROM replicas WHERE id = $1", [me]);
  }
}
