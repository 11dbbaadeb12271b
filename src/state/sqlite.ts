import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from "node:sqlite";
import type { AlertKind, AlertMessage, Incident, SinkMemory } from "../alerts/types.ts";
import type { ChannelId } from "../channels.ts";
import type { Status } from "../drift/types.ts";
import { AppError, errorMessage } from "../errors.ts";
import type { CachedEntry, ValidatorCache } from "../http/client.ts";
import type { AttestationCache } from "../provenance/gather.ts";
import type { Report } from "../report/types.ts";
import type {
  ChannelState,
  ChannelTransition,
  CycleCommit,
  CycleOutcome,
  CycleRecord,
  CycleTrigger,
  DaemonLockHolder,
  NewSilence,
  OutboxRow,
  OutboxState,
  ProjectRecord,
  PruneCounts,
  ReleaseRecord,
  RetentionPolicy,
  Silence,
  StateStore,
} from "./types.ts";

/** Bumped with every schema change; `migrate()` brings older files forward. */
export const SCHEMA_VERSION = 2;
export const STATE_FILE = "monitor.db";
/** How long a writer waits for another process's lock (`monitor silence` while the daemon writes). */
export const BUSY_TIMEOUT_MS = 5_000;
/** Cache rows remember their last use at most this often (a read must not become a write every cycle). */
const CACHE_TOUCH_MS = 60 * 60 * 1000;

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

/** `<baseDir>/<state_dir>/monitor.db`: state_dir is relative to the config file's directory. */
export function stateDbPath(baseDir: string, stateDir: string): string {
  return resolve(baseDir, stateDir, STATE_FILE);
}

/** Opens (creating when needed) the state database at `path`; ":memory:" for tests. */
export function openStateStore(path: string, options: OpenStateOptions = {}): StateStore {
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
  return new SqliteStateStore(db, path);
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

type Row = Record<string, SQLOutputValue>;

const str = (r: Row, k: string): string => String(r[k]);
const strOrNull = (r: Row, k: string): string | null => (r[k] === null || r[k] === undefined ? null : String(r[k]));
const num = (r: Row, k: string): number => Number(r[k]);
const numOrNull = (r: Row, k: string): number | null => (r[k] === null || r[k] === undefined ? null : Number(r[k]));

/** An attestation cache key `<kind>:<digest…>` (e.g. `github:<repo>:<sha256>`) as its (kind, digest) columns. */
function attestationKey(key: string): { kind: string; digest: string } {
  const at = key.indexOf(":");
  return at < 0 ? { kind: "", digest: key } : { kind: key.slice(0, at), digest: key.slice(at + 1) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

class SqliteStateStore implements StateStore {
  readonly path: string;
  readonly validatorCache: ValidatorCache;
  readonly attestations: AttestationCache;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.path = path;
    this.validatorCache = {
      get: (key) => this.#cacheGet(key),
      set: (key, entry) => this.#cacheSet(key, entry),
    };
    this.attestations = {
      get: (key) => Promise.resolve(this.#attestationGet(key)),
      set: (key, value) => Promise.resolve(this.#attestationSet(key, value)),
    };
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#stmt(sql).get(...params);
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#stmt(sql).all(...params);
  }

  #run(sql: string, ...params: SQLInputValue[]): { changes: number; lastInsertRowid: number } {
    const r = this.#stmt(sql).run(...params);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }

  /** One write transaction (BEGIN IMMEDIATE waits for other writers up to the busy timeout). */
  #tx<T>(fn: () => T): T {
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

  // ------------------------------------------------------------ releases

  noteRelease(r: {
    project: string;
    tag: string;
    version: string;
    published_at: string | null;
    now: string;
  }): ReleaseRecord {
    return this.#tx(() => {
      this.#run(
        `INSERT INTO releases (project, tag, version, first_seen, published_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (project, tag) DO UPDATE SET published_at = coalesce(excluded.published_at, releases.published_at)`,
        r.project,
        r.tag,
        r.version,
        r.now,
        r.published_at,
      );
      const out = this.release(r.project, r.tag);
      if (!out) throw new AppError("E_INTERNAL", `release ${r.project} ${r.tag} vanished after insert`);
      return out;
    });
  }

  release(project: string, tag: string): ReleaseRecord | null {
    const r = this.#get("SELECT * FROM releases WHERE project = ? AND tag = ?", project, tag);
    if (!r) return null;
    return {
      project: str(r, "project"),
      tag: str(r, "tag"),
      version: str(r, "version"),
      first_seen: str(r, "first_seen"),
      published_at: strOrNull(r, "published_at"),
    };
  }

  // ------------------------------------------------------------ cycles

  commitCycle(c: CycleCommit): { messageIds: number[] } {
    return this.#tx(() => {
      const { report } = c;
      this.#applyChannelStates(report);
      this.#run(
        `INSERT INTO latest_reports (project, tag, status, checked_at, report) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (project) DO UPDATE SET tag = excluded.tag, status = excluded.status,
           checked_at = excluded.checked_at, report = excluded.report`,
        report.project,
        report.tag,
        report.status,
        report.checked_at,
        JSON.stringify(report),
      );
      this.#replaceIncidents(report.project, c.incidents);
      if (c.degraded) this.#replaceIncidents("*", c.degraded);
      const messageIds: number[] = [];
      for (const [i, m] of c.messages.entries()) {
        const { lastInsertRowid: id } = this.#run(
          "INSERT INTO messages (kind, incident_id, created_at, data) VALUES (?, ?, ?, ?)",
          m.kind,
          m.incident.id,
          m.created_at,
          JSON.stringify(m),
        );
        messageIds.push(id);
        for (const sink of c.routes?.[i] ?? c.sinks) {
          this.#run(
            "INSERT INTO outbox (message_id, sink, state, attempts, next_attempt_at, created_at) VALUES (?, ?, 'pending', 0, 0, ?)",
            id,
            sink,
            m.created_at,
          );
        }
      }
      this.#insertCycle(c.cycle);
      this.#upsertProject(c.cycle, c.next_check_at);
      return { messageIds };
    });
  }

  recordCycleFailure(cycle: CycleRecord, next_check_at: string | null): void {
    this.#tx(() => {
      this.#insertCycle(cycle);
      this.#upsertProject(cycle, next_check_at);
    });
  }

  setNextCheck(project: string, at: string | null): void {
    this.#run(
      `INSERT INTO projects (project, next_check_at) VALUES (?, ?)
       ON CONFLICT (project) DO UPDATE SET next_check_at = excluded.next_check_at`,
      project,
      at,
    );
  }

  #insertCycle(c: CycleRecord): void {
    this.#run(
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
    this.#run(
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
      const prev = this.#get(
        "SELECT status, live_at FROM channel_status WHERE project = ? AND tag = ? AND channel = ?",
        report.project,
        report.tag,
        ch.channel,
      );
      const liveAt = strOrNull(prev ?? {}, "live_at") ?? (ch.status === "ok" ? at : null);
      if (!prev || str(prev, "status") !== ch.status) {
        this.#run(
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
        this.#run(
          "INSERT INTO channel_history (project, tag, channel, from_status, to_status, at) VALUES (?, ?, ?, ?, ?, ?)",
          report.project,
          report.tag,
          ch.channel,
          prev ? str(prev, "status") : null,
          ch.status,
          at,
        );
      } else {
        this.#run(
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

  #replaceIncidents(project: string, next: readonly Incident[]): void {
    const keep = new Set(next.map((i) => i.id));
    for (const r of this.#all("SELECT id FROM incidents WHERE project = ?", project)) {
      if (!keep.has(str(r, "id"))) this.#run("DELETE FROM incidents WHERE id = ?", str(r, "id"));
    }
    for (const i of next) {
      if (i.project !== project) {
        throw new AppError("E_INTERNAL", `incident ${i.id} does not belong to project ${project}`);
      }
      this.#run(
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

  incidents(project: string): Incident[] {
    return this.#all("SELECT data FROM incidents WHERE project = ? ORDER BY id", project).map(
      (r) => JSON.parse(str(r, "data")) as Incident,
    );
  }

  openIncidents(): Incident[] {
    return this.#all("SELECT data FROM incidents WHERE state = 'open' ORDER BY project, id").map(
      (r) => JSON.parse(str(r, "data")) as Incident,
    );
  }

  latestReport(project: string): Report | null {
    const r = this.#get("SELECT report FROM latest_reports WHERE project = ?", project);
    return r ? (JSON.parse(str(r, "report")) as Report) : null;
  }

  latestReports(): Report[] {
    return this.#all("SELECT report FROM latest_reports ORDER BY project").map(
      (r) => JSON.parse(str(r, "report")) as Report,
    );
  }

  channelStates(project: string, tag?: string): ChannelState[] {
    const rows =
      tag === undefined
        ? this.#all("SELECT * FROM channel_status WHERE project = ? ORDER BY tag, channel", project)
        : this.#all("SELECT * FROM channel_status WHERE project = ? AND tag = ? ORDER BY channel", project, tag);
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

  channelHistory(project: string, tag: string): ChannelTransition[] {
    return this.#all("SELECT * FROM channel_history WHERE project = ? AND tag = ? ORDER BY id", project, tag).map(
      (r) => ({
        id: num(r, "id"),
        project: str(r, "project"),
        tag: str(r, "tag"),
        channel: str(r, "channel") as ChannelId,
        from: strOrNull(r, "from_status") as Status | null,
        to: str(r, "to_status") as Status,
        at: str(r, "at"),
      }),
    );
  }

  projects(): ProjectRecord[] {
    return this.#all("SELECT * FROM projects ORDER BY project").map((r) => ({
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

  cycles(project: string, limit: number): CycleRecord[] {
    return this.#all("SELECT * FROM cycles WHERE project = ? ORDER BY id DESC LIMIT ?", project, limit).map((r) => ({
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

  // ------------------------------------------------------------ silences

  addSilence(s: NewSilence): Silence {
    const { lastInsertRowid } = this.#tx(() =>
      this.#run(
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

  silences(): Silence[] {
    return this.#all("SELECT * FROM silences ORDER BY id DESC").map(toSilence);
  }

  activeSilences(now: Date): Silence[] {
    const t = now.getTime();
    return this.silences().filter((s) => Date.parse(s.until) > t);
  }

  removeSilence(id: number): boolean {
    return this.#tx(() => this.#run("DELETE FROM silences WHERE id = ?", id).changes > 0);
  }

  // ------------------------------------------------------------ outbox

  nextOutbox(sink: string): OutboxRow | null {
    const r = this.#get(
      `SELECT o.*, m.data FROM outbox o JOIN messages m ON m.id = o.message_id
       WHERE o.sink = ? AND o.state = 'pending' ORDER BY o.id LIMIT 1`,
      sink,
    );
    return r ? toOutboxRow(r) : null;
  }

  markSent(id: number, at: string): void {
    this.#tx(() =>
      this.#run(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, finished_at = ?, last_error = NULL WHERE id = ?",
        at,
        at,
        id,
      ),
    );
  }

  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): void {
    this.#tx(() =>
      this.#run(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'",
        attempts,
        nextAttemptAt,
        error,
        id,
      ),
    );
  }

  markDead(id: number, attempts: number, error: string, at: string): void {
    this.#tx(() =>
      this.#run(
        "UPDATE outbox SET state = 'dead', attempts = ?, last_error = ?, finished_at = ? WHERE id = ?",
        attempts,
        error,
        at,
        id,
      ),
    );
  }

  outboxRows(filter: { sink?: string; state?: OutboxState } = {}): OutboxRow[] {
    return this.#all(
      `SELECT o.*, m.data FROM outbox o JOIN messages m ON m.id = o.message_id
       WHERE (?1 IS NULL OR o.sink = ?1) AND (?2 IS NULL OR o.state = ?2) ORDER BY o.id`,
      filter.sink ?? null,
      filter.state ?? null,
    ).map(toOutboxRow);
  }

  outboxDepth(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.#all("SELECT sink, count(*) AS n FROM outbox WHERE state = 'pending' GROUP BY sink")) {
      out[str(r, "sink")] = num(r, "n");
    }
    return out;
  }

  messageCount(kind?: AlertKind): number {
    const r = this.#get("SELECT count(*) AS n FROM messages WHERE ?1 IS NULL OR kind = ?1", kind ?? null);
    return r ? num(r, "n") : 0;
  }

  // ------------------------------------------------------------ HTTP validators and sink memory

  #cacheGet(key: string): CachedEntry | undefined {
    const r = this.#get("SELECT * FROM http_cache WHERE key = ?", key);
    if (!r) return undefined;
    const now = Date.now();
    if (now - num(r, "used_at") > CACHE_TOUCH_MS) {
      this.#tx(() => this.#run("UPDATE http_cache SET used_at = ? WHERE key = ?", now, key));
    }
    const body = r["body"] as Uint8Array;
    return {
      etag: strOrNull(r, "etag"),
      last_modified: strOrNull(r, "last_modified"),
      status: num(r, "status"),
      headers: JSON.parse(str(r, "headers")) as Record<string, string>,
      body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      stored_at: num(r, "stored_at"),
    };
  }

  #cacheSet(key: string, e: CachedEntry): void {
    this.#tx(() =>
      this.#run(
        `INSERT INTO http_cache (key, etag, last_modified, status, headers, body, stored_at, used_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
           status = excluded.status, headers = excluded.headers, body = excluded.body,
           stored_at = excluded.stored_at, used_at = excluded.used_at`,
        key,
        e.etag,
        e.last_modified,
        e.status,
        JSON.stringify(e.headers),
        e.body,
        e.stored_at,
        Date.now(),
      ),
    );
  }

  #attestationGet(key: string): string | undefined {
    const { kind, digest } = attestationKey(key);
    const r = this.#get("SELECT value, used_at FROM attestations WHERE kind = ? AND digest = ?", kind, digest);
    if (!r) return undefined;
    const now = Date.now();
    if (now - num(r, "used_at") > CACHE_TOUCH_MS) {
      this.#tx(() => this.#run("UPDATE attestations SET used_at = ? WHERE kind = ? AND digest = ?", now, kind, digest));
    }
    return str(r, "value");
  }

  #attestationSet(key: string, value: string): void {
    const { kind, digest } = attestationKey(key);
    const now = Date.now();
    this.#tx(() =>
      this.#run(
        `INSERT INTO attestations (kind, digest, value, stored_at, used_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (kind, digest) DO UPDATE SET value = excluded.value, used_at = excluded.used_at`,
        kind,
        digest,
        value,
        now,
        now,
      ),
    );
  }

  sinkMemory(sink: string): SinkMemory {
    return {
      get: (key) => {
        const r = this.#get("SELECT value FROM sink_memory WHERE sink = ? AND key = ?", sink, key);
        return r ? str(r, "value") : null;
      },
      set: (key, value) => {
        this.#tx(() =>
          this.#run(
            `INSERT INTO sink_memory (sink, key, value, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (sink, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
            sink,
            key,
            value,
            new Date().toISOString(),
          ),
        );
      },
    };
  }

  // ------------------------------------------------------------ retention

  prune(policy: RetentionPolicy, now: Date): PruneCounts {
    const t = now.getTime();
    const before = (ms: number) => iso(t - ms);
    const counts = this.#tx((): PruneCounts => {
      const history = this.#run("DELETE FROM channel_history WHERE at < ?", before(policy.history_ms)).changes;
      // Rows of the tag a project currently reports are kept whatever their age.
      const channels = this.#run(
        `DELETE FROM channel_status WHERE updated_at < ? AND NOT EXISTS (
           SELECT 1 FROM latest_reports l WHERE l.project = channel_status.project AND l.tag = channel_status.tag)`,
        before(policy.history_ms),
      ).changes;
      const releases = this.#run(
        `DELETE FROM releases WHERE first_seen < ? AND NOT EXISTS (
           SELECT 1 FROM latest_reports l WHERE l.project = releases.project AND l.tag = releases.tag)`,
        before(policy.history_ms),
      ).changes;
      const incidents = this.#run(
        "DELETE FROM incidents WHERE state = 'resolved' AND resolved_at < ?",
        before(policy.resolved_incidents_ms),
      ).changes;
      const outbox =
        this.#run("DELETE FROM outbox WHERE state = 'sent' AND finished_at < ?", before(policy.sent_outbox_ms))
          .changes +
        this.#run("DELETE FROM outbox WHERE state = 'dead' AND finished_at < ?", before(policy.dead_outbox_ms)).changes;
      const messages = this.#run(
        "DELETE FROM messages WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = messages.id)",
        before(policy.sent_outbox_ms),
      ).changes;
      const http_cache = this.#run("DELETE FROM http_cache WHERE used_at < ?", t - policy.http_cache_ms).changes;
      // Results of digests no release under watch uses any more (same age rule as the validators).
      const attestations = this.#run("DELETE FROM attestations WHERE used_at < ?", t - policy.http_cache_ms).changes;
      const cycles = this.#run("DELETE FROM cycles WHERE started_at < ?", before(policy.cycles_ms)).changes;
      const silences = this.#run("DELETE FROM silences WHERE until < ?", before(policy.expired_silences_ms)).changes;
      return { history, channels, releases, incidents, outbox, messages, http_cache, attestations, cycles, silences };
    });
    this.#db.exec("PRAGMA incremental_vacuum");
    if (this.path !== ":memory:") this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return counts;
  }

  // ------------------------------------------------------------ single-daemon lock

  acquireDaemonLock(
    me: { instance: string; pid: number; host: string; now: Date; staleMs: number },
    isAlive: (pid: number) => boolean,
  ): DaemonLockHolder | null {
    return this.#tx(() => {
      const r = this.#get("SELECT * FROM daemon_lock WHERE id = 1");
      if (r && str(r, "instance") !== me.instance) {
        const holder: DaemonLockHolder = {
          pid: num(r, "pid"),
          host: str(r, "host"),
          started_at: str(r, "started_at"),
          heartbeat_at: str(r, "heartbeat_at"),
        };
        const fresh = me.now.getTime() - Date.parse(holder.heartbeat_at) < me.staleMs;
        // Another host's process cannot be probed: trust its heartbeat. On this host, a dead pid frees the lock.
        const alive = holder.host !== me.host || isAlive(holder.pid);
        if (fresh && alive) return holder;
      }
      const at = me.now.toISOString();
      this.#run(
        `INSERT INTO daemon_lock (id, instance, pid, host, started_at, heartbeat_at) VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, pid = excluded.pid, host = excluded.host,
           started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
        me.instance,
        me.pid,
        me.host,
        at,
        at,
      );
      return null;
    });
  }

  heartbeat(instance: string, now: Date): void {
    this.#tx(() =>
      this.#run("UPDATE daemon_lock SET heartbeat_at = ? WHERE id = 1 AND instance = ?", now.toISOString(), instance),
    );
  }

  releaseDaemonLock(instance: string): void {
    this.#tx(() => this.#run("DELETE FROM daemon_lock WHERE id = 1 AND instance = ?", instance));
  }

  close(): void {
    if (!this.#db.isOpen) return;
    this.#statements.clear();
    this.#db.close();
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

function toOutboxRow(r: Row): OutboxRow {
  const draft = JSON.parse(str(r, "data")) as Omit<AlertMessage, "id">;
  return {
    id: num(r, "id"),
    sink: str(r, "sink"),
    state: str(r, "state") as OutboxState,
    attempts: num(r, "attempts"),
    next_attempt_at: num(r, "next_attempt_at"),
    created_at: str(r, "created_at"),
    sent_at: strOrNull(r, "sent_at"),
    last_error: strOrNull(r, "last_error"),
    message: { id: String(num(r, "message_id")), ...draft },
  };
}
