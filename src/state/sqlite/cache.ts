/* eslint-disable @typescript-eslint/require-await -- SQLite answers synchronously; these methods fulfil async interfaces with settled promises (a throw becomes a rejection). */
import type { CachedEntry, ValidatorCache } from "../../http/client.ts";
import { num, str, strOrNull, type SqliteDb } from "./db.ts";

/** Cache rows remember their last use at most this often (a read must not become a write every cycle). */
const CACHE_TOUCH_MS = 60 * 60 * 1000;

/** The HTTP client's conditional-request validators, persisted. */
export class SqliteValidatorCache implements ValidatorCache {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async get(key: string): Promise<CachedEntry | undefined> {
    const r = this.#db.get("SELECT * FROM http_cache WHERE key = ?", key);
    if (!r) return undefined;
    const now = Date.now();
    if (now - num(r, "used_at") > CACHE_TOUCH_MS) {
      this.#db.txRelaxed(() => this.#db.run("UPDATE http_cache SET used_at = ? WHERE key = ?", now, key));
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

  async set(key: string, e: CachedEntry): Promise<void> {
    this.#db.txRelaxed(() =>
      this.#db.run(
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
}
