import { z } from "zod";
import { UsageError } from "../errors.ts";

/** Durations in config and CLI: `90s`, `10m`, `1h30m`, `2d`, `500ms`, or `0`. */
export const DURATION_PATTERN = "^(0|([0-9]+(ms|s|m|h|d))+)$";
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | null {
  if (!new RegExp(DURATION_PATTERN).test(text)) return null;
  if (text === "0") return 0;
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) total += Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 0);
  return total;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** setTimeout's limit (2^31-1 ms, about 24.8 days): a longer delay fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A config duration with a per-key maximum (`monitor config check` fails naming the key). Durations that end up in
 * a timer stay below MAX_TIMER_MS; the others (ages, retention) get a sanity bound.
 */
export function boundedDuration(max: string) {
  const maxMs = parseDuration(max) ?? 0;
  if (maxMs <= 0) throw new Error(`bad duration bound ${max}`);
  return z
    .string()
    .regex(new RegExp(DURATION_PATTERN), "must be a duration like 90s, 10m, 1h30m or 0")
    .refine((v) => (parseDuration(v) ?? 0) <= maxMs, `must be at most ${max}`)
    .meta({ "x-max-duration": max });
}

/** A duration CLI flag: exit 2 naming the flag when it is not a duration, not positive (unless allowed) or above `max`. */
export function parseDurationFlag(flag: string, text: string, max: string, opts: { allowZero?: boolean } = {}): number {
  const ms = parseDuration(text);
  if (ms === null || (ms === 0 && !opts.allowZero))
    throw new UsageError(
      `${flag}: "${text}" is not a ${opts.allowZero ? "" : "positive "}duration (e.g. 90s, 30m, 2h)`,
    );
  if (ms > (parseDuration(max) ?? 0)) throw new UsageError(`${flag}: "${text}" is longer than the maximum, ${max}`);
  return ms;
}
