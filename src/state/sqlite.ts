import { resolve } from "node:path";
import type { ValidatorCache } from "../http/client.ts";
import type { AttestationCache } from "../provenance/gather.ts";
import { ComposedStateStore } from "./composed.ts";
import { SqliteAttestations } from "./sqlite/attestations.ts";
import { SqliteValidatorCache } from "./sqlite/cache.ts";
import { SqliteCycles } from "./sqlite/cycles.ts";
import { SqliteDb, type OpenStateOptions } from "./sqlite/db.ts";
import { SqliteHistory } from "./sqlite/history.ts";
import { SqliteIncidents } from "./sqlite/incidents.ts";
import { SqliteLock } from "./sqlite/lock.ts";
import { SqliteOutbox } from "./sqlite/outbox.ts";
import { SqliteRetention } from "./sqlite/retention.ts";
import { SqliteSilences } from "./sqlite/silences.ts";
import type { StateStore } from "./types.ts";

export { BUSY_TIMEOUT_MS, SCHEMA_VERSION, type OpenStateOptions } from "./sqlite/db.ts";
export const STATE_FILE = "monitor.db";

/** `<baseDir>/<state_dir>/monitor.db`: state_dir is relative to the config file's directory. */
export function stateDbPath(baseDir: string, stateDir: string): string {
  return resolve(baseDir, stateDir, STATE_FILE);
}

/** Opens (creating when needed) the state database at `path`; ":memory:" for tests. */
export function openStateStore(path: string, options: OpenStateOptions = {}): StateStore {
  return new SqliteStateStore(SqliteDb.open(path, options));
}

/** The StateStore on one SQLite connection: each role lives in sqlite/<role>.ts; composed.ts delegates to them. */
class SqliteStateStore extends ComposedStateStore {
  readonly path: string;
  readonly validatorCache: ValidatorCache;
  readonly attestations: AttestationCache;
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    const incidents = new SqliteIncidents(db);
    const outbox = new SqliteOutbox(db);
    super({
      history: new SqliteHistory(db),
      cycles: new SqliteCycles(db, incidents, outbox),
      incidents,
      outbox,
      silences: new SqliteSilences(db),
      retention: new SqliteRetention(db),
      lock: new SqliteLock(db),
    });
    this.#db = db;
    this.path = db.path;
    this.validatorCache = new SqliteValidatorCache(db);
    this.attestations = new SqliteAttestations(db);
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}
