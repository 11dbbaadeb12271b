import type { SecretRegistry } from "../../../secrets.ts";
import { alertItems, type AlertKind, type AlertMessage } from "../../types.ts";

/**
 * The webhook body, `release-monitor/alert@1` (README, "webhook sink"). Pure. Versioned: fields are only ever
 * added within @1; a rename, removal or change of meaning is @2. Every message, single or rolled up
 * (`group: release`), has the same shape: `incidents` lists what it speaks for (one item, or several of one
 * release).
 */
export const ALERT_SCHEMA = "release-monitor/alert@1";

export interface AlertPayloadIncident {
  /** Stable incident id: project|tag|channel|code|subject. */
  id: string;
  channel: string;
  code: string;
  /** Asset, file or platform; "" when the finding has none. */
  subject: string;
  state: "candidate" | "open" | "resolved";
  summary: string;
  message: string;
  expected: string | null;
  actual: string | null;
  evidence: string[];
  first_seen: string;
  last_seen: string;
  opened_at: string | null;
  resolved_at: string | null;
  reopen_count: number;
  /** What cleared it (resolve, recovered); null otherwise. */
  resolution: string | null;
}

export interface AlertPayload {
  schema: typeof ALERT_SCHEMA;
  /** Message id, the same on every retry of this delivery: receivers de-duplicate on it. */
  id: string;
  kind: AlertKind;
  /** True when this one message rolls up several incidents of the release (`group: release`). */
  rolled_up: boolean;
  /** "*" for registry-wide notices (degraded, recovered). */
  project: string;
  tag: string;
  summary: string;
  status_url: string | null;
  created_at: string;
  incidents: AlertPayloadIncident[];
}

export function buildAlertPayload(message: AlertMessage): AlertPayload {
  return {
    schema: ALERT_SCHEMA,
    id: message.id,
    kind: message.kind,
    rolled_up: message.items !== undefined,
    project: message.incident.project,
    tag: message.incident.tag,
    summary: message.summary,
    status_url: message.status_url,
    created_at: message.created_at,
    incidents: alertItems(message).map(({ incident: i, summary, resolution }) => ({
      id: i.id,
      channel: i.channel,
      code: i.code,
      subject: i.subject,
      state: i.state,
      summary,
      message: i.message,
      expected: i.expected,
      actual: i.actual,
      evidence: [...i.evidence],
      first_seen: i.first_seen,
      last_seen: i.last_seen,
      opened_at: i.opened_at,
      resolved_at: i.resolved_at,
      reopen_count: i.reopen_count,
      resolution,
    })),
  };
}

/** Every string of the payload with registered secrets redacted (a finding could quote a URL with a token). */
export function redactPayload<T>(value: T, secrets: SecretRegistry): T {
  if (typeof value === "string") return secrets.redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactPayload(v, secrets)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactPayload(v, secrets);
    return out as T;
  }
  return value;
}
