/* eslint-disable @typescript-eslint/require-await -- SQLite answers synchronously; these methods fulfil async interfaces with settled promises (a throw becomes a rejection). */
import type { PruneCounts, RetentionPolicy, RetentionStore } from "../types.ts";
import type { SqliteDb } from "./db.ts";

/** Deletes what settings.retention no longer keeps, in one transaction, then gives the space back. */
export class SqliteRetention implements RetentionStore {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async prune(policy: RetentionPolicy, now: Date): Promise<PruneCounts> {
    const db = this.#db;
    const t = now.getTime();
    const before = (ms: number) => new Date(t - ms).toISOString();
    const counts = db.tx((): PruneCounts => {
      const history = db.run("DELETE FROM channel_history WHERE at < ?", before(policy.history_ms)).changes;
      // Rows of the tag a project currently reports are kept whatever their age.
      const channels = db.run(
        `DELETE FROM channel_status WHERE updated_at < ? AND NOT EXISTS (
           SELECT 1 FROM latest_reports l WHERE l.project = channel_status.project AND l.tag = channel_status.tag)`,
        before(policy.history_ms),
      ).changes;
      const releases = db.run(
        `DELETE FROM releases WHERE first_seen < ? AND NOT EXISTS (
           SELECT 1 FROM latest_reports l WHERE l.project = releases.project AND l.tag = releases.tag)`,
        before(policy.history_ms),
      ).changes;
      const incidents = db.run(
        "DELETE FROM incidents WHERE state = 'resolved' AND resolved_at < ?",
        before(policy.resolved_incidents_ms),
      ).changes;
      const outbox =
        db.run("DELETE FROM outbox WHERE state = 'sent' AND finished_at < ?", before(policy.sent_outbox_ms)).changes +
        db.run("DELETE FROM outbox WHERE state = 'dead' AND finished_at < ?", before(policy.dead_outbox_ms)).changes;
      const messages = db.run(
        "DELETE FROM messages WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = messages.id)",
        before(policy.sent_outbox_ms),
      ).changes;
      const http_cache = db.run("DELETE FROM http_cache WHERE used_at < ?", t - policy.http_cache_ms).changes;
      // Results of digests no release under watch uses any more (same age rule as the validators).
      const attestations = db.run("DELETE FROM attestations WHERE used_at < ?", t - policy.http_cache_ms).changes;
      const cycles = db.run("DELETE FROM cycles WHERE started_at < ?", before(policy.cycles_ms)).changes;
      const silences = db.run("DELETE FROM silences WHERE until < ?", before(policy.expired_silences_ms)).changes;
      return { history, channels, releases, incidents, outbox, messages, http_cache, attestations, cycles, silences };
    });
    db.exec("PRAGMA incremental_vacuum");
    if (db.path !== ":memory:") db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return counts;
  }
}
