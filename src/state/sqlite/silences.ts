/* eslint-disable @typescript-eslint/require-await -- SQLite answers synchronously; these methods fulfil async interfaces with settled promises (a throw becomes a rejection). */
import type { NewSilence, Silence, SilenceStore } from "../../alerts/store.ts";
import type { ChannelId } from "../../channels.ts";
import { num, str, strOrNull, type Row, type SqliteDb } from "./db.ts";

export class SqliteSilences implements SilenceStore {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async addSilence(s: NewSilence): Promise<Silence> {
    const { lastInsertRowid } = this.#db.tx(() =>
      this.#db.run(
        "INSERT INTO silences (project, channel, until, reason, created_at) VALUES (?, ?, ?, ?, ?)",
        s.project,
        s.channel,
        s.until,
        s.reason,
        s.created_at,
      ),
    );
    return { id: lastInsertRowid, ...s };
  }

  async silences(): Promise<Silence[]> {
    return this.#all();
  }

  async activeSilences(now: Date): Promise<Silence[]> {
    const t = now.getTime();
    return this.#all().filter((s) => Date.parse(s.until) > t);
  }

  async removeSilence(id: number): Promise<boolean> {
    return this.#db.tx(() => this.#db.run("DELETE FROM silences WHERE id = ?", id).changes > 0);
  }

  #all(): Silence[] {
    return this.#db.all("SELECT * FROM silences ORDER BY id DESC").map(toSilence);
  }
}

function toSilence(r: Row): Silence {
  return {
    id: num(r, "id"),
    project: str(r, "project"),
    channel: strOrNull(r, "channel") as ChannelId | null,
    until: str(r, "until"),
    reason: strOrNull(r, "reason"),
    created_at: str(r, "created_at"),
  };
}
