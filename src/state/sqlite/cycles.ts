/* eslint-disable @typescript-eslint/require-await -- SQLite answers synchronously; these methods fulfil async interfaces with settled promises (a throw becomes a rejection). */
import type { Report } from "../../report/types.ts";
import type { CycleCommit, CycleRecord, CycleStore } from "../types.ts";
import { str, strOrNull, type SqliteDb } from "./db.ts";
import type { SqliteIncidents } from "./incidents.ts";
import type { SqliteOutbox } from "./outbox.ts";

/** The writes of one cycle; commitCycle spans channel states, the report, incidents and the outbox. */
export class SqliteCycles implements CycleStore {
  readonly #db: SqliteDb;
  readonly #incidents: SqliteIncidents;
  readonly #outbox: SqliteOutbox;

  constructor(db: SqliteDb, incidents: SqliteIncidents, outbox: SqliteOutbox) {
    this.#db = db;
    this.#incidents = incidents;
    this.#outbox = outbox;
  }

  /**
   * A cycle that queues no alert commits without waiting for the disk (`txRelaxed`): in WAL mode a power loss can
   * only drop the last transactions, and losing cycles that queued nothing is as if they had not run yet (the next
   * cycle recomputes the same incidents from the ones before and queues what they would have). A commit that
   * queues an alert waits for the disk: once a message is in the outbox its delivery may start, and a delivered
   * alert must not come back after a restart. In steady state no cycle queues anything, and the fsync was ~1 ms of
   * blocked event loop per cycle (docs/benchmarks.md, "Where a steady cycle's CPU goes").
   */
  async commitCycle(c: CycleCommit): Promise<{ messageIds: number[] }> {
    const write = c.messages.length > 0 ? this.#db.tx.bind(this.#db) : this.#db.txRelaxed.bind(this.#db);
    return write(() => {
      const { report } = c;
      this.#applyChannelStates(report);
      this.#db.run(
        `INSERT INTO latest_reports (project, tag, status, checked_at, report) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (project) DO UPDATE SET tag = excluded.tag, status = excluded.status,
           checked_at = excluded.checked_at, report = excluded.report`,
        report.project,
        report.tag,
        report.status,
        report.checked_at,
        JSON.stringify(report),
      );
      this.#incidents.replace(report.project, c.incidents);
      if (c.degraded) this.#incidents.replace("*", c.degraded);
      const messageIds = this.#outbox.enqueue(c.messages, c.sinks, c.routes);
      this.#insertCycle(c.cycle);
      this.#upsertProject(c.cycle, c.next_check_at);
      return { messageIds };
    });
  }

  async recordCycleFailure(cycle: CycleRecord, next_check_at: string | null): Promise<void> {
    this.#db.tx(() => {
      this.#insertCycle(cycle);
      this.#upsertProject(cycle, next_check_at);
    });
  }

  async setNextCheck(project: string, at: string | null): Promise<void> {
    // A schedule hint (recomputed at start): not worth a wait for the disk.
    this.#db.txRelaxed(() =>
      this.#db.run(
        `INSERT INTO projects (project, next_check_at) VALUES (?, ?)
       ON CONFLICT (project) DO UPDATE SET next_check_at = excluded.next_check_at`,
        project,
        at,
      ),
    );
  }

  #insertCycle(c: CycleRecord): void {
    this.#db.run(
      `INSERT INTO cycles (project, tag, trigger, started_at, finished_at, duration_ms, outcome, status, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      c.project,
      c.tag,
      c.trigger,
      c.started_at,
      c.finished_at,
      c.duration_ms,
      c.outcome,
      c.status,
      c.error,
    );
  }

  #upsertProject(c: CycleRecord, next: string | null): void {
    const success = c.outcome === "ok" || c.outcome === "no-release" ? c.finished_at : null;
    this.#db.run(
      `INSERT INTO projects (project, tag, last_check_at, last_success_at, next_check_at, last_duration_ms, last_outcome, last_error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project) DO UPDATE SET
         tag = coalesce(excluded.tag, projects.tag),
         last_check_at = excluded.last_check_at,
         last_success_at = coalesce(excluded.last_success_at, projects.last_success_at),
         next_check_at = excluded.next_check_at,
         last_duration_ms = excluded.last_duration_ms,
         last_outcome = excluded.last_outcome,
         last_error = excluded.last_error`,
      c.project,
      c.tag,
      c.finished_at,
      success,
      next,
      c.duration_ms,
      c.outcome,
      c.error,
    );
  }

  #applyChannelStates(report: Report): void {
    const at = report.checked_at;
    for (const ch of report.channels) {
      if (ch.status === "skipped") continue;
      const prev = this.#db.get(
        "SELECT status, live_at FROM channel_status WHERE project = ? AND tag = ? AND channel = ?",
        report.project,
        report.tag,
        ch.channel,
      );
      const liveAt = strOrNull(prev ?? {}, "live_at") ?? (ch.status === "ok" ? at : null);
      if (!prev || str(prev, "status") !== ch.status) {
        this.#db.run(
          `INSERT INTO channel_status (project, tag, channel, status, since, live_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (project, tag, channel) DO UPDATE SET status = excluded.status, since = excluded.since,
             live_at = excluded.live_at, updated_at = excluded.updated_at`,
          report.project,
          report.tag,
          ch.channel,
          ch.status,
          at,
          liveAt,
          at,
        );
        this.#db.run(
          "INSERT INTO channel_history (project, tag, channel, from_status, to_status, at) VALUES (?, ?, ?, ?, ?, ?)",
          report.project,
          report.tag,
          ch.channel,
          prev ? str(prev, "status") : null,
          ch.status,
          at,
        );
      } else {
        this.#db.run(
          "UPDATE channel_status SET live_at = ?, updated_at = ? WHERE project = ? AND tag = ? AND channel = ?",
          liveAt,
          at,
          report.project,
          report.tag,
          ch.channel,
        );
      }
    }
  }
}
