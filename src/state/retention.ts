import { parseDuration } from "../config/duration.ts";
import type { SettingsConfig } from "../config/schema.ts";
import type { RetentionPolicy } from "./types.ts";

const DAY = 86_400_000;

/** Defaults when a config predates settings.retention (same values as the schema defaults). */
export const DEFAULT_RETENTION: RetentionPolicy = {
  history_ms: 90 * DAY,
  resolved_incidents_ms: 30 * DAY,
  sent_outbox_ms: 7 * DAY,
  dead_outbox_ms: 30 * DAY,
  http_cache_ms: 7 * DAY,
  cycles_ms: 14 * DAY,
  expired_silences_ms: 7 * DAY,
};

/** settings.retention (durations) to milliseconds. */
export function retentionFrom(settings: SettingsConfig): RetentionPolicy {
  const r = settings.retention;
  const ms = (text: string, fallback: number) => parseDuration(text) ?? fallback;
  return {
    history_ms: ms(r.history, DEFAULT_RETENTION.history_ms),
    resolved_incidents_ms: ms(r.resolved_incidents, DEFAULT_RETENTION.resolved_incidents_ms),
    sent_outbox_ms: ms(r.sent_alerts, DEFAULT_RETENTION.sent_outbox_ms),
    dead_outbox_ms: ms(r.dead_alerts, DEFAULT_RETENTION.dead_outbox_ms),
    http_cache_ms: ms(r.http_cache, DEFAULT_RETENTION.http_cache_ms),
    cycles_ms: ms(r.cycles, DEFAULT_RETENTION.cycles_ms),
    expired_silences_ms: ms(r.expired_silences, DEFAULT_RETENTION.expired_silences_ms),
  };
}
