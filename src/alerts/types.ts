import type { ChannelId } from "../channels.ts";
import type { FindingCode } from "../drift/types.ts";
import type { ErrorCode } from "../errors.ts";
import type { Logger } from "../log.ts";

/** An incident is one (project, tag, channel, finding code, subject). */
export interface IncidentKey {
  project: string;
  tag: string;
  channel: ChannelId;
  code: FindingCode | "registry-degraded";
  /** Asset, file or platform; "" when the finding has none. */
  subject: string;
}

export function incidentId(k: IncidentKey): string {
  return [k.project, k.tag, k.channel, k.code, k.subject].join("|");
}

export type IncidentState = "candidate" | "open" | "resolved";

/** Durable incident record (state/ persists it; alerts/lifecycle.ts computes it). */
export interface Incident extends IncidentKey {
  id: string;
  state: IncidentState;
  message: string;
  expected: string | null;
  actual: string | null;
  /** Evidence URLs of the channel when last seen. */
  evidence: string[];
  first_seen: string;
  last_seen: string;
  /** Consecutive cycles the finding has been seen (flap suppression). */
  consecutive: number;
  opened_at: string | null;
  last_notified_at: string | null;
  resolved_at: string | null;
  /** How many times it re-opened after a resolve. */
  reopen_count: number;
  /**
   * The finding's severity when it is not `drift`: a `provenance-downgrade` under policy `warn` is an incident with
   * severity `warning` (shown in the alert text). Absent for drift findings.
   */
  severity?: "warning";
}

export type AlertKind = "open" | "remind" | "resolve" | "reopen" | "degraded" | "recovered";

/** What a sink is asked to deliver. Built by the lifecycle core; bodies never contain secrets. */
export interface AlertMessage {
  /** Stable id of this message (outbox row id as text); sinks may use it for idempotency. */
  id: string;
  kind: AlertKind;
  incident: Incident;
  /** One-line summary, e.g. "npm is missing plasmite 0.8.0". */
  summary: string;
  /** Resolution text for resolve/recovered. */
  resolution: string | null;
  /** Link to the status page for this project, when the server is enabled. */
  status_url: string | null;
  created_at: string;
  /**
   * A rolled-up message (sinks with `group: release`, alerts/rollup.ts): every incident of one (project, tag) that
   * got this kind of message in one cycle, in lifecycle order; `incident` is the first of them and `summary` speaks
   * for all. Absent on a single-incident message. Read it through `alertItems()`.
   */
  items?: AlertItem[];
}

/** One incident of an alert message, with its own summary and resolution. */
export interface AlertItem {
  incident: Incident;
  summary: string;
  resolution: string | null;
}

/** The incidents a message speaks for: its `items` when rolled up, else its one incident. */
export function alertItems(m: Pick<AlertMessage, "incident" | "summary" | "resolution" | "items">): AlertItem[] {
  return m.items ?? [{ incident: m.incident, summary: m.summary, resolution: m.resolution }];
}

/** Thrown by sinks: `retryable` failures are retried with backoff; permanent ones dead-letter the message. */
export class SinkError extends Error {
  readonly retryable: boolean;
  readonly code: "E_SINK_RETRYABLE" | "E_SINK_PERMANENT";
  /** Server-requested delay before the next attempt (e.g. Slack 429 Retry-After). */
  readonly retryAfterMs: number | null;
  /** Why, as a stable code when the sink knows it (E_HTTP_AUTH: the credential was refused); logged with `code`. */
  readonly reason: ErrorCode | null;
  constructor(
    message: string,
    options: { retryable: boolean; retryAfterMs?: number | null; cause?: unknown; reason?: ErrorCode | null },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SinkError";
    this.retryable = options.retryable;
    this.code = options.retryable ? "E_SINK_RETRYABLE" : "E_SINK_PERMANENT";
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.reason = options.reason ?? null;
  }
}

/** Key-value memory a sink keeps across restarts (e.g. ergo: incident -> task id, tag -> epic id). */
export interface SinkMemory {
  get(key: string): string | null;
  set(key: string, value: string): void;
}

export interface SinkContext {
  log: Logger;
  memory: SinkMemory;
  signal: AbortSignal;
}

/**
 * How a sink's alerts are grouped (`settings.alerts.sinks[].group`): `incident` (default), one message per incident;
 * `release`, the incidents of one (project, tag) that open (or resolve, remind, reopen) in the same cycle are rolled
 * up into one message (alerts/rollup.ts).
 */
export type SinkGroup = "incident" | "release";

/** One alert destination. A new sink is one folder under alerts/sinks/ plus one line in alerts/sinks/registry.ts. */
export interface Sink {
  readonly name: string;
  readonly type: string;
  /** Minimum spacing between deliveries (Slack: 1 s). */
  readonly minIntervalMs: number;
  /** Default `incident`; set from the config entry by the registry. */
  readonly group?: SinkGroup;
  /**
   * The sink renders a rolled-up message (`items`) as one notification itself (Slack, webhook, log). Sinks that
   * keep per-incident state elsewhere (ergo tasks, issue checklists) leave it unset and the registry hands them a
   * rolled-up message one incident at a time (alerts/rollup.ts `deliverItemByItem`).
   */
  readonly rendersRollups?: boolean;
  deliver(message: AlertMessage, ctx: SinkContext): Promise<void>;
  /** Releases what the sink holds (HTTP agents); called once on shutdown. */
  close?(): Promise<void>;
}
