import { CHANNELS, type ChannelId } from "../channels.ts";
import type { Finding } from "../drift/types.ts";
import type { ChannelReport, Report } from "../report/types.ts";
import type { AlertDraft, Silence } from "./store.ts";
import { incidentId, type AlertKind, type Incident, type IncidentKey } from "./types.ts";

/**
 * The alert lifecycle: a pure function from (previous incidents, new report@1, silences, policy, now) to
 * (next incidents, messages to enqueue). No I/O, no clock of its own; the daemon persists both halves of the
 * result in one transaction.
 *
 *   finding (severity drift) seen   -> candidate (consecutive = 1); also a provenance-downgrade of severity
 *                                      warning (policy warn): a downgrade is always an incident
 *   seen flap_cycles in a row       -> open      (message "open"; "reopen" after an earlier resolve)
 *   still seen, remind_every passed -> open      (message "remind")
 *   gone from a known channel       -> resolved  (message "resolve"); a candidate that clears is forgotten
 *   channel unknown                 -> unchanged (we cannot tell)
 *   newer latest tag                -> resolved  ("superseded by vX")
 *
 * Silences suppress messages, never state. An incident opened while silenced is announced once the silence
 * ends; a resolve is only sent for an announced opening (nobody needs "fixed" for something never reported).
 */

export interface LifecyclePolicy {
  /** Consecutive cycles a finding must persist before it opens (1 = open at first sight). */
  flap_cycles: number;
  /** Reminder cadence while open. */
  remind_every_ms: number;
}

export interface LifecycleInput {
  /** Stored incidents of the report's project (every tag, resolved ones included). */
  previous: readonly Incident[];
  report: Report;
  silences: readonly Silence[];
  policy: LifecyclePolicy;
  now: Date;
  /** Link put on messages (the status page, when the server runs). */
  status_url?: string | null;
}

export interface LifecycleResult {
  /** The complete next incident set for the project (a stored incident missing here is deleted). */
  incidents: Incident[];
  messages: AlertDraft[];
}

/** True when a silence covers this project (or "*") and channel now. */
export function isSilenced(silences: readonly Silence[], project: string, channel: ChannelId, now: Date): boolean {
  const t = now.getTime();
  return silences.some(
    (s) =>
      (s.project === project || s.project === "*") &&
      (s.channel === null || s.channel === channel) &&
      Date.parse(s.until) > t,
  );
}

/** The opening of an incident has been told to the sinks (a message went out at or after `opened_at`). */
function announced(i: Incident): boolean {
  if (i.opened_at === null || i.last_notified_at === null) return false;
  return Date.parse(i.last_notified_at) >= Date.parse(i.opened_at);
}

function due(i: Incident, remindMs: number, now: Date): boolean {
  return i.last_notified_at !== null && now.getTime() - Date.parse(i.last_notified_at) >= remindMs;
}

function keyOf(project: string, tag: string, channel: ChannelId, f: Finding): IncidentKey {
  return { project, tag, channel, code: f.code, subject: f.subject ?? "" };
}

/**
 * Findings that make incidents: every drift finding, and a `provenance-downgrade` whatever the provenance policy
 * (under `warn` it is a warning that leaves the channel status alone, but losing provenance a release had is
 * exactly what a maintainer must hear about before consumers do).
 */
export function isIncidentFinding(f: Finding): boolean {
  return f.severity === "drift" || (f.code === "provenance-downgrade" && f.severity === "warning");
}

function severityOf(f: Partial<Pick<Finding, "severity">>): Pick<Incident, "severity"> {
  return f.severity === "warning" ? { severity: "warning" } : {};
}

function evidenceUrls(ch: ChannelReport): string[] {
  return [...new Set(ch.evidence.map((e) => e.url))];
}

function fresh(
  key: IncidentKey,
  f: Pick<Finding, "message" | "expected" | "actual"> & Partial<Pick<Finding, "severity">>,
  evidence: string[],
  now: string,
): Incident {
  return {
    ...key,
    id: incidentId(key),
    state: "candidate",
    message: f.message,
    expected: f.expected ?? null,
    actual: f.actual ?? null,
    evidence,
    first_seen: now,
    last_seen: now,
    consecutive: 1,
    opened_at: null,
    last_notified_at: null,
    resolved_at: null,
    reopen_count: 0,
    ...severityOf(f),
  };
}

/** One line for humans; sinks show project, tag, channel, code and subject as separate fields. */
function summaryOf(i: Incident): string {
  if (i.code === "registry-degraded") return `${i.channel} registry degraded: ${i.message}`;
  const severity = i.severity ? ` (severity: ${i.severity})` : "";
  return `${i.project} ${i.tag}: ${i.message}${severity}`;
}

function withoutSeverity(i: Incident): Incident {
  const { severity: _severity, ...rest } = i;
  return rest;
}

class Outbox {
  readonly messages: AlertDraft[] = [];
  readonly #now: Date;
  readonly #statusUrl: string | null;
  constructor(now: Date, statusUrl: string | null) {
    this.#now = now;
    this.#statusUrl = statusUrl;
  }
  /** Queues a message and returns the incident with last_notified_at set. */
  send(kind: AlertKind, incident: Incident, resolution: string | null = null): Incident {
    const at = this.#now.toISOString();
    const next: Incident = { ...incident, last_notified_at: at };
    this.messages.push({
      kind,
      incident: next,
      summary: summaryOf(next),
      resolution,
      status_url: this.#statusUrl,
      created_at: at,
    });
    return next;
  }
}

/**
 * One sighting of a (drift) finding: advance flap counting, open/reopen/remind as due.
 * `muted` suppresses the message but not the state change.
 */
function sighted(
  prev: Incident,
  policy: LifecyclePolicy,
  now: Date,
  muted: boolean,
  out: Outbox,
  kinds: SightingKinds,
): Incident {
  const at = now.toISOString();
  let inc = prev;
  if (inc.state === "candidate" && inc.consecutive >= policy.flap_cycles) {
    const reopening = inc.opened_at !== null;
    inc = {
      ...inc,
      state: "open",
      opened_at: at,
      resolved_at: null,
      reopen_count: reopening ? inc.reopen_count + 1 : inc.reopen_count,
    };
    return muted ? inc : out.send(reopening ? kinds.reopen : kinds.open, inc);
  }
  if (inc.state !== "open" || muted) return inc;
  if (!announced(inc)) return out.send(inc.reopen_count > 0 ? kinds.reopen : kinds.open, inc);
  if (kinds.remind !== null && due(inc, policy.remind_every_ms, now)) return out.send(kinds.remind, inc);
  return inc;
}

interface SightingKinds {
  open: AlertKind;
  reopen: AlertKind;
  remind: AlertKind | null;
}

const RELEASE_KINDS: SightingKinds = { open: "open", reopen: "reopen", remind: "remind" };
/** One degraded notice per outage: no reminders. */
const DEGRADED_KINDS: SightingKinds = { open: "degraded", reopen: "degraded", remind: null };

/**
 * The finding is gone (or can no longer apply): an open incident resolves, a candidate is forgotten (or falls
 * back to resolved when it was a re-open candidate). Returns null to delete.
 */
function cleared(
  prev: Incident,
  resolution: string,
  kind: AlertKind,
  now: Date,
  muted: boolean,
  out: Outbox,
): Incident | null {
  const at = now.toISOString();
  if (prev.state === "resolved") return prev;
  if (prev.state === "candidate") {
    if (prev.opened_at === null) return null;
    return { ...prev, state: "resolved", consecutive: 0 };
  }
  const wasAnnounced = announced(prev);
  const inc: Incident = { ...prev, state: "resolved", resolved_at: at, consecutive: 0 };
  return wasAnnounced && !muted ? out.send(kind, inc, resolution) : inc;
}

/** Advance one project's incidents with its newest report. Pure. */
export function advanceIncidents(input: LifecycleInput): LifecycleResult {
  const { report, policy, now, silences } = input;
  const at = now.toISOString();
  const out = new Outbox(now, input.status_url ?? null);
  const previous = new Map(input.previous.map((i) => [i.id, i]));
  const next = new Map<string, Incident>();
  const byChannel = new Map(report.channels.map((c) => [c.channel, c]));

  // 1. Sightings: every drift finding on the report's tag.
  for (const ch of report.channels) {
    if (ch.status === "unknown" || ch.status === "skipped") continue;
    const muted = isSilenced(silences, report.project, ch.channel, now);
    const evidence = evidenceUrls(ch);
    for (const f of ch.findings) {
      if (!isIncidentFinding(f)) continue;
      const key = keyOf(report.project, report.tag, ch.channel, f);
      const id = incidentId(key);
      if (next.has(id)) continue;
      const prev = previous.get(id);
      const seen: Incident = !prev
        ? fresh(key, f, evidence, at)
        : {
            ...withoutSeverity(prev),
            ...severityOf(f),
            state: prev.state === "resolved" ? "candidate" : prev.state,
            consecutive: prev.state === "resolved" ? 1 : prev.consecutive + 1,
            message: f.message,
            expected: f.expected ?? null,
            actual: f.actual ?? null,
            evidence,
            last_seen: at,
          };
      next.set(id, sighted(seen, policy, now, muted, out, RELEASE_KINDS));
    }
  }

  // 2. Everything stored but not sighted this cycle.
  for (const prev of input.previous) {
    if (next.has(prev.id)) continue;
    const muted = isSilenced(silences, prev.project, prev.channel, now);
    let after: Incident | null;
    if (prev.tag !== report.tag) {
      after = cleared(prev, `superseded by ${report.tag}`, "resolve", now, muted, out);
    } else {
      const ch = byChannel.get(prev.channel);
      if (!ch || ch.status === "skipped") {
        after = cleared(prev, `${prev.channel} is no longer checked for ${report.project}`, "resolve", now, muted, out);
      } else if (ch.status === "unknown") {
        after = prev;
      } else {
        after = cleared(prev, `fixed: ${prev.channel} is now ${ch.status}`, "resolve", now, muted, out);
      }
    }
    if (after) next.set(after.id, after);
  }

  return { incidents: [...next.values()].sort((a, b) => a.id.localeCompare(b.id)), messages: out.messages };
}

// ---------------------------------------------------------------- registry degraded

export interface WatchedProject {
  project: string;
  /** Channels configured for the project. */
  channels: readonly ChannelId[];
}

export interface DegradedInput {
  /** Stored registry-degraded incidents (project "*"). */
  previous: readonly Incident[];
  /** Every project the daemon watches. */
  watched: readonly WatchedProject[];
  /** Latest report per project (from their latest successful cycles). */
  latest: LatestReports;
  silences: readonly Silence[];
  policy: LifecyclePolicy;
  now: Date;
  status_url?: string | null;
}

/**
 * What the registry-degraded check reads of a project's latest report: each channel's verdict and its
 * `probe-failed` finding. A full Report is one; the daemon keeps only this per watched project (`reportHealth`).
 */
export interface ReportHealth {
  readonly channels: readonly {
    readonly channel: ChannelReport["channel"];
    readonly status: ChannelReport["status"];
    readonly findings: readonly Pick<Finding, "code" | "actual">[];
  }[];
}

/** The latest report of each project, by name (a Map, or a view over one). */
export interface LatestReports {
  get(project: string): ReportHealth | undefined;
}

/**
 * The part of `report` the degraded check reads, sharing none of the rest: the daemon holds one per watched
 * project for as long as it runs, and a whole report (evidence, findings, provenance) was most of its live heap
 * at 5,000 projects (docs/benchmarks.md §6).
 */
export function reportHealth(report: Report): ReportHealth {
  return {
    channels: report.channels.map((c) => ({
      channel: c.channel,
      status: c.status,
      findings: c.findings
        .filter((f) => f.code === "probe-failed")
        .map((f) => (f.actual === undefined ? { code: f.code } : { code: f.code, actual: f.actual })),
    })),
  };
}

type ChannelHealth =
  { state: "degraded"; failures: { project: string; code: string }[] } | { state: "clear" } | { state: "undetermined" };

/** The probe for `channel` failed (not: found drift, or could not judge for another reason). */
function probeFailed(ch: ReportHealth["channels"][number] | undefined): string | null {
  if (!ch || ch.status !== "unknown") return null;
  const f = ch.findings.find((x) => x.code === "probe-failed");
  return f ? (f.actual ?? "E_PROBE_FAILED") : null;
}

/**
 * Degraded when the channel's probe failed for every watched project that has the channel (at least two of
 * them, or the only watched project); clear as soon as one of them probes it successfully; undetermined while a
 * project has no report yet.
 */
export function channelHealth(
  channel: ChannelId,
  watched: readonly WatchedProject[],
  latest: LatestReports,
): ChannelHealth {
  // One pass that stops at the first success: every cycle commit asks this for every channel, so in steady state
  // it reads one project per channel, not all N (a filtered copy of the watched list per call made it O(N)).
  let eligible = 0;
  const failures: { project: string; code: string }[] = [];
  let missing = false;
  for (const w of watched) {
    if (!w.channels.includes(channel)) continue;
    eligible++;
    const report = latest.get(w.project);
    if (!report) {
      missing = true;
      continue;
    }
    const ch = report.channels.find((c) => c.channel === channel);
    const code = probeFailed(ch);
    if (code === null) return ch && ch.status !== "skipped" ? { state: "clear" } : { state: "undetermined" };
    failures.push({ project: w.project, code });
  }
  if (eligible === 0) return { state: "clear" };
  if (missing) return { state: "undetermined" };
  if (eligible >= 2 || watched.length === 1) return { state: "degraded", failures };
  return { state: "clear" };
}

/**
 * Registry-degraded incidents (project "*", tag "*", code "registry-degraded"), one per channel: ONE `degraded`
 * message when a channel's probe fails for every watched project, ONE `recovered` when it clears. Pure.
 */
export function evaluateDegraded(input: DegradedInput): LifecycleResult {
  const { now, policy, silences } = input;
  const at = now.toISOString();
  const out = new Outbox(now, input.status_url ?? null);
  const previous = new Map(input.previous.map((i) => [i.id, i]));
  const next: Incident[] = [];
  for (const channel of CHANNELS) {
    const key: IncidentKey = { project: "*", tag: "*", channel, code: "registry-degraded", subject: "" };
    const id = incidentId(key);
    const prev = previous.get(id);
    previous.delete(id);
    const health = channelHealth(channel, input.watched, input.latest);
    const muted = isSilenced(silences, "*", channel, now);
    if (health.state === "degraded") {
      const codes = [...new Set(health.failures.map((f) => f.code))].sort().join(", ");
      const message = `${channel} probe failed for ${health.failures.length === 1 ? "the only watched project" : `all ${health.failures.length} watched projects`} (${codes})`;
      const detail = { message, actual: codes };
      const seen: Incident = !prev
        ? fresh(key, detail, [], at)
        : {
            ...prev,
            state: prev.state === "resolved" ? "candidate" : prev.state,
            consecutive: prev.state === "resolved" ? 1 : prev.consecutive + 1,
            message,
            actual: codes,
            last_seen: at,
          };
      next.push(sighted(seen, policy, now, muted, out, DEGRADED_KINDS));
    } else if (prev) {
      const after =
        health.state === "clear"
          ? cleared(prev, `${channel} probes succeed again`, "recovered", now, muted, out)
          : prev;
      if (after) next.push(after);
    }
  }
  // Incidents for channels that no longer exist are dropped.
  return { incidents: next, messages: out.messages };
}
