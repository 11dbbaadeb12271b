/* eslint-disable @typescript-eslint/require-await -- SQLite answers synchronously; these methods fulfil async interfaces with settled promises (a throw becomes a rejection). */
import type { AlertDraft, OutboxRow, OutboxState, OutboxStore } from "../../alerts/store.ts";
import type { AlertKind, SinkMemory } from "../../alerts/types.ts";
import { num, str, strOrNull, type Row, type SqliteDb } from "./db.ts";

/** Messages, their per-sink outbox rows, and each sink's key-value memory. */
export class SqliteOutbox implements OutboxStore {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  /** Writes the messages and one pending row per (message, sink), in order. Call inside the cycle's transaction. */
  enqueue(
    messages: readonly AlertDraft[],
    sinks: readonly string[],
    routes?: readonly (readonly string[])[],
  ): number[] {
    const ids: number[] = [];
    for (const [i, m] of messages.entries()) {
      const { lastInsertRowid: id } = this.#db.run(
        "INSERT INTO messages (kind, incident_id, created_at, data) VALUES (?, ?, ?, ?)",
        m.kind,
        m.incident.id,
        m.created_at,
        JSON.stringify(m),
      );
      ids.push(id);
      for (const sink of routes?.[i] ?? sinks) {
        this.#db.run(
          "INSERT INTO outbox (message_id, sink, state, attempts, next_attempt_at, created_at) VALUES (?, ?, 'pending', 0, 0, ?)",
          id,
          sink,
          m.created_at,
        );
      }
    }
    return ids;
  }

  async nextOutbox(sink: string): Promise<OutboxRow | null> {
    const r = this.#db.get(
      `SELECT o.*, m.data FROM outbox o JOIN messages m ON m.id = o.message_id
       WHERE o.sink = ? AND o.state = 'pending' ORDER BY o.id LIMIT 1`,
      sink,
    );
    return r ? toOutboxRow(r) : null;
  }

  async markSent(id: number, at: string): Promise<void> {
    this.#db.tx(() =>
      this.#db.run(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, finished_at = ?, last_error = NULL WHERE id = ?",
        at,
        at,
        id,
      ),
    );
  }

  async markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    this.#db.tx(() =>
      this.#db.run(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'",
        attempts,
        nextAttemptAt,
        error,
        id,
      ),
    );
  }

  async markDead(id: number, attempts: number, error: string, at: string): Promise<void> {
    this.#db.tx(() =>
      this.#db.run(
        "UPDATE outbox SET state = 'dead', attempts = ?, last_error = ?, finished_at = ? WHERE id = ?",
        attempts,
        error,
        at,
        id,
      ),
    );
  }

  async outboxRows(filter: { sink?: string; state?: OutboxState } = {}): Promise<OutboxRow[]> {
    return this.#db
      .all(
        `SELECT o.*, m.data FROM outbox o JOIN messages m ON m.id = o.message_id
         WHERE (?1 IS NULL OR o.sink = ?1) AND (?2 IS NULL OR o.state = ?2) ORDER BY o.id`,
        filter.sink ?? null,
        filter.state ?? null,
      )
      .map(toOutboxRow);
  }

  async outboxDepth(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.#db.all("SELECT sink, count(*) AS n FROM outbox WHERE state = 'pending' GROUP BY sink")) {
      out[str(r, "sink")] = num(r, "n");
    }
    return out;
  }

  async messageCount(kind?: AlertKind): Promise<number> {
    const r = this.#db.get("SELECT count(*) AS n FROM messages WHERE ?1 IS NULL OR kind = ?1", kind ?? null);
    return r ? num(r, "n") : 0;
  }

  sinkMemory(sink: string): SinkMemory {
    const db = this.#db;
    return {
      async get(key) {
        const r = db.get("SELECT value FROM sink_memory WHERE sink = ? AND key = ?", sink, key);
        return r ? str(r, "value") : null;
      },
      async set(key, value) {
        db.tx(() =>
          db.run(
            `INSERT INTO sink_memory (sink, key, value, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (sink, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
            sink,
            key,
            value,
            new Date().toISOString(),
          ),
        );
      },
    };
  }
}

function toOutboxRow(r: Row): OutboxRow {
  const draft = JSON.parse(str(r, "data")) as AlertDraft;
  return {
    id: num(r, "id"),
    sink: str(r, "sink"),
    state: str(r, "state") as OutboxState,
    attempts: num(r, "attempts"),
    next_attempt_at: num(r, "next_attempt_at"),
    created_at: str(r, "created_at"),
    sent_at: strOrNull(r, "sent_at"),
    last_error: strOrNull(r, "last_error"),
    message: { id: String(num(r, "message_id")), ...draft },
  };
}
