/** The I/O of `monitor state migrate`: opens both sides, copies, and checks the copy row for row. */
import { DatabaseSync } from "node:sqlite";
import { AppError, errorMessage } from "../errors.ts";
import type { StateLocation } from "./location.ts";
import { migrate } from "./postgres/migrate.ts";
import { openStateStore, stateDbPath } from "./sqlite.ts";
import {
  countRows,
  readPostgres,
  readSqlite,
  sqliteColumns,
  TRANSFER_TABLES,
  writePostgres,
  writeSqlite,
  type TableRows,
  type TransferTable,
} from "./transfer.ts";

export async function runMigration(from: StateLocation, to: StateLocation): Promise<Record<TransferTable, number>> {
  const sqliteSide = from.kind === "sqlite" ? from : to;
  const pgSide = from.kind === "postgres" ? from : to;
  if (sqliteSide.kind !== "sqlite" || pgSide.kind !== "postgres")
    throw new AppError("E_USAGE", "one side must be SQLite");
  const file = stateDbPath(process.cwd(), sqliteSide.dir);
  // Opening through the store creates (or brings forward) the SQLite schema, on either side.
  await openStateStore(file).close();
  const db = new DatabaseSync(file, { timeout: 5_000 });
  const [{ default: pg }, { createStatePool }] = await Promise.all([import("pg"), import("./postgres/pool.ts")]);
  const pool = createStatePool(pg, { url: pgSide.url, max: 2 });
  try {
    try {
      await migrate(pool);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError("E_STATE", `cannot use the PostgreSQL state database: ${errorMessage(err)}`);
    }
    const columns = Object.fromEntries(TRANSFER_TABLES.map((t) => [t, sqliteColumns(db, t)])) as Parameters<
      typeof readPostgres
    >[1];
    let copied: TableRows;
    if (from.kind === "sqlite") {
      copied = readSqlite(db);
      await writePostgres(pool, columns, copied, "PostgreSQL database");
      assertEqual(copied, await readPostgres(pool, columns));
    } else {
      copied = await readPostgres(pool, columns);
      writeSqlite(db, copied, `SQLite state ${sqliteSide.dir}`);
      assertEqual(copied, readSqlite(db));
    }
    return countRows(copied);
  } finally {
    db.close();
    await pool.end();
  }
}

/** The copy is read back and compared cell by cell; a difference is an error, never a silent partial copy. */
function assertEqual(a: TableRows, b: TableRows): void {
  for (const t of TRANSFER_TABLES) {
    const x = JSON.stringify(a[t].map((r) => r.map(cellKey)));
    const y = JSON.stringify(b[t].map((r) => r.map(cellKey)));
    if (x !== y)
      throw new AppError("E_STATE", `table ${t} differs after the copy (${a[t].length} vs ${b[t].length} rows)`);
  }
}

export function cellKey(v: unknown): unknown {
  return v instanceof Uint8Array ? `blob:${Buffer.from(v).toString("base64")}` : v;
}
