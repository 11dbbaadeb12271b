/** Timestamp renderings used by the simulated registries (each registry has its own precision). */

/** GitHub: `2025-06-06T14:37:13Z`. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** npm `time` map: `2015-03-24T00:12:24.039Z`. */
export function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
}

/** crates.io API and PyPI `upload_time_iso_8601`: microseconds and `Z`. */
export function isoMicros(ms: number): string {
  const whole = Math.floor(ms);
  const micros = String(Math.round((ms - whole) * 1000)).padStart(3, "0");
  return new Date(whole).toISOString().replace(/Z$/, `${micros}Z`);
}

/** PyPI `upload_time`: `%Y-%m-%dT%H:%M:%S`, no zone. */
export function isoNoZone(ms: number): string {
  return isoSeconds(ms).replace(/Z$/, "");
}

/** HTTP-date for Last-Modified. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** Accepts epoch ms, a Date or an ISO string. */
export function toMs(value: number | Date | string): number {
  if (typeof value === "number") return value;
  if (value instanceof Date) return value.getTime();
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${value}`);
  return ms;
}
