/**
 * Versioned schema migrations for the PostgreSQL state store, applied on start under a session advisory lock
 * (the only use of advisory locks: project ownership is by lease rows, see leases.ts). A database whose schema is
 * newer than this binary knows is refused, never downgraded.
 */
import type pg from "pg";
import { AppError } from "../../errors.ts";
import { MIGRATIONS } from "./schema.ts";

/** Every migration is one transaction; `version` is strictly increasing from 1. */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/** The advisory-lock key serialising migrations across replicas (an arbitrary fixed 64-bit value). */
const MIGRATION_LOCK_KEY = "7263797301";

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** Applies the missing migrations; returns the versions applied (empty when the schema was current). */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const latest = migrations.at(-1)?.version ?? 0;
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
      );
      const { rows } = await client.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
      const current = rows[0]?.v ?? 0;
      if (current > latest) {
        throw new AppError(
          "E_STATE_SCHEMA_NEWER",
          `the state database schema is v${current}, newer than this release knows (v${latest}); upgrade release-monitor on every replica before starting this one`,
          { details: { current, known: latest } },
        );
      }
      const applied: number[] = [];
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query("BEGIN");
        try {
          await client.query(m.sql);
          await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [m.version]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK");
          throw err;
        }
        applied.push(m.version);
      }
      return applied;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
