/* eslint-disable @typescript-eslint/require-await -- SQLite answers synchronously; these methods fulfil async interfaces with settled promises (a throw becomes a rejection). */
import type { AttestationCache } from "../../provenance/gather.ts";
import { num, str, type SqliteDb } from "./db.ts";

/** Rows remember their last use at most this often (a read must not become a write every cycle). */
const TOUCH_MS = 60 * 60 * 1000;

/** An attestation cache key `<kind>:<digest…>` (e.g. `github:<repo>:<sha256>`) as its (kind, digest) columns. */
export function attestationKey(key: string): { kind: string; digest: string } {
  const at = key.indexOf(":");
  return at < 0 ? { kind: "", digest: key } : { kind: key.slice(0, at), digest: key.slice(at + 1) };
}

/** Verified attestation results, immutable per (kind, digest): steady cycles neither fetch nor verify again. */
export class SqliteAttestations implements AttestationCache {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  async get(key: string): Promise<string | undefined> {
    const { kind, digest } = attestationKey(key);
    const r = this.#db.get("SELECT value, used_at FROM attestations WHERE kind = ? AND digest = ?", kind, digest);
    if (!r) return undefined;
    const now = Date.now();
    if (now - num(r, "used_at") > TOUCH_MS) {
      this.#db.txRelaxed(() =>
        this.#db.run("UPDATE attestations SET used_at = ? WHERE kind = ? AND digest = ?", now, kind, digest),
      );
    }
    return str(r, "value");
  }

  async set(key: string, value: string): Promise<void> {
    const { kind, digest } = attestationKey(key);
    const now = Date.now();
    this.#db.txRelaxed(() =>
      this.#db.run(
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
}
