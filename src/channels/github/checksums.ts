import type { ChecksumEntry, ChecksumFile, SidecarRead } from "./types.ts";

/** `<64 hex><space><space or *><name>`: what `shasum -a 256` / `sha256sum` print (text and binary mode). */
const LINE = /^([0-9a-fA-F]{64}) [ *](.+)$/;

/** Invalid lines kept verbatim in the observation (the file itself is capped at 1 MiB by the probe). */
export const MAX_INVALID_LINES = 100;
const MAX_LINE_TEXT = 200;

/**
 * Parses a sha256sums-style file. Never throws: blank lines are skipped, anything that is not a checksum line
 * goes to `invalid_lines` (1-based line numbers, text truncated to 200 characters, at most 100 of them).
 * Values are reported as written (hex case included); comparing them is drift's job. `invalidTotal` counts every
 * invalid line, including those beyond the cap.
 */
export function parseChecksumFile(name: string, text: string): { file: ChecksumFile; invalidTotal: number } {
  const entries: ChecksumEntry[] = [];
  const invalid_lines: ChecksumFile["invalid_lines"] = [];
  let invalidTotal = 0;
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.trim() === "") continue;
    const m = LINE.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      entries.push({ name: m[2], sha256: m[1] });
      continue;
    }
    invalidTotal++;
    if (invalid_lines.length < MAX_INVALID_LINES) {
      invalid_lines.push({
        line: i + 1,
        text: line.length > MAX_LINE_TEXT ? `${line.slice(0, MAX_LINE_TEXT)}…` : line,
      });
    }
  }
  return { file: { name, entries, invalid_lines }, invalidTotal };
}

const SIDECAR_LINE = /^([0-9a-fA-F]{64})(?:\s*|[ \t][ *](.+))$/;

/**
 * Parses one asset's sidecar (`<asset>.sha256`). cargo-dist writes `<hex> *<name>` (sha256sum's binary mode) and a
 * trailing blank line; `sha256sum` writes `<hex>  <name>`; some tools write the bare hex. Never throws: anything
 * else, or more than one checksum line, is `invalid` with its first line kept.
 */
export function parseSidecar(name: string, text: string): SidecarRead {
  const lines = text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "");
  const first = lines[0] ?? "";
  const m = lines.length === 1 ? SIDECAR_LINE.exec(first.trim()) : null;
  if (!m?.[1]) {
    const shown =
      lines.length === 0 ? "(empty)" : first.length > MAX_LINE_TEXT ? `${first.slice(0, MAX_LINE_TEXT)}…` : first;
    return { name, state: "invalid", text: lines.length > 1 ? `${shown} (+${lines.length - 1} more lines)` : shown };
  }
  return { name, state: "read", sha256: m[1], named: m[2] ?? null };
}
