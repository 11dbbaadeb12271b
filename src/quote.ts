/**
 * Echoing user input (tags, flags, config values) safely: control characters, C1 controls and Unicode bidi
 * overrides are escaped so a value cannot move the cursor, recolour or reorder the terminal, and long values are
 * cut (their length is kept in the message).
 */

/** C0/C1 controls, DEL, line/paragraph separators and the bidi marks, embeddings, overrides and isolates. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_BUT_NEWLINE =
  // eslint-disable-next-line no-control-regex -- as above
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Longest value echoed whole (characters). */
export const MAX_ECHO_CHARS = 120;

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeChar(c: string): string {
  return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** `text` with every unsafe character written as an escape (`\n`, `\u001b`, `\u202e`). */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** The same, keeping line breaks: for multi-line messages whose parts were already quoted. */
export function escapeControlsKeepLines(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, escapeChar);
}

/** A user-supplied value for a message: in double quotes, escaped, cut at `max` characters with its length given. */
export function quote(value: string, max = MAX_ECHO_CHARS): string {
  const chars = Array.from(value);
  const shown = chars.length > max ? chars.slice(0, max).join("") : value;
  const body = escapeControls(shown.replace(/\\/g, "\\\\").replace(/"/g, '\\"'));
  return chars.length > max ? `"${body}…" (${chars.length} characters, first ${max} shown)` : `"${body}"`;
}
