/**
 * `monitor state migrate`: copies a whole state between the SQLite file and a PostgreSQL database, either way.
 * Both schemas hold the same tables with the same columns (PostgreSQL adds cluster tables and columns, which are
 * not copied), so the copy is table by table, row by row, in one destination transaction. The destination must
 * be empty: a migration never merges two histories. Instance-local tables (the single-daemon lock) and cluster
 * tables (replicas, leases, manual checks) are not state to carry over; outbox rows copied to PostgreSQL get the
 * lease project they are claimed under (their incident's).
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type pg from "pg";
import { AppError } from "../errors.ts";

/** Copied tables, parents before children (outbox references messages). */
export const TRANSFER_TABLES = [
  "releases",
  "channel_status",
  "channel_history",
  "latest_reports",
  "incidents",
  "messages",
  "outbox",
  "http_cache",
  "attestations",
  "sink_memory",
  "silences",
  "cycles",
  "projects",
] as const;
export type TransferTable = (typeof TRANSFER_TABLES)[number];

export type Cell = string | number | null | Uint8Array;
export type TableRows = Record<TransferTable, Cell[][]>;

interface Column {
  name: string;
  kind: "integer" | "text" | "blob";
}

/** The SQLite store's columns per table: the shared column set of both engines. */
export function sqliteColumns(db: DatabaseSync, table: TransferTable): Column[] {
  const info = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; type: string }[];
  if (info.length === 0) throw new AppError("E_STATE", `the SQLite state has no table ${table}`);
  return info.map((c) => ({
    name: c.name,
    kind: /INT/i.test(c.type) ? "integer" : /BLOB/i.test(c.type) ? "blob" : "text",
  }));
}

/** A cell as both engines' drivers give it (SQLite: number/bigint/string/Uint8Array; pg: string/number/Buffer/Date). */
function normalise(value: unknown, kind: Column["kind"]): Cell {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return kind === "blob" ? new Uint8Array(value) : Buffer.from(value).toString("utf8");
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint") {
    throw new AppError("E_STATE", `unexpected ${typeof value} cell in the state`);
  }
  if (kind === "integer") return Number(value);
  if (kind === "blob") return new Uint8Array(Buffer.from(String(value)));
  return String(value);
}

export function readSqlite(db: DatabaseSync): TableRows {
  const out = {} as TableRows;
  for (const t of TRANSFER_TABLES) {
    const cols = sqliteColumns(db, t);
    const rows = db.prepare(`SELECT ${cols.map((c) => c.name).join(", ")} FROM ${t}`).all();
    out[t] = inOrder(
      cols,
      rows.map((r) => cols.map((c) => normalise((r as Record<string, unknown>)[c.name], c.kind))),
    );
  }
  return out;
}

export async function readPostgres(pool: pg.Pool, columns: Record<TransferTable, Column[]>): Promise<TableRows> {
  const out = {} as TableRows;
  for (const t of TRANSFER_TABLES) {
    const cols = columns[t];
    const { rows } = await pool.query<Record<string, unknown>>(
      `SELECT ${cols.map((c) => c.name).join(", ")} FROM ${t}`,
    );
    out[t] = inOrder(
      cols,
      rows.map((r) => cols.map((c) => normalise(r[c.name], c.kind))),
    );
  }
  return out;
}

/**
 * Rows in one order on both engines, sorted here rather than by SQL (the engines collate text differently): by
 * a numeric id where the table has one (so ids are inserted in order), else by the row's cells.
 */
function inOrder(cols: readonly Column[], rows: Cell[][]): Cell[][] {
  const id = cols.findIndex((c) => c.name === "id" && c.kind === "integer");
  const key = (r: Cell[]): string =>
    JSON.stringify(r.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v)));
  return id >= 0
    ? rows.sort((a, b) => Number(a[id]) - Number(b[id]))
    : rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function countRows(rows: TableRows): Record<TransferTable, number> {
  return Object.fromEntries(TRANSFER_TABLES.map((t) => [t, rows[t].length])) as Record<TransferTable, number>;
}

function refuseNonEmpty(table: string, n: number, where: string): void {
  if (n > 0) {
    throw new AppError(
      "E_USAGE",
      `the destination ${where} is not empty (table ${table} has ${n} rows); migrate into an empty state only`,
    );
  }
}

export function writeSqlite(db: DatabaseSync, rows: TableRows, where: string): void {
  for (const t of TRANSFER_TABLES) {
    const n = Number((db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n);
    refuseNonEmpty(t, n, where);
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const t of TRANSFER_TABLES) {
      const cols = sqliteColumns(db, t);
      const insert = db.prepare(
        `INSERT INTO ${t} (${cols.map((c) => c.name).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`,
      );
      for (const r of rows[t]) insert.run(...(r as SQLInputValue[]));
    }
    db.exec("COMMIT");
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}

export async function writePostgres(
  pool: pg.Pool,
  columns: Record<TransferTable, Column[]>,
  rows: TableRows,
  where: string,
): Promise<void> {
  const client = await pool.connect();
  try {
    for (const t of TRANSFER_TABLES) {
      const { rows: c } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t}`);
      refuseNonEmpty(t, Number(c[0]?.n ?? 0), where);
    }
    await client.query("BEGIN");
    try {
      for (const t of TRANSFER_TABLES) {
        const cols = columns[t];
        const names = cols.map((c) => c.name).join(", ");
        const placeholders = cols.map((_, i) => `$${i + 1}`).join(", ");
        for (const r of rows[t]) {
          await client.query(
            `INSERT INTO ${t} (${names}) VALUES (${placeholders})`,
            r.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v)),
          );
        }
        if (cols.some((c) => c.name === "id" && c.kind === "integer")) {
          // Serial ids continue after the copied ones.
          await client.query(
            `SELECT setval(pg_get_serial_sequence('${t}', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) FROM ${t}`,
          );
        }
      }
      // SQLite rows carry no lease project: a row is claimed under its incident's project lease ("*" for
      // registry-degraded notices), as rows enqueued on PostgreSQL are under their committing project's.
      await client.query(
        `UPDATE outbox o SET project = m.data::jsonb #>> '{incident,project}'
         FROM messages m WHERE m.id = o.message_id AND o.project IS NULL`,
      );
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK");
      throw err;
    }
  } finally {
    client.release();
  }
}
