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
