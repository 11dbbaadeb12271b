import type { Finding, FindingCode } from "./types.ts";

/**
 * A finding as a channel check produces it, before the grace rule runs. `lag: true` marks a
 * propagation-sensitive finding (the thing is simply not visible yet): evaluate() turns it into `pending`
 * inside the channel's grace window and `drift` after it.
 */
export interface Draft extends Finding {
  lag?: true;
}

export interface FindingDetail {
  subject?: string;
  expected?: string;
  actual?: string;
}

/** Findings are one line even when upstream text (a yank or deprecation message) is not. */
export function flat(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ");
}

function make(code: FindingCode, severity: Finding["severity"], message: string, detail: FindingDetail): Draft {
  const f: Draft = { code, severity, message: flat(message) };
  if (detail.subject !== undefined) f.subject = flat(detail.subject);
  if (detail.expected !== undefined) f.expected = flat(detail.expected);
  if (detail.actual !== undefined) f.actual = flat(detail.actual);
  return f;
}

/** Content drift: wrong no matter how long we wait. */
export function drift(code: FindingCode, message: string, detail: FindingDetail = {}): Draft {
  return make(code, "drift", message, detail);
}

/** Propagation-sensitive: pending inside the grace window, drift after it. */
export function lag(code: FindingCode, message: string, detail: FindingDetail = {}): Draft {
  return { ...make(code, "drift", message, detail), lag: true };
}

/** Pending regardless of grace (a tap that points at a GitHub release that does not exist yet). */
export function pending(code: FindingCode, message: string, detail: FindingDetail = {}): Draft {
  return make(code, "pending", message, detail);
}

/** Could not tell (a document that did not answer): the channel is `unknown`, never ok, never drift. */
export function unknown(code: FindingCode, message: string, detail: FindingDetail = {}): Draft {
  return make(code, "unknown", message, detail);
}

/** Worth recording; never changes the channel status. */
export function info(code: FindingCode, message: string, detail: FindingDetail = {}): Draft {
  return make(code, "info", message, detail);
}

// ---------------------------------------------------------------- digests

const HEX64 = /^[0-9a-f]{64}$/;

/** Lowercase hex of a sha256 written as bare hex; null when it is not 64 hex digits. */
export function sha256Hex(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const hex = value.trim().toLowerCase();
  return HEX64.test(hex) ? hex : null;
}

/** One claim about an artifact's hash, named by where it came from. */
export interface HashClaim {
  source: string;
  value: string;
}

/** The first two claims that disagree, comparing in order; null when all agree (or fewer than two). */
export function firstDisagreement(claims: readonly HashClaim[]): [HashClaim, HashClaim] | null {
  for (let i = 0; i < claims.length; i++) {
    for (let j = i + 1; j < claims.length; j++) {
      const a = claims[i];
      const b = claims[j];
      if (a && b && a.value !== b.value) return [a, b];
    }
  }
  return null;
}

export function shaMismatch(subject: string, pair: [HashClaim, HashClaim]): Draft {
  const [a, b] = pair;
  return drift("sha-mismatch", `${subject}: ${a.source} says ${a.value} but ${b.source} says ${b.value}`, {
    subject,
    expected: `${a.source}: ${a.value}`,
    actual: `${b.source}: ${b.value}`,
  });
}

/** `a, b and 3 more` for one-line messages. */
export function listNames(names: readonly string[], max = 3): string {
  if (names.length <= max) return names.join(", ");
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Filename glob where `*` matches any run of characters except `/`; case-insensitive. */
export function globMatch(pattern: string, name: string): boolean {
  if (isAscii(pattern) && isAscii(name)) return asciiGlob(pattern.toLowerCase(), name.toLowerCase());
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]*");
  return new RegExp(`^${source}$`, "i").test(name);
}

/**
 * The same match for ASCII text (lower-cased: for ASCII, the regex's `i` flag is exactly that) without building a
 * RegExp per call: the first part is a prefix, the last a suffix, the middle ones found leftmost in order, and no
 * `*` span holds a `/`. A check matches each pattern against every file of a release, every cycle.
 */
function asciiGlob(pattern: string, name: string): boolean {
  const parts = pattern.split("*");
  const first = parts[0] as string;
  if (parts.length === 1) return pattern === name;
  const last = parts[parts.length - 1] as string;
  if (!name.startsWith(first) || name.length < first.length + last.length) return false;
  const tail = name.length - last.length;
  if (!name.endsWith(last)) return false;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    const found = name.indexOf(part, at);
    if (found < 0 || found + part.length > tail || name.slice(at, found).includes("/")) return false;
    at = found + part.length;
  }
  return !name.slice(at, tail).includes("/");
}
