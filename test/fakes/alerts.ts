/**
 * Test builders for alert sinks: `makeIncident`, `makeAlert` (an AlertMessage with sensible defaults, override any
 * field), `MemorySinkMemory` (a SinkMemory over a Map, `entries()` to inspect), `sinkContext(memory?)` (SinkContext
 * with a silent logger and a live signal), and `captureLogger(secrets)` (a real redacting logger whose JSON lines
 * end up in `lines`).
 */
import type { AlertKind, AlertMessage, Incident, SinkContext, SinkMemory } from "../../src/alerts/types.ts";
import { incidentId } from "../../src/alerts/types.ts";
import { createLogger, silentLogger, type Logger } from "../../src/log.ts";
import type { SecretRegistry } from "../../src/secrets.ts";

export function makeIncident(overrides: Partial<Incident> = {}): Incident {
  const key = {
    project: overrides.project ?? "plasmite",
    tag: overrides.tag ?? "v0.8.0",
    channel: overrides.channel ?? "npm",
    code: overrides.code ?? "version-missing",
    subject: overrides.subject ?? "",
  };
  return {
    ...key,
    id: incidentId(key),
    state: "open",
    message: "npm has no version 0.8.0",
    expected: "0.8.0",
    actual: null,
    evidence: ["https://npm-registry.example/plasmite"],
    first_seen: "2026-03-01T12:00:00.000Z",
    last_seen: "2026-03-01T12:10:00.000Z",
    consecutive: 3,
    opened_at: "2026-03-01T12:05:00.000Z",
    last_notified_at: null,
    resolved_at: null,
    reopen_count: 0,
    ...overrides,
  };
}

let seq = 0;

export function makeAlert(kind: AlertKind, overrides: Partial<AlertMessage> = {}): AlertMessage {
  seq += 1;
  const incident = overrides.incident ?? makeIncident();
  return {
    id: String(seq),
    kind,
    incident,
    summary: `${incident.channel} is missing ${incident.project} ${incident.tag.replace(/^v/, "")}`,
    resolution: kind === "resolve" || kind === "recovered" ? `${incident.channel} now serves it` : null,
    status_url: null,
    created_at: "2026-03-01T16:05:00.000Z",
    ...overrides,
  };
}

export class MemorySinkMemory implements SinkMemory {
  readonly #map = new Map<string, string>();
  get(key: string): Promise<string | null> {
    return Promise.resolve(this.#map.get(key) ?? null);
  }
  set(key: string, value: string): Promise<void> {
    this.#map.set(key, value);
    return Promise.resolve();
  }
  entries(): [string, string][] {
    return [...this.#map.entries()];
  }
}

export function sinkContext(memory: SinkMemory = new MemorySinkMemory(), log: Logger = silentLogger()): SinkContext {
  return { log, memory, signal: new AbortController().signal };
}

export function captureLogger(secrets: SecretRegistry): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = {
    write(line: string) {
      lines.push(line);
    },
  };
  const log = createLogger({ level: "debug", pretty: false, secrets, destination });
  return { log, lines };
}
