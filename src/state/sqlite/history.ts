/* eslint-disable @typescript-eslint/require-await -- SQLite answers synchronously; these methods fulfil async interfaces with settled promises (a throw becomes a rejection). */
import type { ChannelId } from "../../channels.ts";
import type { Status } from "../../drift/types.ts";
import { AppError } from "../../errors.ts";
import type { Report } from "../../report/types.ts";
import type {
  ChannelState,
  ChannelTransition,
  CycleOutcome,
  CycleRecord,
  CycleTrigger,
  HistoryStore,
  ProjectRecord,
  ReleaseRecord,
} from "../types.ts";
import { num, numOrNull, str, strOrNull, type SqliteDb } from "./db.ts";

/** Releases, channel status and history, latest reports, project and cycle records. */
export class SqliteHistory implements HistoryStore {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async noteRelease(r: {
    project: string;
    tag: string;
    version: string;
    published_at: string | null;
    now: string;
  }): Promise<ReleaseRecord> {
    return this.#db.tx(() => {
      this.#db.run(
        `INSERT INTO releases (project, tag, version, first_seen, published_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (project, tag) DO UPDATE SET published_at = coalesce(excluded.published_at, releases.published_at)`,
        r.project,
        r.tag,
        r.version,
        r.now,
        r.published_at,
      );
      const out = this.#release(r.project, r.tag);
      if (!out) throw new AppError("E_INTERNAL", `release ${r.project} ${r.tag} vanished after insert`);
      return out;
    });
  }

  async release(project: string, tag: string): Promise<ReleaseRecord | null> {
    return this.#release(project, tag);
  }

  #release(project: string, tag: string): ReleaseRecord | null {
    const r = this.#db.get("SELECT * FROM releases WHERE project = ? AND tag = ?", project, tag);
    if (!r) return null;
    return {
      project: str(r, "project"),
      tag: str(r, "tag"),
      version: str(r, "version"),
      first_seen: str(r, "first_seen"),
      published_at: strOrNull(r, "published_at"),
    };
  }

  async latestReport(project: string): Promise<Report | null> {
    const r = this.#db.get("SELECT report FROM latest_reports WHERE project = ?", project);
    return r ? (JSON.parse(str(r, "report")) as Report) : null;
  }

  async latestReports(): Promise<Report[]> {
    return this.#db
      .all("SELECT report FROM latest_reports ORDER BY project")
      .map((r) => JSON.parse(str(r, "report")) as Report);
  }

  async channelStates(project: string, tag?: string): Promise<ChannelState[]> {
    const rows =
      tag === undefined
        ? this.#db.all("SELECT * FROM channel_status WHERE project = ? ORDER BY tag, channel", project)
        : this.#db.all("SELECT * FROM channel_status WHERE project = ? AND tag = ? ORDER BY channel", project, tag);
    return rows.map((r) => ({
      project: str(r, "project"),
      tag: str(r, "tag"),
      channel: str(r, "channel") as ChannelId,
      status: str(r, "status") as Status,
      since: str(r, "since"),
      live_at: strOrNull(r, "live_at"),
      updated_at: str(r, "updated_at"),
    }));
  }

  async channelHistory(project: string, tag: string): Promise<ChannelTransition[]> {
    return this.#db
      .all("SELECT * FROM channel_history WHERE project = ? AND tag = ? ORDER BY id", project, tag)
      .map((r) => ({
        id: num(r, "id"),
        project: str(r, "project"),
        tag: str(r, "tag"),
        channel: str(r, "channel") as ChannelId,
        from: strOrNull(r, "from_status") as Status | null,
        to: str(r, "to_status") as Status,
        at: str(r, "at"),
      }));
  }

  async projects(): Promise<ProjectRecord[]> {
    return this.#db.all("SELECT * FROM projects ORDER BY project").map((r) => ({
      project: str(r, "project"),
      tag: strOrNull(r, "tag"),
      last_check_at: strOrNull(r, "last_check_at"),
      last_success_at: strOrNull(r, "last_success_at"),
      next_check_at: strOrNull(r, "next_check_at"),
      last_duration_ms: numOrNull(r, "last_duration_ms"),
      last_outcome: strOrNull(r, "last_outcome") as CycleOutcome | null,
      last_error: strOrNull(r, "last_error"),
    }));
  }

  async cycles(project: string, limit: number): Promise<CycleRecord[]> {
    return this.#db.all("SELECT * FROM cycles WHERE project = ? ORDER BY id DESC LIMIT ?", project, limit).map((r) => ({
      project: str(r, "project"),
      tag: strOrNull(r, "tag"),
      trigger: str(r, "trigger") as CycleTrigger,
      started_at: str(r, "started_at"),
      finished_at: str(r, "finished_at"),
      duration_ms: num(r, "duration_ms"),
      outcome: str(r, "outcome") as CycleOutcome,
      status: strOrNull(r, "status") as Status | null,
      error: strOrNull(r, "error"),
    }));
  }
}
