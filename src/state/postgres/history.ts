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
import { int, intOrNull, textOrNull, type PgDb } from "./db.ts";

type Row = Record<string, unknown>;

/** Releases, channel status and history, latest reports, project and cycle records (as the SQLite store). */
export class PgHistory implements HistoryStore {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  /** Bookkeeping every replica may do (first_seen is kept from the first call): not fenced. */
  async noteRelease(r: {
    project: string;
    tag: string;
    version: string;
    published_at: string | null;
    now: string;
  }): Promise<ReleaseRecord> {
    await this.#db.query(
      `INSERT INTO releases (project, tag, version, first_seen, published_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (project, tag) DO UPDATE SET published_at = coalesce(EXCLUDED.published_at, releases.published_at)`,
      [r.project, r.tag, r.version, r.now, r.published_at],
    );
    const out = await this.release(r.project, r.tag);
    if (!out) throw new AppError("E_INTERNAL", `release ${r.project} ${r.tag} vanished after insert`);
    return out;
  }

  async release(project: string, tag: string): Promise<ReleaseRecord | null> {
    const { rows } = await this.#db.query("SELECT * FROM releases WHERE project = $1 AND tag = $2", [project, tag]);
    const r = rows[0];
    if (!r) return null;
    return {
      project: String(r["project"]),
      tag: String(r["tag"]),
      version: String(r["version"]),
      first_seen: String(r["first_seen"]),
      published_at: textOrNull(r["published_at"]),
    };
  }

  async latestReport(project: string): Promise<Report | null> {
    const { rows } = await this.#db.query("SELECT report FROM latest_reports WHERE project = $1", [project]);
    return rows[0] ? (JSON.parse(String(rows[0]["report"])) as Report) : null;
  }

  async latestReports(): Promise<Report[]> {
    // Ordered in JS: the engines collate text differently, and the SQLite store orders bytewise.
    const { rows } = await this.#db.query("SELECT project, report FROM latest_reports");
    return byKey(rows, (r) => String(r["project"])).map((r) => JSON.parse(String(r["report"])) as Report);
  }

  async channelStates(project: string, tag?: string): Promise<ChannelState[]> {
    const { rows } =
      tag === undefined
        ? await this.#db.query("SELECT * FROM channel_status WHERE project = $1", [project])
        : await this.#db.query("SELECT * FROM channel_status WHERE project = $1 AND tag = $2", [project, tag]);
    return byKey(rows, (r) => `${String(r["tag"])}\0${String(r["channel"])}`).map((r) => ({
      project: String(r["project"]),
      tag: String(r["tag"]),
      channel: String(r["channel"]) as ChannelId,
      status: String(r["status"]) as Status,
      since: String(r["since"]),
      live_at: textOrNull(r["live_at"]),
      updated_at: String(r["updated_at"]),
    }));
  }

  async channelHistory(project: string, tag: string): Promise<ChannelTransition[]> {
    const { rows } = await this.#db.query("SELECT * FROM channel_history WHERE project = $1 AND tag = $2 ORDER BY id", [
      project,
      tag,
    ]);
    return rows.map((r) => ({
      id: int(r["id"]),
      project: String(r["project"]),
      tag: String(r["tag"]),
      channel: String(r["channel"]) as ChannelId,
      from: textOrNull(r["from_status"]) as Status | null,
      to: String(r["to_status"]) as Status,
      at: String(r["at"]),
    }));
  }

  async projects(): Promise<ProjectRecord[]> {
    const { rows } = await this.#db.query("SELECT * FROM projects");
    return byKey(rows, (r) => String(r["project"])).map((r) => ({
      project: String(r["project"]),
      tag: textOrNull(r["tag"]),
      last_check_at: textOrNull(r["last_check_at"]),
      last_success_at: textOrNull(r["last_success_at"]),
      next_check_at: textOrNull(r["next_check_at"]),
      last_duration_ms: intOrNull(r["last_duration_ms"]),
      last_outcome: textOrNull(r["last_outcome"]) as CycleOutcome | null,
      last_error: textOrNull(r["last_error"]),
    }));
  }

  async cycles(project: string, limit: number): Promise<CycleRecord[]> {
    const { rows } = await this.#db.query("SELECT * FROM cycles WHERE project = $1 ORDER BY id DESC LIMIT $2", [
      project,
      limit,
    ]);
    return rows.map((r) => ({
      project: String(r["project"]),
      tag: textOrNull(r["tag"]),
      trigger: String(r["trigger"]) as CycleTrigger,
      started_at: String(r["started_at"]),
      finished_at: String(r["finished_at"]),
      duration_ms: int(r["duration_ms"]),
      outcome: String(r["outcome"]) as CycleOutcome,
      status: textOrNull(r["status"]) as Status | null,
      error: textOrNull(r["error"]),
    }));
  }
}

/** Rows sorted by a text key in code-unit order (what SQLite's default BINARY collation gives). */
export function byKey(rows: Row[], key: (r: Row) => string): Row[] {
  return rows
    .map((r) => [key(r), r] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r);
}
