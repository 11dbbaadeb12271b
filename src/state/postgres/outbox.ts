import type { AlertDraft, OutboxRow, OutboxState, OutboxStore } from "../../alerts/store.ts";
import type { AlertKind, SinkMemory } from "../../alerts/types.ts";
import { int, leaseLost, textOrNull, type PgDb } from "./db.ts";

/** The row a fenced store last claimed per sink: sink-memory writes during its delivery are fenced on it. */
interface Claim {
  id: number;
  project: string;
  generation: number;
}

/**
 * The `<lease row>` predicate for outbox row `o`: this replica (`$me`) owns the row's project at the generation
 * it claimed the row under, that is also the generation this replica believes it holds (`$projects`/`$gens`,
 * from its last lease tick), and the lease has not expired by the database's clock.
 */
const FENCE = (me: string, projects: string, gens: string): string =>
  `EXISTS (SELECT 1 FROM leases l JOIN unnest(${projects}::text[], ${gens}::bigint[]) AS mine(project, generation)
     ON mine.project = l.project AND mine.generation = l.generation
   WHERE l.project = o.project AND l.owner = ${me} AND l.generation = o.claimed_generation
     AND l.expires_at > clock_timestamp())`;

/**
 * Messages, their per-sink outbox rows, and each sink's key-value memory. On a fenced store the outbox is
 * claimed per row under the lease: nextOutbox only returns (and claims: claimed_by, claimed_generation) a row
 * of a project this replica holds, and markSent/markRetry/markDead apply only while that claim's lease holds,
 * else E_LEASE_LOST and nothing changes. Order is kept per (sink, project), the only order a cluster can keep.
 */
export class PgOutbox implements OutboxStore {
  readonly #db: PgDb;
  readonly #claims = new Map<string, Claim>();

  constructor(db: PgDb) {
    this.#db = db;
  }

  async nextOutbox(sink: string): Promise<OutboxRow | null> {
    const fencing = this.#db.fencing;
    if (fencing === null) {
      const { rows } = await this.#db.query(
        `SELECT o.*, m.data FROM outbox o JOIN messages m ON m.id = o.message_id
         WHERE o.sink = $1 AND o.state = 'pending' ORDER BY o.id LIMIT 1`,
        [sink],
      );
      return rows[0] ? toOutboxRow(rows[0]) : null;
    }
    const [projects, gens] = this.#db.ownedArrays();
    if (projects.length === 0) {
      this.#claims.delete(sink);
      return null;
    }
    // No SKIP LOCKED: a row locked by this replica's own concurrent claim is waited for, never jumped over.
    const { rows } = await this.#db.query(
      `WITH c AS (
         SELECT o.id, l.generation FROM outbox o
         JOIN leases l ON l.project = o.project
         JOIN unnest($2::text[], $3::bigint[]) AS mine(project, generation)
           ON mine.project = l.project AND mine.generation = l.generation
         WHERE o.sink = $1 AND o.state = 'pending' AND l.owner = $4 AND l.expires_at > clock_timestamp()
         ORDER BY o.id LIMIT 1
         FOR UPDATE OF o)
       UPDATE outbox o SET claimed_by = $4, claimed_generation = c.generation FROM c WHERE o.id = c.id
       RETURNING o.*, (SELECT m.data FROM messages m WHERE m.id = o.message_id) AS data`,
      [sink, projects, gens, fencing.replicaId],
    );
    const r = rows[0];
    if (!r) {
      this.#claims.delete(sink);
      return null;
    }
    this.#claims.set(sink, {
      id: int(r["id"]),
      project: String(r["project"]),
      generation: int(r["claimed_generation"]),
    });
    return toOutboxRow(r);
  }

  async markSent(id: number, at: string): Promise<void> {
    await this.#mark(
      id,
      "state = 'sent', attempts = attempts + 1, sent_at = $2, finished_at = $2, last_error = NULL",
      "",
      [at],
    );
  }

  async markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.#mark(id, "attempts = $2, next_attempt_at = $3, last_error = $4", "AND o.state = 'pending'", [
      attempts,
      nextAttemptAt,
      error,
    ]);
  }

  async markDead(id: number, attempts: number, error: string, at: string): Promise<void> {
    await this.#mark(id, "state = 'dead', attempts = $2, last_error = $3, finished_at = $4", "", [attempts, error, at]);
  }

  /** One fenced UPDATE of row `id` (`set` uses $2…); a row the fence rejects is E_LEASE_LOST, a missing one a no-op. */
  async #mark(id: number, set: string, where: string, values: unknown[]): Promise<void> {
    const fencing = this.#db.fencing;
    if (fencing === null) {
      await this.#db.query(`UPDATE outbox o SET ${set} WHERE o.id = $1 ${where}`, [id, ...values]);
      return;
    }
    const [projects, gens] = this.#db.ownedArrays();
    const n = values.length;
    const me = `$${n + 2}`;
    const fence = FENCE(me, `$${n + 3}`, `$${n + 4}`);
    const { rowCount } = await this.#db.query(
      `UPDATE outbox o SET ${set} WHERE o.id = $1 ${where} AND o.claimed_by = ${me} AND ${fence}`,
      [id, ...values, fencing.replicaId, projects, gens],
    );
    if (rowCount === 1) return;
    const { rows } = await this.#db.query<{ project: string | null; fenced: boolean }>(
      `SELECT o.project, (o.claimed_by = $2 AND ${FENCE("$2", "$3", "$4")}) AS fenced FROM outbox o WHERE o.id = $1`,
      [id, fencing.replicaId, projects, gens],
    );
    const row = rows[0];
    if (row && row.fenced !== true) {
      throw leaseLost(
        row.project ?? "(no project)",
        `outbox row ${id} is not claimed under a lease this replica holds`,
      );
    }
  }

  async outboxRows(filter: { sink?: string; state?: OutboxState } = {}): Promise<OutboxRow[]> {
    const { rows } = await this.#db.query(
      `SELECT o.*, m.data FROM outbox o JOIN messages m ON m.id = o.message_id
       WHERE ($1::text IS NULL OR o.sink = $1) AND ($2::text IS NULL OR o.state = $2) ORDER BY o.id`,
      [filter.sink ?? null, filter.state ?? null],
    );
    return rows.map(toOutboxRow);
  }

  /** Pending rows per sink, cluster-wide. */
  async outboxDepth(): Promise<Record<string, number>> {
    const { rows } = await this.#db.query<{ sink: string; n: string }>(
      "SELECT sink, count(*) AS n FROM outbox WHERE state = 'pending' GROUP BY sink",
    );
    const out: Record<string, number> = {};
    for (const r of [...rows].sort((a, b) => (a.sink < b.sink ? -1 : 1))) out[r.sink] = Number(r.n);
    return out;
  }

  async messageCount(kind?: AlertKind): Promise<number> {
    const { rows } = await this.#db.query<{ n: string }>(
      "SELECT count(*) AS n FROM messages WHERE $1::text IS NULL OR kind = $1",
      [kind ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * A sink's memory. On a fenced store it is bound to the row the sink is delivering (the last one claimed for
   * it when the memory is taken, as the outbox does right before deliver()): writes apply only while that claim's
   * lease holds, else E_LEASE_LOST and nothing is written (a stale owner cannot overwrite an issue number or an
   * epic id).
   */
  sinkMemory(sink: string): SinkMemory {
    const db = this.#db;
    const claim = this.#claims.get(sink) ?? null;
    return {
      async get(key) {
        const { rows } = await db.query<{ value: string }>(
          "SELECT value FROM sink_memory WHERE sink = $1 AND key = $2",
          [sink, key],
        );
        return rows[0]?.value ?? null;
      },
      async set(key, value) {
        const at = new Date().toISOString();
        const upsert = "ON CONFLICT (sink, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at";
        if (db.fencing === null) {
          await db.query(`INSERT INTO sink_memory (sink, key, value, updated_at) VALUES ($1, $2, $3, $4) ${upsert}`, [
            sink,
            key,
            value,
            at,
          ]);
          return;
        }
        if (claim === null) throw leaseLost(`sink ${sink}`, "no delivery is claimed for this sink");
        const [projects, gens] = db.ownedArrays();
        const { rowCount } = await db.query(
          `INSERT INTO sink_memory (sink, key, value, updated_at)
           SELECT $1, $2, $3, $4 WHERE EXISTS (
             SELECT 1 FROM outbox o WHERE o.id = $5 AND o.claimed_by = $6 AND o.claimed_generation = $7
               AND ${FENCE("$6", "$8", "$9")})
           ${upsert}`,
          [sink, key, value, at, claim.id, db.fencing.replicaId, claim.generation, projects, gens],
        );
        if (rowCount !== 1) throw leaseLost(claim.project, `sink ${sink}'s memory write for outbox row ${claim.id}`);
      },
    };
  }
}

export function toOutboxRow(r: Record<string, unknown>): OutboxRow {
  const draft = JSON.parse(String(r["data"])) as AlertDraft;
  return {
    id: int(r["id"]),
    sink: String(r["sink"]),
    state: String(r["state"]) as OutboxState,
    attempts: int(r["attempts"]),
    next_attempt_at: int(r["next_attempt_at"]),
    created_at: String(r["created_at"]),
    sent_at: textOrNull(r["sent_at"]),
    last_error: textOrNull(r["last_error"]),
    message: { id: String(int(r["message_id"])), ...draft },
  };
}
