import type { ChannelId } from "../channels.ts";
import type { AlertKind, AlertMessage, Incident, SinkMemory } from "./types.ts";

/**
 * What the alert side needs from durable state, by role. src/state implements these (SQLite today); nothing here
 * imports src/state. Every method is async so that a networked store fits behind the same interfaces.
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

/** Stored incidents (written with the cycle that computed them; see the state's CycleStore). */
export interface IncidentStore {
  /** Incidents of one project ("*" for registry-degraded ones), resolved ones included. */
  incidents(project: string): Promise<Incident[]>;
  /** Every open incident (all projects and "*"). */
  openIncidents(): Promise<Incident[]>;
}

/** The durable outbox: one row per (message, sink), delivered strictly in order per sink. */
export interface OutboxStore {
  /** The oldest pending row of a sink (deliveries are strictly ordered per sink). */
  nextOutbox(sink: string): Promise<OutboxRow | null>;
  markSent(id: number, at: string): Promise<void>;
  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void>;
  markDead(id: number, attempts: number, error: string, at: string): Promise<void>;
  outboxRows(filter?: { sink?: string; state?: OutboxState }): Promise<OutboxRow[]>;
  /** Pending rows per sink. */
  outboxDepth(): Promise<Record<string, number>>;
  /** Kinds of alerts enqueued so far (tests, metrics). */
  messageCount(kind?: AlertKind): Promise<number>;
  /** Key-value memory of one sink, kept across restarts. */
  sinkMemory(sink: string): SinkMemory;
}

export interface SilenceStore {
  addSilence(s: NewSilence): Promise<Silence>;
  /** All silences, expired included, newest first. */
  silences(): Promise<Silence[]>;
  /** Silences whose `until` is after `now`. */
  activeSilences(now: Date): Promise<Silence[]>;
  removeSilence(id: number): Promise<boolean>;
}
