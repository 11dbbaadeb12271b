import type { PruneCounts, RetentionPolicy, RetentionStore } from "../types.ts";
import type { PgDb } from "./db.ts";

/**
 * Deletes what settings.retention no longer keeps, in one transaction (the SQLite store's rules). Idempotent and
 * touching only finished rows, so any replica may run it; cluster tables (leases, lease_events, replicas) are
 * not pruned here, finished manual checks are (with the cycles).
 */
export class PgRetention implements RetentionStore {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  async prune(policy: RetentionPolicy, now: Date): Promise<PruneCounts> {
    const t = now.getTime();
    const before = (ms: number) => new Date(t - ms).toISOString();
    return this.#db.tx(async (c): Promise<PruneCounts> => {
      const del = async (sql: string, param: string | number): Promise<number> =>
        (await c.query(sql, [param])).rowCount ?? 0;
      const history = await del("DELETE FROM channel_history WHERE at < $1", before(policy.history_ms));
      const channels = await del(
        `DELETE FROM channel_status WHERE updated_at < $1 AND NOT EXISTS (
           SELECT 1 FROM latest_reports l WHERE l.project = channel_status.project AND l.tag = channel_status.tag)`,
        before(policy.history_ms),
      );
      const releases = await del(
        `DELETE FROM releases WHERE first_seen < $1 AND NOT EXISTS (
           SELECT 1 FROM latest_reports l WHERE l.project = releases.project AND l.tag = releases.tag)`,
        before(policy.history_ms),
      );
      const incidents = await del(
        "DELETE FROM incidents WHERE state = 'resolved' AND resolved_at < $1",
        before(policy.resolved_incidents_ms),
      );
      const outbox =
        (await del("DELETE FROM outbox WHERE state = 'sent' AND finished_at < $1", before(policy.sent_outbox_ms))) +
        (await del("DELETE FROM outbox WHERE state = 'dead' AND finished_at < $1", before(policy.dead_outbox_ms)));
      const messages = await del(
        "DELETE FROM messages WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = messages.id)",
        before(policy.sent_outbox_ms),
      );
      const http_cache = await del("DELETE FROM http_cache WHERE used_at < $1", t - policy.http_cache_ms);
      const attestations = await del("DELETE FROM attestations WHERE used_at < $1", t - policy.http_cache_ms);
      const cycles = await del("DELETE FROM cycles WHERE started_at < $1", before(policy.cycles_ms));
      await del("DELETE FROM manual_checks WHERE finished_at < $1::timestamptz", before(policy.cycles_ms));
      const silences = await del("DELETE FROM silences WHERE until < $1", before(policy.expired_silences_ms));
      return { history, channels, releases, incidents, outbox, messages, http_cache, attestations, cycles, silences };
    });
  }
}
