/** `45s`, `12m`, `2h 05m`, `3d 4h`; negative spans count as 0. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

/** Milliseconds between two ISO times (`to` − `from`), or null when either is missing or unparsable. */
export function spanMs(from: string | null | undefined, to: string | Date | null | undefined): number | null {
  if (!from || !to) return null;
  const a = Date.parse(from);
  const b = typeof to === "string" ? Date.parse(to) : to.getTime();
  return Number.isFinite(a) && Number.isFinite(b) ? b - a : null;
}

/** `5m ago` / `in 5m` relative to `now`; `never` for null. */
export function relative(iso: string | null | undefined, now: Date, never = "never"): string {
  const ms = spanMs(iso, now);
  if (ms === null) return never;
  return ms >= 0 ? `${formatSpan(ms)} ago` : `in ${formatSpan(-ms)}`;
}

/** `2026-08-05 12:34:56Z`: an absolute UTC time for titles and tables. */
export function utc(iso: string | null | undefined): string {
  if (!iso) return "";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return t
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}
