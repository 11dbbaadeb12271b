import type { CachedEntry, ValidatorCache } from "../../http/client.ts";
import type { AttestationCache } from "../../provenance/gather.ts";
import { attestationKey } from "../sqlite/attestations.ts";
import { int, textOrNull, type PgDb } from "./db.ts";

/** Rows remember their last use at most this often (a read must not become a write every cycle). */
const TOUCH_MS = 60 * 60 * 1000;

/**
 * The HTTP client's conditional-request validators, shared by the replicas. A cache, not a side effect: any
 * replica may write it (last writer wins), so it is not fenced.
 */
export class PgValidatorCache implements ValidatorCache {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  async get(key: string): Promise<CachedEntry | undefined> {
    const { rows } = await this.#db.query("SELECT * FROM http_cache WHERE key = $1", [key]);
    const r = rows[0];
    if (!r) return undefined;
    const now = Date.now();
    if (now - int(r["used_at"]) > TOUCH_MS) {
      await this.#db.query("UPDATE http_cache SET used_at = $1 WHERE key = $2", [now, key]);
    }
    return {
      etag: textOrNull(r["etag"]),
      last_modified: textOrNull(r["last_modified"]),
      status: int(r["status"]),
      headers: JSON.parse(String(r["headers"])) as Record<string, string>,
      body: Buffer.from(r["body"] as Buffer),
      stored_at: int(r["stored_at"]),
    };
  }

  async set(key: string, e: CachedEntry): Promise<void> {
    await this.#db.query(
      `INSERT INTO http_cache (key, etag, last_modified, status, headers, body, stored_at, used_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (key) DO UPDATE SET etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified,
         status = EXCLUDED.status, headers = EXCLUDED.headers, body = EXCLUDED.body,
         stored_at = EXCLUDED.stored_at, used_at = EXCLUDED.used_at`,
      [key, e.etag, e.last_modified, e.status, JSON.stringify(e.headers), Buffer.from(e.body), e.stored_at, Date.now()],
    );
  }
}

/** Verified attestation results, immutable per (kind, digest), shared by the replicas (not fenced: a cache). */
export class PgAttestations implements AttestationCache {
  readonly #db: PgDb;

  constructor(db: PgDb) {
    this.#db = db;
  }

  async get(key: string): Promise<string | undefined> {
    const { kind, digest } = attestationKey(key);
    const { rows } = await this.#db.query("SELECT value, used_at FROM attestations WHERE kind = $1 AND digest = $2", [
      kind,
      digest,
    ]);
    const r = rows[0];
    if (!r) return undefined;
    const now = Date.now();
    if (now - int(r["used_at"]) > TOUCH_MS) {
      await this.#db.query("UPDATE attestations SET used_at = $1 WHERE kind = $2 AND digest = $3", [now, kind, digest]);
    }
    return String(r["value"]);
  }

  async set(key: string, value: string): Promise<void> {
    const { kind, digest } = attestationKey(key);
    const now = Date.now();
    await this.#db.query(
      `INSERT INTO attestations (kind, digest, value, stored_at, used_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (kind, digest) DO UPDATE SET value = EXCLUDED.value, used_at = EXCLUDED.used_at`,
      [kind, digest, value, now, now],
    );
  }
}
