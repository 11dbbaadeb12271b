import type { Finding } from "../drift/types.ts";

/**
 * Lenient reads of report@1 `observed` for the channels' summary lines: reports may come back from JSON written by
 * another version, so a missing or mistyped field reads as null or empty, never as an exception.
 */

export type Obj = Readonly<Record<string, unknown>>;
export const obj = (v: unknown): Obj | null =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : null;
export const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);

/** `0.8.0 latest`, `0.8.0 YANKED, latest 0.7.2`. */
export function versionWithLatest(version: string, latest: string | null, flags = ""): string {
  return latest === version ? `${version}${flags} latest` : `${version}${flags}, latest ${latest ?? "none"}`;
}

export function has(findings: readonly Finding[], code: Finding["code"]): boolean {
  return findings.some((f) => f.code === code);
}

export function versionMissing(findings: readonly Finding[], version: string): boolean {
  return findings.some((f) => f.code === "version-missing" && f.subject === version);
}
