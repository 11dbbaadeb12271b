import type { AlertDraft, IncidentStore, OutboxStore, SilenceStore } from "../alerts/store.ts";
import type { Incident } from "../alerts/types.ts";
import type { ChannelId } from "../channels.ts";
import type { Status } from "../drift/types.ts";
import type { ValidatorCache } from "../http/client.ts";
import type { AttestationCache } from "../provenance/gather.ts";
import type { Report } from "../report/types.ts";

/**
 * The daemon's durable memory, split by role. Every method is async (a networked store fits behind them); the
 * SQLite implementation (sqlite.ts + sqlite/<role>.ts, `node:sqlite`) answers with resolved promises. Every
 * multi-row change is one transaction, so a kill -9 at any moment leaves either the old or the new state, never
 * half of a cycle. The alert-side roles (incidents, outbox, silences) are declared in src/alerts/store.ts.
 */

export type {
  AlertDraft,
  IncidentStore,
  NewSilence,
  OutboxRow,
  OutboxState,
  OutboxStore,
  Silence,
  SilenceStore,
} from "../alerts/store.ts";

/** Current status of one channel of one release, and when it first went live (first `ok`). */
export interface ChannelState {
  project: string;
  tag: string;
  channel: ChannelId;
  status: Status;
  /** When the channel entered `status`. */
  since: string;
  /** First time the channel was seen `ok` for this tag (propagation stats); null until then. */
  live_at: string | null;
  updated_at: string;
}

/** One status change of a channel (history; `from` is null for the first observation). */
export interface ChannelTransition {
  id: number;
  project: string;
  tag: string;
  channel: ChannelId;
  from: Status | null;
  to: Status;
  at: string;
}

export interface ReleaseRecord {
  project: string;
  tag: string;
  version: string;
  /** When the daemon first saw the tag as the project's latest release. */
  first_seen: string;
  published_at: string | null;
}

export type CycleOutcome = "ok" | "error" | "timeout" | "no-release";
export type CycleTrigger = "startup" | "schedule" | "hot" | "manual" | "once";

export interface CycleRecord {
  project: string;
  tag: string | null;
  trigger: CycleTrigger;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  outcome: CycleOutcome;
  /** Overall report status when a report was produced. */
  status: Status | null;
  error: string | null;
}

/** Per-project schedule and health, for `status()`, /readyz and metrics later. */
export interface ProjectRecord {
  project: string;
  tag: string | null;
  last_check_at: string | null;
  last_success_at: string | null;
  next_check_at: string | null;
  last_duration_ms: number | null;
  last_outcome: CycleOutcome | null;
  last_error: string | null;
}

/** Everything one finished cycle changes, written in a single transaction. */
export interface CycleCommit {
  report: Report;
  /** The project's next incident set (replaces the stored one, ids not listed are deleted). */
  incidents: readonly Incident[];
  /** The next registry-degraded incident set (project "*"), when this cycle re-evaluated it. */
  degraded: readonly Incident[] | null;
  /** Alerts to enqueue: one outbox row per (message, sink), in this order. */
  messages: readonly AlertDraft[];
  sinks: readonly string[];
  /**
   * The sinks of each message (same index as `messages`) when they differ per message (rolled-up alerts,
   * alerts/rollup.ts); absent: every message goes to every sink in `sinks`.
   */
  routes?: readonly (readonly string[])[];
  cycle: CycleRecord;
  next_check_at: string | null;
  /**
   * The lease generation the cycle ran under (PostgreSQL HA): a fenced store rejects the commit with E_LEASE_LOST
   * once the project's lease has moved past it. Absent: the store's lease keeper's current generation. SQLite
   * (one daemon per state) ignores it.
   */
  generation?: number;
}

export interface RetentionPolicy {
  /** Channel status history, stale channel rows and releases of old tags. */
  history_ms: number;
  resolved_incidents_ms: number;
  /** Sent outbox rows (and messages with no pending row left). */
  sent_outbox_ms: number;
  dead_outbox_ms: number;
  /** HTTP validator cache entries not used for this long. */
  http_cache_ms: number;
  cycles_ms: number;
  /** Silences expired this long ago. */
  expired_silences_ms: number;
}

export interface PruneCounts {
  history: number;
  channels: number;
  releases: number;
  incidents: number;
  outbox: number;
  messages: number;
  http_cache: number;
  /** Cached attestation results not used for http_cache_ms. */
  attestations: number;
  cycles: number;
  silences: number;
}

export interface DaemonLockHolder {
  pid: number;
  host: string;
  started_at: string;
  heartbeat_at: string;
}

/** Releases, channel status and history, latest reports, per-project records and cycle records (read side). */
export interface HistoryStore {
  /** Records the tag as seen (first_seen kept from the first call); refreshes published_at when known. */
  noteRelease(r: {
    project: string;
    tag: string;
    version: string;
    published_at: string | null;
    now: string;
  }): Promise<ReleaseRecord>;
  release(project: string, tag: string): Promise<ReleaseRecord | null>;
  latestReport(project: string): Promise<Report | null>;
  latestReports(): Promise<Report[]>;
  channelStates(project: string, tag?: string): Promise<ChannelState[]>;
  channelHistory(project: string, tag: string): Promise<ChannelTransition[]>;
  projects(): Promise<ProjectRecord[]>;
  cycles(project: string, limit: number): Promise<CycleRecord[]>;
}

/** What one cycle writes; commitCycle spans history, incidents and outbox in one transaction. */
export interface CycleStore {
  /** Applies one cycle: channel states + history, latest report, incidents, outbox, cycle and project record. */
  commitCycle(c: CycleCommit): Promise<{ messageIds: number[] }>;
  /** A cycle that produced no report (error, timeout, no release). */
  recordCycleFailure(cycle: CycleRecord, next_check_at: string | null): Promise<void>;
  setNextCheck(project: string, at: string | null): Promise<void>;
}

/** Conditional-request validators, persisted (steady-state cycles are answered with 304s). */
export interface CacheStore {
  readonly validatorCache: ValidatorCache;
  /**
   * Verified attestation results keyed by (kind, digest): immutable per digest, so steady daemon cycles make no
   * attestation requests and repeat no verification. Keys are `<kind>:<digest>`, as the provenance gatherers build them.
   */
  readonly attestations: AttestationCache;
}

export interface RetentionStore {
  prune(policy: RetentionPolicy, now: Date): Promise<PruneCounts>;
}

/** The single-daemon lock on one state. */
export interface LockStore {
  /**
   * Succeeds (returns null) when free, already ours (same `instance`), stale (no heartbeat for `staleMs`), or held
   * by a dead process on this host; otherwise returns the live holder. `isAlive` tells whether a pid on this host
   * still runs.
   */
  acquireDaemonLock(
    me: { instance: string; pid: number; host: string; now: Date; staleMs: number },
    isAlive: (pid: number) => boolean,
  ): Promise<DaemonLockHolder | null>;
  heartbeat(instance: string, now: Date): Promise<void>;
  releaseDaemonLock(instance: string): Promise<void>;
}

/** The whole state: every role, plus where it lives and how to close it. */
export interface StateStore
  extends HistoryStore, CycleStore, IncidentStore, OutboxStore, SilenceStore, CacheStore, RetentionStore, LockStore {
  /** Where the state lives, for logs and errors (a file path; ":memory:" for tests). */
  readonly path: string;
  close(): Promise<void>;
}

/** A manual check (POST …/check) handed through the shared state to the replica that owns the project. */
export interface ManualCheckRecord {
  id: number;
  project: string;
  requested_by: string;
  requested_at: string;
  taken_by: string | null;
  taken_at: string | null;
  finished_at: string | null;
  outcome: "ok" | "error" | null;
  error: string | null;
}

/**
 * Manual checks across a cluster (PostgreSQL): any replica records the request, the project's owner takes it under
 * its lease and runs the cycle, the requester waits for the outcome. The per-project limit
 * (settings.server.manual_checks_per_minute) counts requests cluster-wide over the last minute of the database's
 * clock; a request while one is open joins it (concurrent requests share one cycle), as in one daemon.
 */
export interface ManualCheckStore {
  /** Records a request (or joins the open one); E_RATE_LIMITED with details.retry_after_s past the limit. */
  requestManualCheck(
    project: string,
    o: { requestedBy: string; limitPerMinute: number },
  ): Promise<{ id: number; joined: boolean }>;
  /** Open requests of projects this replica holds, now taken by it (fenced; a dead owner's are taken again). */
  takeManualChecks(): Promise<ManualCheckRecord[]>;
  /** Records the outcome of a taken request (fenced: E_LEASE_LOST once the lease moved on). */
  finishManualCheck(id: number, outcome: { outcome: "ok" | "error"; error: string | null }): Promise<void>;
  manualCheck(id: number): Promise<ManualCheckRecord | null>;
}

/** The PostgreSQL state: every StateStore role plus manual-check hand-off; many replicas share it. */
export interface ClusterStateStore extends StateStore, ManualCheckStore {
  readonly kind: "postgres";
  /** This store's replica id (MONITOR_REPLICA_ID). */
  readonly replicaId: string;
}
