import type { IncidentStore } from "../../alerts/store.ts";
import type { Incident } from "../../alerts/types.ts";
import { AppError } from "../../errors.ts";
import type { PgDb, Queryable } from "./db.ts";
import { byKey } from "./history.ts";

export class PgIncidents implements IncidentStore {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  async incidents(project: string): Promise<Incident[]> {
    const { rows } = await this.#db.query("SELECT id, data FROM incidents WHERE project = $1", [project]);
    return byKey(rows, (r) => String(r["id"])).map((r) => JSON.parse(String(r["data"])) as Incident);
  }

  async openIncidents(): Promise<Incident[]> {
    const { rows } = await this.#db.query("SELECT project, id, data FROM incidents WHERE state = 'open'");
    return byKey(rows, (r) => `${String(r["project"])}\0${String(r["id"])}`).map(
      (r) => JSON.parse(String(r["data"])) as Incident,
    );
  }

  /**
   * Replaces the project's incident set (ids not in `next` are deleted). Only inside the cycle's transaction,
   * after its lease guard (cycles.ts): incident writes are fenced by the committing project's lease.
   */
  async replace(c: Queryable, project: string, next: readonly Incident[]): Promise<void> {
    for (const i of next) {
      if (i.project !== project) {
        throw new AppError("E_INTERNAL", `incident ${i.id} does not belong to project ${project}`);
      }
    }
    await c.query("DELETE FROM incidents WHERE project = $1 AND NOT (id = ANY($2::text[]))", [
      project,
      next.map((i) => i.id),
    ]);
    for (const i of next) {
      await c.query(
        `INSERT INTO incidents (id, project, tag, channel, code, subject, state, resolved_at, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, resolved_at = EXCLUDED.resolved_at, data = EXCLUDED.data`,
        [i.id, i.project, i.tag, i.channel, i.code, i.subject, i.state, i.resolved_at, JSON.stringify(i)],
      );
    }
  }
}
