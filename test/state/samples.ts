import { incidentId, type Incident } from "../../src/alerts/types.ts";
import { REPORT_SCHEMA, type Report } from "../../src/report/types.ts";
import type { AlertDraft, CycleCommit } from "../../src/state/types.ts";

export const T0 = Date.parse("2026-03-01T12:00:00.000Z");

export function sampleReport(
  n: number,
  at = new Date(T0 + n * 1000).toISOString(),
  npm: "ok" | "drift" = "drift",
): Report {
  return {
    schema: REPORT_SCHEMA,
    project: "plasmite",
    repo: "sandover/plasmite",
    tag: "v0.8.0",
    version: "0.8.0",
    checked_at: at,
    status: npm,
    published_at: "2026-03-01T11:00:00Z",
    channels: [
      { channel: "github", status: "ok", observed: null, findings: [], evidence: [], duration_ms: 1 },
      {
        channel: "npm",
        status: npm,
        observed: null,
        findings: npm === "drift" ? [{ code: "version-missing", severity: "drift", message: "npm has no 0.8.0" }] : [],
        evidence: [],
        duration_ms: 1,
      },
      { channel: "pypi", status: "skipped", observed: null, findings: [], evidence: [], duration_ms: 0 },
    ],
    duration_ms: 5,
  };
}

export function sampleIncident(over: Partial<Incident> = {}, at = new Date(T0).toISOString()): Incident {
  const key = {
    project: "plasmite",
    tag: "v0.8.0",
    channel: "npm" as const,
    code: "version-missing" as const,
    subject: "",
  };
  return {
    ...key,
    id: incidentId(key),
    state: "open",
    message: "npm has no 0.8.0",
    expected: "0.8.0",
    actual: null,
    evidence: [],
    first_seen: at,
    last_seen: at,
    consecutive: 2,
    opened_at: at,
    last_notified_at: at,
    resolved_at: null,
    reopen_count: 0,
    ...over,
  };
}

export function sampleMessage(n: number, incident = sampleIncident()): AlertDraft {
  return {
    kind: "open",
    incident,
    summary: `message ${n}`,
    resolution: null,
    status_url: null,
    created_at: new Date(T0 + n * 1000).toISOString(),
  };
}

export function sampleCommit(n: number, sinks: string[], over: Partial<CycleCommit> = {}): CycleCommit {
  const at = new Date(T0 + n * 1000).toISOString();
  return {
    report: sampleReport(n, at),
    incidents: [sampleIncident({ last_seen: at }, at)],
    degraded: null,
    messages: [sampleMessage(n)],
    sinks,
    cycle: {
      project: "plasmite",
      tag: "v0.8.0",
      trigger: "schedule",
      started_at: at,
      finished_at: at,
      duration_ms: 5,
      outcome: "ok",
      status: "drift",
      error: null,
    },
    next_check_at: null,
    ...over,
  };
}
