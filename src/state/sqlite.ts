import { resolve } from "node:path";
import type { NewSilence, OutboxRow, OutboxState, Silence } from "../alerts/store.ts";
import type { AlertKind, Incident, SinkMemory } from "../alerts/types.ts";
import type { ValidatorCache } from "../http/client.ts";
import type { Report } from "../report/types.ts";
import type { AttestationCache } from "../provenance/gather.ts";
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
import type {
  ChannelState,
  ChannelTransition,
  CycleCommit,
  CycleRecord,
  DaemonLockHolder,
  ProjectRecord,
  PruneCounts,
  ReleaseRecord,
  RetentionPolicy,
  StateStore,
} from "./types.ts";

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

/** The StateStore on one SQLite connection: each role lives in sqlite/<role>.ts; this class only composes them. */
class SqliteStateStore implements StateStore {
  readonly path: string;
  readonly validatorCache: ValidatorCache;
  readonly attestations: AttestationCache;
  readonly #db: SqliteDb;
  readonly #history: SqliteHistory;
  readonly #cycles: SqliteCycles;
  readonly #incidents: SqliteIncidents;
  readonly #outbox: SqliteOutbox;
  readonly #silences: SqliteSilences;
  readonly #retention: SqliteRetention;
  readonly #lock: SqliteLock;

  constructor(db: SqliteDb) {
    this.#db = db;
    this.path = db.path;
    this.validatorCache = new SqliteValidatorCache(db);
    this.attestations = new SqliteAttestations(db);
    this.#history = new SqliteHistory(db);
    this.#incidents = new SqliteIncidents(db);
    this.#outbox = new SqliteOutbox(db);
    this.#cycles = new SqliteCycles(db, this.#incidents, this.#outbox);
    this.#silences = new SqliteSilences(db);
    this.#retention = new SqliteRetention(db);
    this.#lock = new SqliteLock(db);
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

  // cycles
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

  // outbox
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

  // single-daemon lock
  acquireDaemonLock(
    me: Parameters<StateStore["acquireDaemonLock"]>[0],
    isAlive: (pid: number) => boolean,
  ): Promise<DaemonLockHolder | null> {
    return this.#lock.acquireDaemonLock(me, isAlive);
  }
  heartbeat(instance: string, now: Date): Promise<void> {
    return this.#lock.heartbeat(instance, now);
  }
  releaseDaemonLock(instance: string): Promise<void> {
    return this.#lock.releaseDaemonLock(instance);
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}
