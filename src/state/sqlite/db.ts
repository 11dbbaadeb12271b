import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from "node:sqlite";
import { AppError, errorMessage } from "../../errors.ts";

/** Bumped with every schema change; `migrate()` brings older files forward. */
export const SCHEMA_VERSION = 2;
/** How long a writer waits for another process's lock (`monitor silence` while the daemon writes). */
export const BUSY_TIMEOUT_MS = 5_000;

const SCHEMA = `
CREATE TABLE releases (
  project TEXT NOT NULL, tag TEXT NOT NULL, version TEXT NOT NULL,
  first_seen TEXT NOT NULL, published_at TEXT,
  PRIMARY KEY (project, tag)
);
CREATE TABLE channel_status (
  project TEXT NOT NULL, tag TEXT NOT NULL, channel TEXT NOT NULL,
  status TEXT NOT NULL, since TEXT NOT NULL, live_at TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (project, tag, channel)
);
CREATE TABLE channel_history (
  id INTEGER PRIMARY KEY, project TEXT NOT NULL, tag TEXT NOT NULL, channel TEXT NOT NULL,
  from_status TEXT, to_status TEXT NOT NULL, at TEXT NOT NULL
);
CREATE INDEX channel_history_key ON channel_history (project, tag, channel, id);
CREATE INDEX channel_history_at ON channel_history (at);
CREATE TABLE latest_reports (
  project TEXT PRIMARY KEY, tag TEXT NOT NULL, status TEXT NOT NULL, checked_at TEXT NOT NULL, report TEXT NOT NULL
);
CREATE TABLE incidents (
  id TEXT PRIMARY KEY, project TEXT NOT NULL, tag TEXT NOT NULL, channel TEXT NOT NULL, code TEXT NOT NULL,
  subject TEXT NOT NULL, state TEXT NOT NULL, resolved_at TEXT, data TEXT NOT NULL
);
CREATE INDEX incidents_project ON incidents (project, state);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, incident_id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL REFERENCES messages (id), sink TEXT NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, sent_at TEXT, finished_at TEXT, last_error TEXT,
  UNIQUE (message_id, sink)
);
CREATE INDEX outbox_pending ON outbox (sink, state, id);
CREATE TABLE http_cache (
  key TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, status INTEGER NOT NULL, headers TEXT NOT NULL,
  body BLOB NOT NULL, stored_at INTEGER NOT NULL, used_at INTEGER NOT NULL
);
CREATE TABLE sink_memory (
  sink TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (sink, key)
);
CREATE TABLE silences (
  id INTEGER PRIMARY KEY, project TEXT NOT NULL, channel TEXT, until TEXT NOT NULL, reason TEXT, created_at TEXT NOT NULL
);
CREATE TABLE cycles (
  id INTEGER PRIMARY KEY, project TEXT NOT NULL, tag TEXT, trigger TEXT NOT NULL, started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL, duration_ms INTEGER NOT NULL, outcome TEXT NOT NULL, status TEXT, error TEXT
);
CREATE INDEX cycles_project ON cycles (project, id);
CREATE TABLE projects (
  project TEXT PRIMARY KEY, tag TEXT, last_check_at TEXT, last_success_at TEXT, next_check_at TEXT,
  last_duration_ms INTEGER, last_outcome TEXT, last_error TEXT
);
CREATE TABLE daemon_lock (
  id INTEGER PRIMARY KEY CHECK (id = 1), instance TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
  started_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL
);
`;

/** Schema changes after v1, by the version they bring the file to (applied in order inside one transaction). */
const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 2,
    // Verified attestation results, immutable per (kind, digest): steady cycles neither fetch nor verify again.
    sql: `CREATE TABLE attestations (
  kind TEXT NOT NULL, digest TEXT NOT NULL, value TEXT NOT NULL, stored_at INTEGER NOT NULL, used_at INTEGER NOT NULL,
  PRIMARY KEY (kind, digest)
);`,
  },
];

export interface OpenStateOptions {
  /** FULL (default) survives power loss too; NORMAL survives any process crash in WAL mode. */
  synchronous?: "FULL" | "NORMAL";
  busyTimeoutMs?: number;
}

export type Row = Record<string, SQLOutputValue>;

export const str = (r: Row, k: string): string => String(r[k]);
export const strOrNull = (r: Row, k: string): string | null =>
  r[k] === null || r[k] === undefined ? null : String(r[k]);
export const num = (r: Row, k: string): number => Number(r[k]);
export const numOrNull = (r: Row, k: string): number | null =>
  r[k] === null || r[k] === undefined ? null : Number(r[k]);

/**
 * One SQLite connection with cached statements and write transactions. Synchronous: the role classes answer the
 * async interfaces with resolved promises, and nothing can interleave inside a transaction.
 */
export class SqliteDb {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #synchronous: "FULL" | "NORMAL";

  private constructor(db: DatabaseSync, path: string, synchronous: "FULL" | "NORMAL") {
    this.#db = db;
    this.path = path;
    this.#synchronous = synchronous;
  }

  /** Opens (creating when needed) the database at `path` and brings its schema up to date; ":memory:" for tests. */
  static open(path: string, options: OpenStateOptions = {}): SqliteDb {
    if (path !== ":memory:") {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (err) {
        throw new AppError("E_STATE", `cannot create state directory ${dirname(path)}: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS });
      db.exec("PRAGMA auto_vacuum = INCREMENTAL");
      if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${options.synchronous ?? "FULL"}`);
      db.exec("PRAGMA foreign_keys = ON");
      migrate(db);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError("E_STATE", `cannot open state database ${path}: ${errorMessage(err)}`, { cause: err });
    }
    return new SqliteDb(db, path, options.synchronous ?? "FULL");
  }

  get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#stmt(sql).get(...params);
  }

  all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#stmt(sql).all(...params);
  }

  run(sql: string, ...params: SQLInputValue[]): { changes: number; lastInsertRowid: number } {
    const r = this.#stmt(sql).run(...params);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /** One write transaction (BEGIN IMMEDIATE waits for other writers up to the busy timeout). */
  tx<T>(fn: () => T): T {
    if (this.#db.isTransaction) return fn();
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.#db.exec("COMMIT");
      return out;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  /**
   * A write transaction of data that can be fetched again (the HTTP validator cache, verified attestations, the
   * schedule hint): committed without waiting for the disk (synchronous NORMAL; in WAL mode it still survives any
   * process crash, and a power loss can only drop it). The next durable transaction syncs it with its own. A cycle
   * commit under FULL pays one fsync; one per cached response would block the event loop on the disk at every
   * request (issue 16: 15 % of a 300-project run's samples sat in COMMIT).
   */
  txRelaxed<T>(fn: () => T): T {
    if (this.#db.isTransaction || this.#synchronous === "NORMAL") return this.tx(fn);
    this.#db.exec("PRAGMA synchronous = NORMAL");
    try {
      return this.tx(fn);
    } finally {
      this.#db.exec(`PRAGMA synchronous = ${this.#synchronous}`);
    }
  }

  close(): void {
    if (!this.#db.isOpen) return;
    this.#statements.clear();
    this.#db.close();
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }
}

function migrate(db: DatabaseSync): void {
  const version = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new AppError("E_STATE", `state database schema v${version} is newer than this release (v${SCHEMA_VERSION})`);
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const again = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
    if (again === 0) db.exec(SCHEMA);
    for (const m of MIGRATIONS) if (m.version > Math.max(again, 1)) db.exec(m.sql);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}
