import type { AlertKind, AlertMessage, Incident, SinkMemory } from "../alerts/types.ts";
import type { ChannelId } from "../channels.ts";
import type { Status } from "../drift/types.ts";
import type { ValidatorCache } from "../http/client.ts";
import type { AttestationCache } from "../provenance/gather.ts";
import type { Report } from "../report/types.ts";

/**
 * The daemon's durable memory. One implementation (sqlite.ts, `node:sqlite`); every multi-row change is one
 * transaction, so a kill -9 at any moment leaves either the old or the new state, never half of a cycle.
 */

/** A muted project (or one channel of it) until `until`. Silences suppress messages, never state. */
export interface Silence {
  id: number;
  /** Project name, or "*" for every project (and registry-degraded notices). */
  project: string;
  /** null: every channel of the project. */
  channel: ChannelId | null;
  until: string;
  reason: string | null;
  created_at: string;
}

export interface NewSilence {
  project: string;
  channel: ChannelId | null;
  until: string;
  reason: string | null;
  created_at: string;
}

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

/** An alert before the outbox gives it an id. */
export type AlertDraft = Omit<AlertMessage, "id">;

export type OutboxState = "pending" | "sent" | "dead";

/** One (message, sink) delivery. */
export interface OutboxRow {
  id: number;
  sink: string;
  state: OutboxState;
  attempts: number;
  /** Epoch ms before which the row is not tried again. */
  next_attempt_at: number;
  created_at: string;
  sent_at: string | null;
  last_error: string | null;
  message: AlertMessage;
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

export interface StateStore {
  /** Absolute path of the database file (":memory:" for tests). */
  readonly path: string;

  /** Records the tag as seen (first_seen kept from the first call); refreshes published_at when known. */
  noteRelease(r: {
    project: string;
    tag: string;
    version: string;
    published_at: string | null;
    now: string;
  }): ReleaseRecord;
  release(project: string, tag: string): ReleaseRecord | null;

  /** Applies one cycle: channel states + history, latest report, incidents, outbox, cycle and project record. */
  commitCycle(c: CycleCommit): { messageIds: number[] };
  /** A cycle that produced no report (error, timeout, no release). */
  recordCycleFailure(cycle: CycleRecord, next_check_at: string | null): void;
  setNextCheck(project: string, at: string | null): void;

  /** Incidents of one project ("*" for registry-degraded ones), resolved ones included. */
  incidents(project: string): Incident[];
  /** Every open incident (all projects and "*"). */
  openIncidents(): Incident[];
  latestReport(project: string): Report | null;
  latestReports(): Report[];
  channelStates(project: string, tag?: string): ChannelState[];
  channelHistory(project: string, tag: string): ChannelTransition[];
  projects(): ProjectRecord[];
  cycles(project: string, limit: number): CycleRecord[];

  addSilence(s: NewSilence): Silence;
  /** All silences, expired included, newest first. */
  silences(): Silence[];
  /** Silences whose `until` is after `now`. */
  activeSilences(now: Date): Silence[];
  removeSilence(id: number): boolean;

  /** The oldest pending row of a sink (deliveries are strictly ordered per sink). */
  nextOutbox(sink: string): OutboxRow | null;
  markSent(id: number, at: string): void;
  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): void;
  markDead(id: number, attempts: number, error: string, at: string): void;
  outboxRows(filter?: { sink?: string; state?: OutboxState }): OutboxRow[];
  /** Pending rows per sink. */
  outboxDepth(): Record<string, number>;
  /** Kinds of alerts enqueued so far (tests, metrics). */
  messageCount(kind?: AlertKind): number;

  /** Conditional-request validators, persisted (steady-state cycles are answered with 304s). */
  readonly validatorCache: ValidatorCache;
  /**
   * Verified attestation results keyed by (kind, digest): immutable per digest, so steady daemon cycles make no
   * attestation requests and repeat no verification. Keys are `<kind>:<digest>`, as the provenance gatherers build them.
   */
  readonly attestations: AttestationCache;
  sinkMemory(sink: string): SinkMemory;

  prune(policy: RetentionPolicy, now: Date): PruneCounts;

  /**
   * Single-daemon lock: succeeds (returns null) when free, already ours (same `instance`), stale (no heartbeat for
   * `staleMs`), or held by a dead process on this host; otherwise returns the live holder. `isAlive` tells whether a
   * pid on this host still runs.
   */
  acquireDaemonLock(
    me: { instance: string; pid: number; host: string; now: Date; staleMs: number },
    isAlive: (pid: number) => boolean,
  ): DaemonLockHolder | null;
  heartbeat(instance: string, now: Date): void;
  releaseDaemonLock(instance: string): void;

  close(): void;
}
