import type { NewSilence, Silence, SilenceStore } from "../../alerts/store.ts";
import type { ChannelId } from "../../channels.ts";
import { int, textOrNull, type PgDb } from "./db.ts";

/** Silences are the operators' (`monitor silence`, the API), shared by every replica: not fenced. */
export class PgSilences implements SilenceStore {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  async addSilence(s: NewSilence): Promise<Silence> {
    const { rows } = await this.#db.query<{ id: string }>(
      "INSERT INTO silences (project, channel, until, reason, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
      [s.project, s.channel, s.until, s.reason, s.created_at],
    );
    return { id: int(rows[0]?.id), ...s };
  }

  async silences(): Promise<Silence[]> {
    const { rows } = await this.#db.query("SELECT * FROM silences ORDER BY id DESC");
    return rows.map((r) => ({
      id: int(r["id"]),
      project: String(r["project"]),
      channel: textOrNull(r["channel"]) as ChannelId | null,
      until: String(r["until"]),
      reason: textOrNull(r["reason"]),
      created_at: String(r["created_at"]),
    }));
  }

  async activeSilences(now: Date): Promise<Silence[]> {
    const t = now.getTime();
    return (await this.silences()).filter((s) => Date.parse(s.until) > t);
  }

  async removeSilence(id: number): Promise<boolean> {
    const { rowCount } = await this.#db.query("DELETE FROM silences WHERE id = $1", [id]);
    return (rowCount ?? 0) > 0;
  }
}
