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
import type { NewSilence, OutboxRow, OutboxState, Silence } from "../../alerts/store.ts";
import type { AlertKind, Incident, SinkMemory } from "../../alerts/types.ts";
import { AppError, errorMessage } from "../../errors.ts";
import type { ValidatorCache } from "../../http/client.ts";
import type { AttestationCache } from "../../provenance/gather.ts";
import type { Report } from "../../report/types.ts";
import type {
  ChannelState,
  ChannelTransition,
  ClusterStateStore,
  CycleCommit,
  CycleRecord,
  DaemonLockHolder,
  ManualCheckRecord,
  ProjectRecord,
  PruneCounts,
  ReleaseRecord,
  RetentionPolicy,
  StateStore,
} from "../types.ts";
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

export class PostgresStateStore implements ClusterStateStore {
  readonly kind = "postgres";
  readonly path: string;
  readonly replicaId: string;
  readonly validatorCache: ValidatorCache;
  readonly attestations: AttestationCache;
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #history: PgHistory;
  readonly #cycles: PgCycles;
  readonly #incidents: PgIncidents;
  readonly #outbox: PgOutbox;
  readonly #silences: PgSilences;
  readonly #retention: PgRetention;
  readonly #lock: PgLock;
  readonly #manual: PgManualChecks;
  #closed = false;

  /** Use openPostgresState (it migrates first). */
  constructor(pool: pg.Pool, o: PostgresStateOptions) {
    const fencing = o.fencing === "unfenced" ? null : o.fencing;
    this.replicaId = fencing?.replicaId ?? o.replicaId ?? `${process.env["HOSTNAME"] ?? "replica"}:${process.pid}`;
    if (fencing && o.replicaId !== undefined && o.replicaId !== fencing.replicaId) {
      throw new AppError(
        "E_INTERNAL",
        `replica id ${o.replicaId} differs from its lease keeper's ${fencing.replicaId}`,
      );
    }
    this.path = o.displayName ?? "postgresql";
    this.#pool = pool;
    this.#ownsPool = o.ownsPool ?? true;
    const db = new PgDb(pool, { path: this.path, fencing, replicaId: this.replicaId, ttlMs: o.leaseTtlMs ?? 30_000 });
    this.validatorCache = new PgValidatorCache(db);
    this.attestations = new PgAttestations(db);
    this.#history = new PgHistory(db);
    this.#incidents = new PgIncidents(db);
    this.#outbox = new PgOutbox(db);
    this.#cycles = new PgCycles(db, this.#incidents);
    this.#silences = new PgSilences(db);
    this.#retention = new PgRetention(db);
    this.#lock = new PgLock(db);
    this.#manual = new PgManualChecks(db);
  }

  // history
  noteRelease(r: Parameters<StateStore["noteRelease"]>[0]): Promise<ReleaseRecord> {
    return this.#history.noteRelease(r);
  }
  release(project: string, tag: string): Promise<ReleaseRecord | null> {
    return this.#history.release(project, tag);
  }
  latestReport(project: string): Promise<Report | null> {
    return this.#history.latestReport(project);
  }
  latestReports(): Promise<Report[]> {
    return this.#history.latestReports();
  }
  channelStates(project: string, tag?: string): Promise<ChannelState[]> {
    return this.#history.channelStates(project, tag);
  }
  channelHistory(project: string, tag: string): Promise<ChannelTransition[]> {
    return this.#history.channelHistory(project, tag);
  }
  projects(): Promise<ProjectRecord[]> {
    return this.#history.projects();
  }
  cycles(project: string, limit: number): Promise<CycleRecord[]> {
    return this.#history.cycles(project, limit);
  }

  // cycles (fenced)
  commitCycle(c: CycleCommit): Promise<{ messageIds: number[] }> {
    return this.#cycles.commitCycle(c);
  }
  recordCycleFailure(cycle: CycleRecord, next_check_at: string | null): Promise<void> {
    return this.#cycles.recordCycleFailure(cycle, next_check_at);
  }
  setNextCheck(project: string, at: string | null): Promise<void> {
    return this.#cycles.setNextCheck(project, at);
  }

  // incidents
  incidents(project: string): Promise<Incident[]> {
    return this.#incidents.incidents(project);
  }
  openIncidents(): Promise<Incident[]> {
    return this.#incidents.openIncidents();
  }

  // outbox (claims and marks fenced)
  nextOutbox(sink: string): Promise<OutboxRow | null> {
    return this.#outbox.nextOutbox(sink);
  }
  markSent(id: number, at: string): Promise<void> {
    return this.#outbox.markSent(id, at);
  }
  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    return this.#outbox.markRetry(id, attempts, nextAttemptAt, error);
  }
  markDead(id: number, attempts: number, error: string, at: string): Promise<void> {
    return this.#outbox.markDead(id, attempts, error, at);
  }
  outboxRows(filter?: { sink?: string; state?: OutboxState }): Promise<OutboxRow[]> {
    return this.#outbox.outboxRows(filter);
  }
  outboxDepth(): Promise<Record<string, number>> {
    return this.#outbox.outboxDepth();
  }
  messageCount(kind?: AlertKind): Promise<number> {
    return this.#outbox.messageCount(kind);
  }
  sinkMemory(sink: string): SinkMemory {
    return this.#outbox.sinkMemory(sink);
  }

  // silences
  addSilence(s: NewSilence): Promise<Silence> {
    return this.#silences.addSilence(s);
  }
  silences(): Promise<Silence[]> {
    return this.#silences.silences();
  }
  activeSilences(now: Date): Promise<Silence[]> {
    return this.#silences.activeSilences(now);
  }
  removeSilence(id: number): Promise<boolean> {
    return this.#silences.removeSilence(id);
  }

  // retention
  prune(policy: RetentionPolicy, now: Date): Promise<PruneCounts> {
    return this.#retention.prune(policy, now);
  }

  // the replica id's lock (one process per replica id)
  acquireDaemonLock(
    me: Parameters<StateStore["acquireDaemonLock"]>[0],
    isAlive: (pid: number) => boolean,
  ): Promise<DaemonLockHolder | null> {
    return this.#lock.acquireDaemonLock(me, isAlive);
  }
  heartbeat(instance: string): Promise<void> {
    return this.#lock.heartbeat(instance);
  }
  releaseDaemonLock(instance: string): Promise<void> {
    return this.#lock.releaseDaemonLock(instance);
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
