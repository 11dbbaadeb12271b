import type { AlertDraft } from "../../alerts/store.ts";
import type { Report } from "../../report/types.ts";
import type { CycleCommit, CycleRecord, CycleStore } from "../types.ts";
import type { PgDb, Queryable } from "./db.ts";
import type { PgIncidents } from "./incidents.ts";

/**
 * The writes of one cycle, in one transaction. On a fenced store the transaction starts with the lease guard
 * (the project's lease row: owner = this replica, generation = the one the cycle ran under, not expired by the
 * database's clock, locked FOR SHARE until commit), so a stale owner's late commit fails with E_LEASE_LOST and
 * changes nothing, and the lease cannot be taken over while the commit writes.
 */
export class PgCycles implements CycleStore {
  readonly #db: PgDb;
  readonly #incidents: PgIncidents;

  constructor(db: PgDb, incidents: PgIncidents) {
    this.#db = db;
    this.#incidents = incidents;
  }

  async commitCycle(c: CycleCommit): Promise<{ messageIds: number[] }> {
    const { report } = c;
    const generation = this.#generation(report.project, c.generation);
    return this.#db.tx(async (q) => {
      if (generation !== null) await this.#db.guard(q, report.project, generation);
      await applyChannelStates(q, report);
      await q.query(
        `INSERT INTO latest_reports (project, tag, status, checked_at, report) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project) DO UPDATE SET tag = EXCLUDED.tag, status = EXCLUDED.status,
           checked_at = EXCLUDED.checked_at, report = EXCLUDED.report`,
        [report.project, report.tag, report.status, report.checked_at, JSON.stringify(report)],
      );
      await this.#incidents.replace(q, report.project, c.incidents);
      if (c.degraded) await this.#incidents.replace(q, "*", c.degraded);
      const messageIds = await enqueue(q, report.project, c.messages, c.sinks, c.routes);
      await insertCycle(q, c.cycle);
      await upsertProject(q, c.cycle, c.next_check_at);
      return { messageIds };
    });
  }

  async recordCycleFailure(cycle: CycleRecord, next_check_at: string | null): Promise<void> {
    const generation = this.#generation(cycle.project, undefined);
    await this.#db.tx(async (q) => {
      if (generation !== null) await this.#db.guard(q, cycle.project, generation);
      await insertCycle(q, cycle);
      await upsertProject(q, cycle, next_check_at);
    });
  }

  /** Fenced too: the schedule shown for a project is its owner's. */
  async setNextCheck(project: string, at: string | null): Promise<void> {
    const generation = this.#generation(project, undefined);
    await this.#db.tx(async (q) => {
      if (generation !== null) await this.#db.guard(q, project, generation);
      await q.query(
        `INSERT INTO projects (project, next_check_at) VALUES ($1, $2)
         ON CONFLICT (project) DO UPDATE SET next_check_at = EXCLUDED.next_check_at`,
        [project, at],
      );
    });
  }

  /** null: an unfenced store. The cycle's own generation when it carries one, else the keeper's current one. */
  #generation(project: string, given: number | undefined): number | null {
    if (this.#db.fencing === null) return null;
    return given ?? this.#db.generationFor(project);
  }
}

/** Messages and one pending row per (message, sink), in order; rows carry the committing project (claims). */
async function enqueue(
  q: Queryable,
  project: string,
  messages: readonly AlertDraft[],
  sinks: readonly string[],
  routes?: readonly (readonly string[])[],
): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, m] of messages.entries()) {
    const { rows } = await q.query<{ id: string }>(
      "INSERT INTO messages (kind, incident_id, created_at, data) VALUES ($1, $2, $3, $4) RETURNING id",
      [m.kind, m.incident.id, m.created_at, JSON.stringify(m)],
    );
    const id = Number(rows[0]?.id);
    ids.push(id);
    for (const sink of routes?.[i] ?? sinks) {
      await q.query(
        `INSERT INTO outbox (message_id, sink, state, attempts, next_attempt_at, created_at, project)
         VALUES ($1, $2, 'pending', 0, 0, $3, $4)`,
        [id, sink, m.created_at, project],
      );
    }
  }
  return ids;
}

async function insertCycle(q: Queryable, c: CycleRecord): Promise<void> {
  await q.query(
    `INSERT INTO cycles (project, tag, trigger, started_at, finished_at, duration_ms, outcome, status, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [c.project, c.tag, c.trigger, c.started_at, c.finished_at, c.duration_ms, c.outcome, c.status, c.error],
  );
}

async function upsertProject(q: Queryable, c: CycleRecord, next: string | null): Promise<void> {
  const success = c.outcome === "ok" || c.outcome === "no-release" ? c.finished_at : null;
  await q.query(
    `INSERT INTO projects (project, tag, last_check_at, last_success_at, next_check_at, last_duration_ms, last_outcome, last_error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (project) DO UPDATE SET
       tag = coalesce(EXCLUDED.tag, projects.tag),
       last_check_at = EXCLUDED.last_check_at,
       last_success_at = coalesce(EXCLUDED.last_success_at, projects.last_success_at),
       next_check_at = EXCLUDED.next_check_at,
       last_duration_ms = EXCLUDED.last_duration_ms,
       last_outcome = EXCLUDED.last_outcome,
       last_error = EXCLUDED.last_error`,
    [c.project, c.tag, c.finished_at, success, next, c.duration_ms, c.outcome, c.error],
  );
}

async function applyChannelStates(q: Queryable, report: Report): Promise<void> {
  const at = report.checked_at;
  for (const ch of report.channels) {
    if (ch.status === "skipped") continue;
    const { rows } = await q.query<{ status: string; live_at: string | null }>(
      "SELECT status, live_at FROM channel_status WHERE project = $1 AND tag = $2 AND channel = $3 FOR UPDATE",
      [report.project, report.tag, ch.channel],
    );
    const prev = rows[0];
    const liveAt = prev?.live_at ?? (ch.status === "ok" ? at : null);
    if (!prev || prev.status !== ch.status) {
      await q.query(
        `INSERT INTO channel_status (project, tag, channel, status, since, live_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (project, tag, channel) DO UPDATE SET status = EXCLUDED.status, since = EXCLUDED.since,
           live_at = EXCLUDED.live_at, updated_at = EXCLUDED.updated_at`,
        [report.project, report.tag, ch.channel, ch.status, at, liveAt, at],
      );
      await q.query(
        `INSERT INTO channel_history (project, tag, channel, from_status, to_status, at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [report.project, report.tag, ch.channel, prev ? prev.status : null, ch.status, at],
      );
    } else {
      await q.query(
        "UPDATE channel_status SET live_at = $1, updated_at = $2 WHERE project = $3 AND tag = $4 AND channel = $5",
        [liveAt, at, report.project, report.tag, ch.channel],
      );
    }
  }
}
