/**
 * The StateStore on PostgreSQL, for HA: two or more `monitor watch` replicas share one state and own projects by
 * lease (leases.ts). Every role mirrors the SQLite store's semantics (test/state/contract.ts runs against both);
 * each lives in postgres/<role>.ts and this class only composes them.
 *
 * A fenced store (a daemon replica, given its LeaseKeeper) fences every side-effect write on the project's lease:
 * commitCycle, recordCycleFailure and setNextCheck (and with them incident and outbox writes), outbox claims and
 * marks, sink memory and manual-check hand-off. A write whose lease moved on (expired by the database's clock,
 * taken by another replica, generation bumped) fails with E_LEASE_LOST and changes nothing. Caches (validators,
 * attestations), release notes, silences and retention are shared bookkeeping, not fenced.
 */
import type pg from "pg";
import { AppError, errorMessage } from "../../errors.ts";
import type { ValidatorCache } from "../../http/client.ts";
import type { AttestationCache } from "../../provenance/gather.ts";
import type { ClusterStateStore, ManualCheckRecord } from "../types.ts";
import { ComposedStateStore } from "../composed.ts";
import { PgAttestations, PgValidatorCache } from "./cache.ts";
import { PgCycles } from "./cycles.ts";
import { PgDb, type Fencing } from "./db.ts";
import { PgHistory } from "./history.ts";
import { PgIncidents } from "./incidents.ts";
import { PgLock } from "./lock.ts";
import { PgManualChecks } from "./manual-checks.ts";
import { migrate } from "./migrate.ts";
import { PgOutbox } from "./outbox.ts";
import { PgRetention } from "./retention.ts";
import { PgSilences } from "./silences.ts";

export type { Fencing } from "./db.ts";

export interface PostgresStateOptions {
  /**
   * The lease keeper of this replica (fenced store), or "unfenced" for tools that never run cycles or deliver
   * (`monitor silence`, `monitor state migrate`, the plain contract test).
   */
  fencing: Fencing | "unfenced";
  /** This replica's id; with a keeper, the keeper's. Default `<host>:<pid>`. */
  replicaId?: string;
  /** The lease TTL (a replica's heartbeat older than this is stale); default 30 s. */
  leaseTtlMs?: number;
  /** For logs and errors: the database without credentials (default "postgresql"). */
  displayName?: string;
  /** Closing the store ends the pool (default true; false when the caller shares it, e.g. with its LeaseKeeper). */
  ownsPool?: boolean;
}

/** Brings the schema up to date on `pool` (E_STATE_SCHEMA_NEWER for a newer one) and opens the store on it. */
export async function openPostgresState(pool: pg.Pool, o: PostgresStateOptions): Promise<PostgresStateStore> {
  try {
    await migrate(pool);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError(
      "E_STATE",
      `cannot use the ${o.displayName ?? "PostgreSQL"} state database: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  return new PostgresStateStore(pool, o);
}

export class PostgresStateStore extends ComposedStateStore implements ClusterStateStore {
  readonly kind = "postgres";
  readonly path: string;
  readonly replicaId: string;
  readonly validatorCache: ValidatorCache;
  readonly attestations: AttestationCache;
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #manual: PgManualChecks;
  #closed = false;

  /** Use openPostgresState (it migrates first). */
  constructor(pool: pg.Pool, o: PostgresStateOptions) {
    const fencing = o.fencing === "unfenced" ? null : o.fencing;
    const replicaId = fencing?.replicaId ?? o.replicaId ?? `${process.env["HOSTNAME"] ?? "replica"}:${process.pid}`;
    if (fencing && o.replicaId !== undefined && o.replicaId !== fencing.replicaId) {
      throw new AppError(
        "E_INTERNAL",
        `replica id ${o.replicaId} differs from its lease keeper's ${fencing.replicaId}`,
      );
    }
    const path = o.displayName ?? "postgresql";
    const db = new PgDb(pool, { path, fencing, replicaId, ttlMs: o.leaseTtlMs ?? 30_000 });
    const incidents = new PgIncidents(db);
    super({
      history: new PgHistory(db),
      cycles: new PgCycles(db, incidents),
      incidents,
      outbox: new PgOutbox(db),
      silences: new PgSilences(db),
      retention: new PgRetention(db),
      lock: new PgLock(db),
    });
    this.replicaId = replicaId;
    this.path = path;
    this.#pool = pool;
    this.#ownsPool = o.ownsPool ?? true;
    this.validatorCache = new PgValidatorCache(db);
    this.attestations = new PgAttestations(db);
    this.#manual = new PgManualChecks(db);
  }

  // manual checks across the cluster
  requestManualCheck(
    project: string,
    o: { requestedBy: string; limitPerMinute: number },
  ): Promise<{ id: number; joined: boolean }> {
    return this.#manual.requestManualCheck(project, o);
  }
  takeManualChecks(): Promise<ManualCheckRecord[]> {
    return this.#manual.takeManualChecks();
  }
  finishManualCheck(id: number, outcome: { outcome: "ok" | "error"; error: string | null }): Promise<void> {
    return this.#manual.finishManualCheck(id, outcome);
  }
  manualCheck(id: number): Promise<ManualCheckRecord | null> {
    return this.#manual.manualCheck(id);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsPool) await this.#pool.end();
  }
}
