/* eslint-disable @typescript-eslint/require-await -- SQLite answers synchronously; these methods fulfil async interfaces with settled promises (a throw becomes a rejection). */
import type { IncidentStore } from "../../alerts/store.ts";
import type { Incident } from "../../alerts/types.ts";
import { AppError } from "../../errors.ts";
import { str, type SqliteDb } from "./db.ts";

export class SqliteIncidents implements IncidentStore {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async incidents(project: string): Promise<Incident[]> {
    return this.#db
      .all("SELECT data FROM incidents WHERE project = ? ORDER BY id", project)
      .map((r) => JSON.parse(str(r, "data")) as Incident);
  }

  async openIncidents(): Promise<Incident[]> {
    return this.#db
      .all("SELECT data FROM incidents WHERE state = 'open' ORDER BY project, id")
      .map((r) => JSON.parse(str(r, "data")) as Incident);
  }

  /** Replaces the project's incident set (ids not in `next` are deleted). Call inside the cycle's transaction. */
  replace(project: string, next: readonly Incident[]): void {
    const keep = new Set(next.map((i) => i.id));
    for (const r of this.#db.all("SELECT id FROM incidents WHERE project = ?", project)) {
      if (!keep.has(str(r, "id"))) this.#db.run("DELETE FROM incidents WHERE id = ?", str(r, "id"));
    }
    for (const i of next) {
      if (i.project !== project) {
        throw new AppError("E_INTERNAL", `incident ${i.id} does not belong to project ${project}`);
      }
      this.#db.run(
        `INSERT INTO incidents (id, project, tag, channel, code, subject, state, resolved_at, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, resolved_at = excluded.resolved_at, data = excluded.data`,
        i.id,
        i.project,
        i.tag,
        i.channel,
        i.code,
        i.subject,
        i.state,
        i.resolved_at,
        JSON.stringify(i),
      );
    }
  }
}
