/**
 * A small, forgiving tokenizer for the subset of Ruby that Homebrew formulae and casks are written in.
 * It never evaluates anything and never throws: unterminated strings, heredocs or `=begin` blocks run to the
 * end of the input and leave a warning. Every loop advances at least one character, so time is linear in the
 * input length; nested string interpolation is tracked with an explicit stack (no recursion).
 *
 * What it understands, because formulae rely on it: `#` comments (outside strings), `=begin … =end` blocks,
 * `__END__`, single/double/backtick strings with escapes and nested `#{…}` interpolation, `%w[…]`/`%q(…)`/`%r{…}`
 * literals, regex literals vs division (`bin/"x"` is division), heredocs (`<<~EOS`, `<<-EOS`, `<<EOS`, quoted
 * ids), symbols, labels (`verified:`), method names ending in `?`/`!`, and backslash line continuations.
 */

import { WorkMeter } from "./work.ts";

export type TokenKind = "ident" | "const" | "label" | "symbol" | "string" | "number" | "literal" | "op" | "nl";

export interface Token {
  kind: TokenKind;
  /** Identifier / constant / label / symbol name, operator characters, or the raw source of a literal. */
  text: string;
  /** Strings and quoted symbols: the content with escapes resolved and `#{…}` kept verbatim. */
  value: string;
  /** The string contained `#{…}` interpolation. */
  interpolated: boolean;
  /** 1-based line where the token starts. */
  line: number;
  spaceBefore: boolean;
}

export interface LexResult {
  tokens: Token[];
  warnings: string[];
}

const MULTI_OPS = [
  "**=",
  "<=>",
  "===",
  "...",
  "&&=",
  "||=",
  "<<=",
  ">>=",
  "&&",
  "||",
  "==",
  "!=",
  ">=",
  "<=",
  "=>",
  "=~",
  "!~",
  "..",
  "::",
  "<<",
  ">>",
  "+=",
  "-=",
  "*=",
  "/=",
  "|=",
  "&=",
  "->",
  "&.",
  "**",
];

const OPS3 = new Set(MULTI_OPS.filter((o) => o.length === 3));
const OPS2 = new Set(MULTI_OPS.filter((o) => o.length === 2));

/** Identifiers that start an expression: after them `/`, `%` and `<<` begin literals, not operators. */
const EXPRESSION_KEYWORDS = new Set([
  "if",
  "elsif",
  "unless",
  "while",
  "until",
  "when",
  "and",
  "or",
  "not",
  "return",
  "then",
  "do",
  "else",
  "case",
  "in",
  "puts",
]);

const PAIRS = new Map([
  ["(", ")"],
  ["[", "]"],
  ["{", "}"],
  ["<", ">"],
]);

function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || c > "\u007f";
}

function isIdentChar(c: string): boolean {
  return isIdentStart(c) || (c >= "0" && c <= "9");
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v";
}

/** A regex scan that reached the end of its line without a closer (see replayMiss). */
interface RegexMiss {
  from: number;
  end: number;
  /** Unescaped `/`, `[` and `]` the scan saw, and whether it was inside a class after each. */
  marks: number[];
  classAfter: boolean[];
  /** Index of the first mark at or after the last replayed opener. */
  next: number;
}

interface PendingHeredoc {
  id: string;
  /** `<<~` / `<<-`: the terminator may be indented. */
  indented: boolean;
  token: Token;
  line: number;
}

export function lexRuby(src: string, meter: WorkMeter = new WorkMeter()): LexResult {
  const tokens: Token[] = [];
  const warnings: string[] = [];
  const n = src.length;
  let i = 0;
  let line = 1;
  let atLineStart = true;
  let spaceBefore = false;
  let pending: PendingHeredoc[] = [];
  let miss: RegexMiss | null = null;
  /** The last line end found: no newline lies in [lineFrom, lineEnd). */
  let lineFrom = 0;
  let lineEnd = -1;

  /** Every character the lexer looks at goes through here (or is counted by span for built-in scans). */
  const ch = (k: number): string => {
    meter.spend(1);
    return src[k] ?? "";
  };

  const push = (kind: TokenKind, text: string, startLine: number, value = "", interpolated = false): Token => {
    meter.spend(text.length);
    const token: Token = { kind, text, value, interpolated, line: startLine, spaceBefore };
    tokens.push(token);
    spaceBefore = false;
    return token;
  };

  const prev = (): Token | undefined => tokens[tokens.length - 1];

  /** True when the previous token ends an expression (so `/`, `%`, `<<`, `?` are operators). */
  const afterValue = (): boolean => {
    const p = prev();
    if (!p || p.kind === "nl") return false;
    if (p.kind === "ident") return !EXPRESSION_KEYWORDS.has(p.text);
    if (p.kind === "op") return p.text === ")" || p.text === "]" || p.text === "}";
    return p.kind !== "label";
  };

  /** Index of the next newline at or after `from` (or n). */
  const endOfLine = (from: number): number => {
    meter.spend(1);
    if (from >= lineFrom && from <= lineEnd) return lineEnd;
    const k = src.indexOf("\n", from);
    const end = k === -1 ? n : k;
    meter.spend(end - from);
    lineFrom = from;
    lineEnd = end;
    return end;
  };

  const countLines = (from: number, to: number): number => {
    let c = 0;
    meter.spend(to - from);
    for (let k = from; k < to; k++) if (src.charCodeAt(k) === 10) c++;
    return c;
  };

  /**
   * Scans a string body starting after its opening delimiter. `interp` enables escapes and `#{…}`;
   * `open`/`close` allow nesting for bracket-delimited percent literals. Returns the index after the closer.
   */
  const scanString = (
    start: number,
    close: string,
    open: string | null,
    interp: boolean,
  ): { end: number; value: string; interpolated: boolean; terminated: boolean } => {
    let j = start;
    let value = "";
    let interpolated = false;
    let nest = 0;
    while (j < n) {
      const c = ch(j);
      if (c === "\\") {
        const d = ch(j + 1);
        if (interp) value += unescape(d);
        else value += d === close || d === "\\" || (open !== null && d === open) ? d : `\\${d}`;
        j += 2;
        continue;
      }
      if (open !== null && c === open) {
        nest++;
        value += c;
        j++;
        continue;
      }
      if (c === close) {
        if (nest === 0) return { end: j + 1, value, interpolated, terminated: true };
        nest--;
        value += c;
        j++;
        continue;
      }
      if (interp && c === "#" && ch(j + 1) === "{") {
        interpolated = true;
        const k = skipInterpolation(j + 2);
        meter.spend(k - j);
        value += src.slice(j, k);
        j = k;
        continue;
      }
      value += c;
      j++;
    }
    return { end: n, value, interpolated, terminated: false };
  };

  /** Skips the code of a `#{…}` (after the `#{`), including nested strings and interpolations. */
  const skipInterpolation = (start: number): number => {
    // Each entry: "c" = code (with its own brace depth), "d" = double-quoted string, "s" = single-quoted string.
    const modes: string[] = ["c"];
    const depths: number[] = [0];
    let j = start;
    while (j < n && modes.length > 0) {
      const mode = modes[modes.length - 1];
      const c = ch(j);
      if (mode === "c") {
        if (c === "{") {
          depths[depths.length - 1] = (depths[depths.length - 1] ?? 0) + 1;
        } else if (c === "}") {
          const depth = depths[depths.length - 1] ?? 0;
          if (depth === 0) {
            modes.pop();
            depths.pop();
          } else {
            depths[depths.length - 1] = depth - 1;
          }
        } else if (c === '"') {
          modes.push("d");
          depths.push(0);
        } else if (c === "'") {
          modes.push("s");
          depths.push(0);
        }
        j++;
      } else if (c === "\\") {
        j += 2;
      } else if ((mode === "d" && c === '"') || (mode === "s" && c === "'")) {
        modes.pop();
        depths.pop();
        j++;
      } else if (mode === "d" && c === "#" && ch(j + 1) === "{") {
        modes.push("c");
        depths.push(0);
        j += 2;
      } else {
        j++;
      }
    }
    return Math.min(j, n);
  };

  /** Reads the bodies of heredocs opened on the line that just ended (i is at the start of the next line). */
  const readHeredocBodies = (): void => {
    const queue = pending;
    pending = [];
    for (const h of queue) {
      let body = "";
      let found = false;
      while (i < n) {
        const eol = endOfLine(i);
        const text = src.slice(i, eol);
        meter.spend(2 * text.length);
        const next = Math.min(eol + 1, n);
        line++;
        i = next;
        const candidate = h.indented ? text.trim() : text.trimEnd();
        if (candidate === h.id) {
          found = true;
          break;
        }
        body += `${text}\n`;
      }
      h.token.value = body;
      if (!found) warnings.push(`line ${h.line}: heredoc <<${h.id} is not terminated`);
    }
  };

  while (i < n) {
    const c = ch(i);

    if (atLineStart) {
      meter.spend(13);
      if (src.startsWith("=begin", i) && (i + 6 >= n || /\s/.test(ch(i + 6)))) {
        const startLine = line;
        let found = false;
        let k = endOfLine(i);
        while (k < n) {
          line++;
          const s = k + 1;
          meter.spend(4);
          if (src.startsWith("=end", s) && (s + 4 >= n || /\s/.test(ch(s + 4)))) {
            k = endOfLine(s);
            found = true;
            break;
          }
          k = endOfLine(s);
        }
        if (!found) warnings.push(`line ${startLine}: =begin block is not terminated`);
        i = k;
        continue;
      }
      if (src.startsWith("__END__", i)) {
        const eol = endOfLine(i);
        meter.spend(eol - i);
        if (src.slice(i, eol).replace(/\r$/, "") === "__END__") break;
      }
    }

    if (c === "\n") {
      if (prev() && prev()?.kind !== "nl") push("nl", "\n", line);
      line++;
      i++;
      atLineStart = true;
      spaceBefore = false;
      if (pending.length > 0) readHeredocBodies();
      continue;
    }
    atLineStart = false;

    if (isSpace(c)) {
      spaceBefore = true;
      i++;
      continue;
    }
    if (c === "\\" && (ch(i + 1) === "\n" || (ch(i + 1) === "\r" && ch(i + 2) === "\n"))) {
      i += ch(i + 1) === "\n" ? 2 : 3;
      line++;
      spaceBefore = true;
      continue;
    }
    if (c === "#") {
      i = endOfLine(i);
      continue;
    }

    const startLine = line;

    if (c === '"' || c === "`") {
      const s = scanString(i + 1, c, null, true);
      if (!s.terminated) warnings.push(`line ${startLine}: string is not terminated`);
      line += countLines(i, s.end);
      push("string", src.slice(i, s.end), startLine, s.value, s.interpolated);
      i = s.end;
      continue;
    }
    if (c === "'") {
      const s = scanString(i + 1, "'", null, false);
      if (!s.terminated) warnings.push(`line ${startLine}: string is not terminated`);
      line += countLines(i, s.end);
      push("string", src.slice(i, s.end), startLine, s.value);
      i = s.end;
      continue;
    }

    if (c === ":") {
      const d = ch(i + 1);
      if (d === ":") {
        push("op", "::", startLine);
        i += 2;
        continue;
      }
      if (d === '"' || d === "'") {
        const s = scanString(i + 2, d, null, d === '"');
        line += countLines(i, s.end);
        push("symbol", s.value, startLine, s.value, s.interpolated);
        i = s.end;
        continue;
      }
      if (isIdentStart(d)) {
        let j = i + 2;
        while (j < n && isIdentChar(ch(j))) j++;
        if ((ch(j) === "?" || ch(j) === "!" || ch(j) === "=") && ch(j + 1) !== "=" && ch(j + 1) !== ">") j++;
        push("symbol", src.slice(i + 1, j), startLine);
        i = j;
        continue;
      }
      push("op", ":", startLine);
      i++;
      continue;
    }

    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(ch(j))) j++;
      if ((ch(j) === "?" || ch(j) === "!") && ch(j + 1) !== "=") j++;
      const word = src.slice(i, j);
      if (ch(j) === ":" && ch(j + 1) !== ":" && !word.endsWith("?")) {
        push("label", word, startLine);
        i = j + 1;
        continue;
      }
      push(c >= "A" && c <= "Z" ? "const" : "ident", word, startLine);
      i = j;
      continue;
    }

    if (isDigit(c)) {
      let j = i + 1;
      while (j < n) {
        const d = ch(j);
        if (isIdentChar(d)) j++;
        else if (d === "." && isDigit(ch(j + 1))) j += 2;
        else break;
      }
      push("number", src.slice(i, j), startLine);
      i = j;
      continue;
    }

    if (c === "%") {
      const literal = percentLiteral(i);
      if (literal) {
        line += countLines(i, literal.end);
        if (!literal.terminated) warnings.push(`line ${startLine}: %-literal is not terminated`);
        const kind = literal.type === "q" || literal.type === "Q" || literal.type === "" ? "string" : "literal";
        push(kind, src.slice(i, literal.end), startLine, literal.value, literal.interpolated);
        i = literal.end;
        continue;
      }
    }

    if (c === "/" && regexAllowed(i)) {
      const end = scanRegex(i + 1);
      if (end !== -1) {
        let j = end;
        while (j < n && /[a-z]/.test(ch(j))) j++;
        push("literal", src.slice(i, j), startLine);
        i = j;
        continue;
      }
    }

    if (c === "<" && ch(i + 1) === "<") {
      const heredoc = heredocStart(i);
      if (heredoc) {
        const token = push("string", src.slice(i, heredoc.end), startLine);
        pending.push({ id: heredoc.id, indented: heredoc.indented, token, line: startLine });
        i = heredoc.end;
        continue;
      }
    }

    meter.spend(5);
    const op = OPS3.has(src.slice(i, i + 3))
      ? src.slice(i, i + 3)
      : OPS2.has(src.slice(i, i + 2))
        ? src.slice(i, i + 2)
        : c;
    push("op", op, startLine);
    i += op.length;
  }

  if (pending.length > 0) {
    for (const h of pending) warnings.push(`line ${h.line}: heredoc <<${h.id} is not terminated`);
  }
  return { tokens, warnings };

  // -------------------------------------------------------------- helpers needing the scanner state

  function regexAllowed(at: number): boolean {
    if (!afterValue()) return true;
    // `rx /a/` (command call with a regex argument) vs `a / b` and `bin/"x"` (division).
    const p = prev();
    const next = ch(at + 1);
    return p?.kind === "ident" && spaceBefore && next !== " " && next !== "=" && next !== "\n";
  }

  /** Returns the index after the closing `/`, or -1 when the line has none (then `/` is an operator). */
  function scanRegex(start: number): number {
    if (miss && start - 1 >= miss.from && start - 1 < miss.end) return replayMiss(miss, start - 1);
    let j = start;
    let inClass = false;
    const marks: number[] = [];
    const classAfter: boolean[] = [];
    while (j < n) {
      const c = ch(j);
      if (c === "\n") break;
      if (c === "\\") {
        j += 2;
        continue;
      }
      if (c === "/" && !inClass) return j + 1;
      if (c === "[" || c === "]" || c === "/") {
        if (c !== "/") inClass = c === "[";
        marks.push(j);
        classAfter.push(inClass);
      }
      j++;
    }
    miss = { from: start, end: Math.min(j, n), marks, classAfter, next: 0 };
    return -1;
  }

  /**
   * A regex opener at `p` inside the span of a scan that found no closer. Both scans see the same escapes from
   * `p + 1` on; they differ only while the earlier one was inside a `[…]` class, up to its next `[`, `]` or `/`.
   * So the answer is read off the earlier scan's marks, and every opener on the line costs O(1) amortized
   * instead of a rescan to the end of the line.
   */
  function replayMiss(m: RegexMiss, p: number): number {
    meter.spend(1);
    while (m.next < m.marks.length && (m.marks[m.next] ?? n) < p) {
      meter.spend(1);
      m.next++;
    }
    if (m.next === 0 || m.classAfter[m.next - 1] !== true) return -1;
    const k = m.marks[m.next] === p ? m.next + 1 : m.next;
    const q = m.marks[k];
    return q !== undefined && src[q] === "/" ? q + 1 : -1;
  }

  function percentLiteral(
    at: number,
  ): { end: number; type: string; value: string; interpolated: boolean; terminated: boolean } | null {
    let j = at + 1;
    let type = "";
    if (
      /[qQwWiIrsx]/.test(ch(j)) &&
      !(j + 1 < n ? isIdentChar(ch(j + 1)) : true) &&
      !(j + 1 < n ? isSpace(ch(j + 1)) : true)
    ) {
      type = ch(j);
      j++;
    }
    const delim = ch(j);
    if (delim === "" || isIdentChar(delim) || isSpace(delim) || delim === "\n" || delim === "=") return null;
    if (afterValue() && !(spaceBefore && !(at + 1 < n ? isSpace(ch(at + 1)) : true))) return null;
    if (type === "" && !PAIRS.has(delim) && delim !== "|" && delim !== "!") return null;
    const close = PAIRS.get(delim) ?? delim;
    const open = PAIRS.has(delim) ? delim : null;
    const interp = type === "" || type === "Q" || type === "W" || type === "I" || type === "r" || type === "x";
    const s = scanString(j + 1, close, open, interp);
    return { end: s.end, type, value: s.value, interpolated: s.interpolated, terminated: s.terminated };
  }

  function heredocStart(at: number): { end: number; id: string; indented: boolean } | null {
    let j = at + 2;
    let indented = false;
    if (ch(j) === "~" || ch(j) === "-") {
      indented = true;
      j++;
    } else {
      // Plain `<<ID` only where an expression starts or as a spaced command argument (`x <<EOS`).
      const next = ch(j);
      const upperOrQuote = (next >= "A" && next <= "Z") || next === '"' || next === "'" || next === "_";
      if (!upperOrQuote || (afterValue() && !spaceBefore)) return null;
    }
    const q = ch(j);
    if (q === '"' || q === "'" || q === "`") {
      const eol = endOfLine(j);
      let close = j + 1;
      while (close < eol && ch(close) !== q) close++;
      if (close >= eol || close === j + 1) return null;
      return { end: close + 1, id: src.slice(j + 1, close), indented };
    }
    if (!isIdentStart(q)) return null;
    let k = j + 1;
    while (k < n && isIdentChar(ch(k))) k++;
    return { end: k, id: src.slice(j, k), indented };
  }
}

function unescape(d: string): string {
  switch (d) {
    case "n":
      return "\n";
    case "t":
      return "\t";
    case "r":
      return "\r";
    case "0":
      return "\0";
    case "s":
      return " ";
    case "e":
      return "\u001b";
    case "\n":
      return "";
    default:
      return d;
  }
}
