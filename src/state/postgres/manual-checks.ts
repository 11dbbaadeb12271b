import { AppError } from "../../errors.ts";
import type { ManualCheckRecord, ManualCheckStore } from "../types.ts";
import { int, leaseLost, textOrNull, type PgDb } from "./db.ts";

/** The manual-check window (as the single daemon's, src/daemon/daemon.ts). */
const WINDOW = "60 seconds";

/**
 * Manual checks handed from any replica to the project's owner through the `manual_checks` table, and the
 * cluster-wide rate limit counted by the database's clock. Requests for one project are serialised on its lease
 * row (FOR UPDATE; an advisory lock would survive a frozen process), so two replicas cannot both admit the
 * request that goes over the limit.
 */
export class PgManualChecks implements ManualCheckStore {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  async requestManualCheck(
    project: string,
    o: { requestedBy: string; limitPerMinute: number },
  ): Promise<{ id: number; joined: boolean }> {
    return this.#db.tx(async (q) => {
      await q.query("INSERT INTO leases (project, expires_at) VALUES ($1, '-infinity') ON CONFLICT DO NOTHING", [
        project,
      ]);
      await q.query("SELECT 1 FROM leases WHERE project = $1 FOR UPDATE", [project]);
      const open = await q.query<{ id: string }>(
        "SELECT id FROM manual_checks WHERE project = $1 AND finished_at IS NULL ORDER BY id LIMIT 1",
        [project],
      );
      if (open.rows[0]) return { id: int(open.rows[0].id), joined: true };
      const { rows } = await q.query<{ n: string; retry_ms: string | null }>(
        `SELECT count(*) AS n,
           extract(epoch FROM min(requested_at) + $2::interval - clock_timestamp()) * 1000 AS retry_ms
         FROM manual_checks WHERE project = $1 AND requested_at > clock_timestamp() - $2::interval`,
        [project, WINDOW],
      );
      const n = Number(rows[0]?.n ?? 0);
      if (n >= o.limitPerMinute) {
        const retry = Math.max(1, Math.ceil(Number(rows[0]?.retry_ms ?? 60_000) / 1000));
        throw new AppError(
          "E_RATE_LIMITED",
          `${project} already ran ${o.limitPerMinute} manual checks in the last minute (settings.server.manual_checks_per_minute, cluster-wide); retry in ${retry} s`,
          { details: { retry_after_s: retry } },
        );
      }
      const ins = await q.query<{ id: string }>(
        "INSERT INTO manual_checks (project, requested_by, requested_at) VALUES ($1, $2, clock_timestamp()) RETURNING id",
        [project, o.requestedBy],
      );
      return { id: int(ins.rows[0]?.id), joined: false };
    });
  }

  async takeManualChecks(): Promise<ManualCheckRecord[]> {
    const fencing = this.#requireFencing("take manual checks");
    const [projects, gens] = this.#db.ownedArrays();
    if (projects.length === 0) return [];
    const { rows } = await this.#db.query(
      `UPDATE manual_checks m SET taken_by = $1, taken_at = clock_timestamp(), taken_generation = l.generation
       FROM leases l JOIN unnest($2::text[], $3::bigint[]) AS mine(project, generation)
         ON mine.project = l.project AND mine.generation = l.generation
       WHERE l.project = m.project AND l.owner = $1 AND l.expires_at > clock_timestamp() AND m.finished_at IS NULL
         AND (m.taken_by IS DISTINCT FROM $1 OR m.taken_generation IS DISTINCT FROM l.generation)
       RETURNING m.*`,
      [fencing, projects, gens],
    );
    return rows.map(toRecord).sort((a, b) => a.id - b.id);
  }

  async finishManualCheck(id: number, o: { outcome: "ok" | "error"; error: string | null }): Promise<void> {
    const me = this.#requireFencing("finish manual checks");
    const [projects, gens] = this.#db.ownedArrays();
    const { rowCount } = await this.#db.query(
      `UPDATE manual_checks m SET finished_at = clock_timestamp(), outcome = $2, error = $3
       WHERE m.id = $1 AND m.finished_at IS NULL AND m.taken_by = $4 AND EXISTS (
         SELECT 1 FROM leases l JOIN unnest($5::text[], $6::bigint[]) AS mine(project, generation)
           ON mine.project = l.project AND mine.generation = l.generation
         WHERE l.project = m.project AND l.owner = $4 AND l.generation = m.taken_generation
           AND l.expires_at > clock_timestamp())`,
      [id, o.outcome, o.error, me, projects, gens],
    );
    if (rowCount === 1) return;
    const row = await this.manualCheck(id);
    if (row && row.finished_at === null)
      throw leaseLost(row.project, `manual check ${id} is not taken under its lease`);
  }

  async manualCheck(id: number): Promise<ManualCheckRecord | null> {
    const { rows } = await this.#db.query("SELECT * FROM manual_checks WHERE id = $1", [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  #requireFencing(what: string): string {
    if (this.#db.fencing === null) throw new AppError("E_INTERNAL", `an unfenced state store cannot ${what}`);
    return this.#db.fencing.replicaId;
  }
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : textOrNull(v));

function toRecord(r: Record<string, unknown>): ManualCheckRecord {
  return {
    id: int(r["id"]),
    project: String(r["project"]),
    requested_by: String(r["requested_by"]),
    requested_at: iso(r["requested_at"]) ?? "",
    taken_by: textOrNull(r["taken_by"]),
    taken_at: iso(r["taken_at"]),
    finished_at: iso(r["finished_at"]),
    outcome: textOrNull(r["outcome"]) as ManualCheckRecord["outcome"],
    error: textOrNull(r["error"]),
  };
}
