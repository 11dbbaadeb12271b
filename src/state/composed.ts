import type {
  IncidentStore,
  NewSilence,
  OutboxRow,
  OutboxState,
  Silence,
  OutboxStore,
  SilenceStore,
} from "../alerts/store.ts";
import type { AlertKind, Incident, SinkMemory } from "../alerts/types.ts";
import type { ValidatorCache } from "../http/client.ts";
import type { AttestationCache } from "../provenance/gather.ts";
import type { Report } from "../report/types.ts";
import type {
  ChannelState,
  ChannelTransition,
  CycleCommit,
  CycleRecord,
  CycleStore,
  DaemonLockHolder,
  HistoryStore,
  LockStore,
  ProjectRecord,
  PruneCounts,
  ReleaseRecord,
  RetentionPolicy,
  RetentionStore,
  StateStore,
} from "./types.ts";

/** One engine's role objects (sqlite/<role>.ts or postgres/<role>.ts). */
export interface StateRoles {
  history: HistoryStore;
  cycles: CycleStore;
  incidents: IncidentStore;
  outbox: OutboxStore;
  silences: SilenceStore;
  retention: RetentionStore;
  lock: LockStore;
}

/**
 * A StateStore composed of role objects: every role method delegates to its role. Each engine (SQLite, PostgreSQL)
 * supplies its roles, where it lives, its caches and how it closes; nothing here knows an engine.
 */
export abstract class ComposedStateStore implements StateStore {
  abstract readonly path: string;
  abstract readonly validatorCache: ValidatorCache;
  abstract readonly attestations: AttestationCache;
  readonly #r: StateRoles;

  constructor(roles: StateRoles) {
    this.#r = roles;
  }

  abstract close(): Promise<void>;

  // history
  noteRelease(r: Parameters<StateStore["noteRelease"]>[0]): Promise<ReleaseRecord> {
    return this.#r.history.noteRelease(r);
  }
  release(project: string, tag: string): Promise<ReleaseRecord | null> {
    return this.#r.history.release(project, tag);
  }
  latestReport(project: string): Promise<Report | null> {
    return this.#r.history.latestReport(project);
  }
  latestReports(): Promise<Report[]> {
    return this.#r.history.latestReports();
  }
  channelStates(project: string, tag?: string): Promise<ChannelState[]> {
    return this.#r.history.channelStates(project, tag);
  }
  channelHistory(project: string, tag: string): Promise<ChannelTransition[]> {
    return this.#r.history.channelHistory(project, tag);
  }
  projects(): Promise<ProjectRecord[]> {
    return this.#r.history.projects();
  }
  cycles(project: string, limit: number): Promise<CycleRecord[]> {
    return this.#r.history.cycles(project, limit);
  }

  // cycles (fenced on PostgreSQL)
  commitCycle(c: CycleCommit): Promise<{ messageIds: number[] }> {
    return this.#r.cycles.commitCycle(c);
  }
  recordCycleFailure(cycle: CycleRecord, next_check_at: string | null): Promise<void> {
    return this.#r.cycles.recordCycleFailure(cycle, next_check_at);
  }
  setNextCheck(project: string, at: string | null): Promise<void> {
    return this.#r.cycles.setNextCheck(project, at);
  }

  // incidents
  incidents(project: string): Promise<Incident[]> {
    return this.#r.incidents.incidents(project);
  }
  openIncidents(): Promise<Incident[]> {
    return this.#r.incidents.openIncidents();
  }

  // outbox (claims and marks fenced on PostgreSQL)
  nextOutbox(sink: string): Promise<OutboxRow | null> {
    return this.#r.outbox.nextOutbox(sink);
  }
  markSent(id: number, at: string): Promise<void> {
    return this.#r.outbox.markSent(id, at);
  }
  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    return this.#r.outbox.markRetry(id, attempts, nextAttemptAt, error);
  }
  markDead(id: number, attempts: number, error: string, at: string): Promise<void> {
    return this.#r.outbox.markDead(id, attempts, error, at);
  }
  outboxRows(filter?: { sink?: string; state?: OutboxState }): Promise<OutboxRow[]> {
    return this.#r.outbox.outboxRows(filter);
  }
  outboxDepth(): Promise<Record<string, number>> {
    return this.#r.outbox.outboxDepth();
  }
  messageCount(kind?: AlertKind): Promise<number> {
    return this.#r.outbox.messageCount(kind);
  }
  sinkMemory(sink: string): SinkMemory {
    return this.#r.outbox.sinkMemory(sink);
  }

  // silences
  addSilence(s: NewSilence): Promise<Silence> {
    return this.#r.silences.addSilence(s);
  }
  silences(): Promise<Silence[]> {
    return this.#r.silences.silences();
  }
  activeSilences(now: Date): Promise<Silence[]> {
    return this.#r.silences.activeSilences(now);
  }
  removeSilence(id: number): Promise<boolean> {
    return this.#r.silences.removeSilence(id);
  }

  // retention
  prune(policy: RetentionPolicy, now: Date): Promise<PruneCounts> {
    return this.#r.retention.prune(policy, now);
  }

  // the daemon lock (SQLite: one daemon per state; PostgreSQL: one process per replica id)
  acquireDaemonLock(
    me: Parameters<StateStore["acquireDaemonLock"]>[0],
    isAlive: (pid: number) => boolean,
  ): Promise<DaemonLockHolder | null> {
    return this.#r.lock.acquireDaemonLock(me, isAlive);
  }
  heartbeat(instance: string, now: Date): Promise<void> {
    return this.#r.lock.heartbeat(instance, now);
  }
  releaseDaemonLock(instance: string): Promise<void> {
    return this.#r.lock.releaseDaemonLock(instance);
  }
}
