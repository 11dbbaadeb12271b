import type { FormulaArtifact, FormulaContext, ParsedFormula } from "./types.ts";
import { lexRuby, type Token } from "./ruby-lexer.ts";
import { WorkBudgetExceeded, WorkMeter } from "./work.ts";

/**
 * Static reader for Homebrew formulae and casks (registry-contracts.md §5). It never executes Ruby and never
 * throws: anything it does not understand becomes a warning. Time is linear in the input (bounded work per token,
 * caps on nesting, stanzas and warnings).
 *
 * It extracts the class name or cask, the first top-level `version`, every `url`/`sha256` pair with the platform
 * context it sits in (`on_macos`/`on_linux`/`on_arm`/`on_intel`, `if`/`unless`/`elsif`/`else` on
 * `Hardware::CPU.arm?`/`.intel?`/`OS.mac?`/`OS.linux?`, `&&`, `is_64_bit?`), and the platforms that `odie`.
 * Pairs are formed per block (GoReleaser casks put `sha256` before `url`); `sha256 arm: …, intel: …` pairs with
 * a shared `url` per CPU. `bottle`, `resource`, `patch`, `head`, `livecheck`, `test`, `service` blocks and
 * `def` bodies are skipped.
 */
export function parseFormula(text: string, meter: WorkMeter = new WorkMeter(FORMULA_WORK_BUDGET)): ParsedFormula {
  try {
    return new FormulaParser(typeof text === "string" ? text : String(text), meter).run();
  } catch (err) {
    if (err instanceof WorkBudgetExceeded) throw err;
    // Unreachable by design (the fuzz test feeds it hostile input); kept so a parser bug degrades to a warning.
    return {
      kind: "formula",
      class_name: null,
      version: null,
      artifacts: [],
      unsupported: [],
      warnings: [`internal parser error: ${err instanceof Error ? err.message : String(err)}`],
    };
  }
}

/** Formulae are a few KiB (the probe refuses files over 1 MiB); longer text is read up to this cap. */
export const MAX_FORMULA_CHARS = 1024 * 1024;
/**
 * Steps (characters the lexer examines plus tokens the parser visits) one parse may take. Linear work stays
 * within a few dozen steps per character, so any formula up to the size cap fits; exceeding it throws
 * WorkBudgetExceeded, which the probe reports as `unknown`.
 */
export const FORMULA_WORK_BUDGET = 64 * MAX_FORMULA_CHARS;
const MAX_WARNINGS = 100;
const MAX_STANZAS = 5_000;
const MAX_DEPTH = 200;
/** Interpolation stops here: real urls are short, and a hostile one must not grow without bound. */
const MAX_URL_CHARS = 8 * 1024;
const MAX_VERSION_CHARS = 256;

type Os = "macos" | "linux";
type Cpu = "arm" | "intel";
type Atom = { dim: "os"; value: Os } | { dim: "cpu"; value: Cpu };

/** A condition reduced to a conjunction of platform atoms. `dead`: never true on a supported platform. */
interface Cond {
  atoms: Atom[];
  dead: boolean;
  /** Contains parts that are not platform checks (`build.head?`, `||`, `MacOS.version`). */
  unknown: boolean;
}

const NEUTRAL: Cond = { atoms: [], dead: false, unknown: false };
const DEAD: Cond = { atoms: [], dead: true, unknown: false };
const UNKNOWN: Cond = { atoms: [], dead: false, unknown: true };

interface Item {
  type: "url" | "sha256";
  value: string;
  ctx: FormulaContext;
  line: number;
  frame: Frame;
}

interface Chain {
  invertible: boolean;
  dim: "os" | "cpu" | null;
  covered: Set<string>;
  /** A branch was unconditionally true on supported platforms (`if Hardware::CPU.is_64_bit?`). */
  full: boolean;
}

interface Frame {
  name: string;
  line: number;
  closer: "end" | "}";
  kind: "root" | "class" | "cask" | "if" | "block" | "other";
  collect: boolean;
  /** The current branch can run (false for `if OS.mac?` inside `on_linux`, 32-bit-only branches, …). */
  live: boolean;
  unknownBlock: boolean;
  warnedStanza: boolean;
  topLevel: boolean;
  parent: Frame | null;
  base: FormulaContext;
  baseUncertain: boolean;
  ctx: FormulaContext;
  uncertain: boolean;
  items: Item[];
  /** Contexts that already have a url in the current branch (a second one overrides the first in Ruby). */
  urlContexts: Set<string>;
  chain: Chain | null;
  version: string | null;
  arch: Map<Cpu, string> | null;
}

interface FrameSpec {
  name: string;
  line: number;
  closer: "end" | "}";
  kind: Frame["kind"];
  collect: boolean;
  topLevel?: boolean;
  unknownBlock?: boolean;
}

interface PendingArtifact {
  url: Item;
  sha256: Item | null;
  ctx: FormulaContext;
}

const PLATFORM_BLOCKS = new Map<string, Atom>([
  ["on_macos", { dim: "os", value: "macos" }],
  ["on_linux", { dim: "os", value: "linux" }],
  ["on_arm", { dim: "cpu", value: "arm" }],
  ["on_intel", { dim: "cpu", value: "intel" }],
]);

const MACOS_CODENAMES = new Set([
  "tahoe",
  "sequoia",
  "sonoma",
  "ventura",
  "monterey",
  "big_sur",
  "catalina",
  "mojave",
  "high_sierra",
  "sierra",
  "el_capitan",
  "yosemite",
]);

/** Blocks whose contents never describe the main artifact. */
const IGNORED_BLOCKS = new Set([
  "bottle",
  "resource",
  "patch",
  "head",
  "livecheck",
  "test",
  "service",
  "devel",
  "define_method",
  "fails_with",
  "go_resource",
  "postflight",
  "preflight",
  "uninstall_preflight",
  "uninstall_postflight",
  "caveats",
  "zap",
]);

const KEYWORDS = new Set([
  "if",
  "unless",
  "while",
  "until",
  "case",
  "begin",
  "def",
  "class",
  "module",
  "for",
  "do",
  "end",
  "else",
  "elsif",
  "then",
  "when",
  "in",
  "rescue",
  "ensure",
]);

const STANZAS = new Set(["url", "sha256", "version", "odie", "arch"]);

/** Previous tokens after which `if`/`unless`/`while` start an expression instead of being modifiers. */
const EXPRESSION_OPS = new Set([
  "=",
  "(",
  ",",
  "[",
  "{",
  "||=",
  "&&=",
  "+=",
  "-=",
  "<<",
  "=>",
  "&&",
  "||",
  "!",
  "?",
  ":",
]);
const EXPRESSION_WORDS = new Set(["return", "and", "or", "not"]);
/** A line ending in one of these continues on the next line. */
const CONTINUATION_OPS = new Set([",", "&&", "||", "=", "=>", ".", "&.", "::", "||=", "&&=", "+=", "-=", "+"]);
const CONTINUATION_WORDS = new Set(["and", "or", "not"]);
/** Identifiers after which `{` is a hash literal, not a block. */
const NON_CALL_WORDS = new Set([
  "return",
  "and",
  "or",
  "not",
  "if",
  "elsif",
  "unless",
  "while",
  "until",
  "when",
  "case",
  "then",
  "else",
  "do",
  "in",
]);

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** `sha256 arm: "…", intel: "…"` (casks) and bottle-style tags outside `bottle`. */
function labelContext(label: string): FormulaContext | null {
  if (label === "arm" || label === "arm64") return { os: null, cpu: "arm" };
  if (label === "intel" || label === "x86_64") return { os: null, cpu: "intel" };
  if (label === "arm64_linux") return { os: "linux", cpu: "arm" };
  if (label === "x86_64_linux") return { os: "linux", cpu: "intel" };
  return null;
}

const VERSION_METHODS: Record<string, (v: string) => string | undefined> = {
  version: (v) => v,
  "version.to_s": (v) => v,
  "version.major": (v) => v.split(".")[0],
  "version.minor": (v) => v.split(".")[1],
  "version.patch": (v) => v.split(".")[2],
  "version.major_minor": (v) => part(v, 2),
  "version.major_minor_patch": (v) => part(v, 3),
  "version.csv.first": (v) => v.split(",")[0],
  "version.before_comma": (v) => v.split(",")[0],
  "version.csv.second": (v) => v.split(",")[1],
  "version.after_comma": (v) => v.split(",")[1],
  "version.no_dots": (v) => v.replaceAll(".", ""),
  "version.dots_to_underscores": (v) => v.replaceAll(".", "_"),
  "version.dots_to_hyphens": (v) => v.replaceAll(".", "-"),
};

function part(v: string, n: number): string | undefined {
  const parts = v.split(".");
  return parts.length >= n ? parts.slice(0, n).join(".") : undefined;
}

function ctxKey(c: FormulaContext): string {
  return `${c.os ?? "*"}/${c.cpu ?? "*"}`;
}

/** `a` is strictly more specific than `b` (every dimension `b` fixes, `a` fixes the same way). */
function refines(a: FormulaContext, b: FormulaContext): boolean {
  if (ctxKey(a) === ctxKey(b)) return false;
  return (b.os === null || a.os === b.os) && (b.cpu === null || a.cpu === b.cpu);
}

function describe(c: FormulaContext): string {
  return `${c.os ?? "any-os"}/${c.cpu ?? "any-cpu"}`;
}

function brief(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

function invertAtom(a: Atom): Atom {
  return a.dim === "os"
    ? { dim: "os", value: a.value === "macos" ? "linux" : "macos" }
    : { dim: "cpu", value: a.value === "arm" ? "intel" : "arm" };
}

function negate(c: Cond): Cond {
  if (c.unknown) return UNKNOWN;
  if (c.dead) return NEUTRAL;
  if (c.atoms.length === 0) return DEAD;
  const only = c.atoms[0];
  if (c.atoms.length === 1 && only) return { atoms: [invertAtom(only)], dead: false, unknown: false };
  return UNKNOWN;
}

/** Conjunction of two conditions; contradictory atoms (`OS.mac? && OS.linux?`) make it dead. */
function conjoin(a: Cond, b: Cond): Cond {
  const atoms = [...a.atoms];
  let dead = a.dead || b.dead;
  for (const atom of b.atoms) {
    const same = atoms.find((x) => x.dim === atom.dim);
    if (!same) atoms.push(atom);
    else if (same.value !== atom.value) dead = true;
  }
  return { atoms, dead, unknown: a.unknown || b.unknown };
}

function classifyAtom(text: string): Cond {
  const t = text.replace(/^::/, "").replace(/\(\)$/, "");
  if (/^Hardware::CPU\.(arm|arm64|aarch64|physical_cpu_arm64)\?$/.test(t)) {
    return { atoms: [{ dim: "cpu", value: "arm" }], dead: false, unknown: false };
  }
  if (/^Hardware::CPU\.intel\?$/.test(t))
    return { atoms: [{ dim: "cpu", value: "intel" }], dead: false, unknown: false };
  if (/^Hardware::CPU\.arch==:(arm64|aarch64|arm)$/.test(t)) {
    return { atoms: [{ dim: "cpu", value: "arm" }], dead: false, unknown: false };
  }
  if (/^Hardware::CPU\.arch==:(x86_64|intel)$/.test(t)) {
    return { atoms: [{ dim: "cpu", value: "intel" }], dead: false, unknown: false };
  }
  if (/^OS\.mac\?$/.test(t)) return { atoms: [{ dim: "os", value: "macos" }], dead: false, unknown: false };
  if (/^OS\.linux\?$/.test(t)) return { atoms: [{ dim: "os", value: "linux" }], dead: false, unknown: false };
  // Homebrew runs on 64-bit systems only: `is_64_bit?` always holds, 32-bit-only branches never run.
  if (/^Hardware::CPU\.is_64_bit\?$/.test(t)) return NEUTRAL;
  if (/^Hardware::CPU\.is_32_bit\?$/.test(t)) return DEAD;
  return UNKNOWN;
}

function tokenText(t: Token): string {
  switch (t.kind) {
    case "string":
      return JSON.stringify(t.value);
    case "symbol":
      return `:${t.text}`;
    case "label":
      return `${t.text}:`;
    default:
      return t.text;
  }
}

function isOp(t: Token | undefined, text: string): boolean {
  return t !== undefined && t.kind === "op" && t.text === text;
}

/** Reduces a condition's tokens to platform atoms; anything else marks it unknown. Iterative over parentheses. */
function analyzeCondition(tokens: readonly Token[], meter: WorkMeter): Cond {
  meter.spend(tokens.length);
  if (tokens.some((t) => isOp(t, "||") || (t.kind === "ident" && t.text === "or"))) return UNKNOWN;
  let result = NEUTRAL;
  // Work list of (tokens, negated) parts; depth bounded by the token count.
  const work: { tokens: readonly Token[]; negated: boolean }[] = [{ tokens, negated: false }];
  let steps = 0;
  // Each nesting level re-reads its part, so deep nesting is cut off by the tokens visited: linear in the condition.
  let visited = 0;
  const maxVisited = 4 * tokens.length + 256;
  while (work.length > 0) {
    if (++steps > 1_000) return UNKNOWN;
    const { tokens: ts, negated } = work.pop() ?? { tokens: [], negated: false };
    visited += ts.length;
    if (visited > maxVisited) return UNKNOWN;
    // Splitting, slicing, the balanced-wrap check and the atom text each visit the part's tokens.
    meter.spend(4 * ts.length);
    const parts: Token[][] = [[]];
    let depth = 0;
    for (const t of ts) {
      if (isOp(t, "(") || isOp(t, "[")) depth++;
      if (isOp(t, ")") || isOp(t, "]")) depth = Math.max(0, depth - 1);
      if (depth === 0 && (isOp(t, "&&") || (t.kind === "ident" && t.text === "and"))) {
        parts.push([]);
        continue;
      }
      parts[parts.length - 1]?.push(t);
    }
    if (negated && parts.length > 1) return UNKNOWN;
    for (const p of parts) {
      let neg = negated;
      let k = 0;
      while (k < p.length && (isOp(p[k], "!") || (p[k]?.kind === "ident" && p[k]?.text === "not"))) {
        neg = !neg;
        k++;
      }
      let body = p.slice(k);
      if (body.length === 0) return UNKNOWN;
      if (isOp(body[0], "(") && isOp(body[body.length - 1], ")") && balancedWrap(body)) {
        body = body.slice(1, -1);
        work.push({ tokens: body, negated: neg });
        continue;
      }
      const atom = classifyAtom(body.map(tokenText).join(""));
      result = conjoin(result, neg ? negate(atom) : atom);
    }
  }
  return result;
}

/** `( … )` where the first parenthesis closes at the very end. */
function balancedWrap(ts: readonly Token[]): boolean {
  let depth = 0;
  for (let k = 0; k < ts.length; k++) {
    if (isOp(ts[k], "(")) depth++;
    if (isOp(ts[k], ")")) {
      depth--;
      if (depth === 0 && k !== ts.length - 1) return false;
    }
  }
  return depth === 0;
}

class FormulaParser {
  readonly #text: string;
  readonly #meter: WorkMeter;
  readonly #warnings: string[] = [];
  #suppressed = 0;
  #stanzas = 0;
  #warnedStanzaCap = false;
  #warnedDepth = false;
  #kind: "formula" | "cask" | null = null;
  #className: string | null = null;
  #version: string | null = null;
  readonly #unsupported = new Map<string, FormulaContext>();
  readonly #pending: PendingArtifact[] = [];
  readonly #stack: Frame[];
  readonly #blockBraces = new Set<Token>();
  readonly #blockCloses = new Set<Token>();

  constructor(text: string, meter: WorkMeter) {
    this.#text = text;
    this.#meter = meter;
    this.#stack = [
      newFrame({ name: "(top)", line: 1, closer: "end", kind: "root", collect: true, topLevel: true }, null),
    ];
  }

  run(): ParsedFormula {
    let text = this.#text;
    if (text.length > MAX_FORMULA_CHARS) {
      this.#warn(`formula is ${text.length} characters; only the first ${MAX_FORMULA_CHARS} were read`);
      text = text.slice(0, MAX_FORMULA_CHARS);
    }
    const { tokens, warnings } = lexRuby(text, this.#meter);
    for (const w of warnings) this.#warn(w);
    for (const statement of this.#split(tokens)) this.#statement(statement);
    while (this.#stack.length > 1) {
      const top = this.#top();
      this.#warn(`line ${top.line}: \`${top.name}\` is never closed`);
      this.#pop();
    }
    const root = this.#top();
    this.#flush(root);
    for (const item of root.items) {
      if (item.type === "url") {
        this.#warn(`line ${item.line}: url has no sha256`);
        this.#pending.push({ url: item, sha256: null, ctx: item.ctx });
      } else {
        this.#warn(`line ${item.line}: sha256 has no url`);
      }
    }
    root.items = [];
    if (this.#kind === null) this.#warn("no `class … < Formula` or `cask … do` found");
    const artifacts = this.#resolve();
    if (this.#suppressed > 0) this.#warnings.push(`${this.#suppressed} more warnings not shown`);
    return {
      kind: this.#kind ?? "formula",
      class_name: this.#className,
      version: this.#version,
      artifacts,
      unsupported: [...this.#unsupported.values()],
      warnings: this.#warnings,
    };
  }

  // ------------------------------------------------------------ statements

  /** Groups tokens into logical statements (newline/`;` terminated, continued inside ( [ and hash braces). */
  #split(tokens: readonly Token[]): Token[][] {
    const out: Token[][] = [];
    let cur: Token[] = [];
    const brackets: string[] = [];
    for (let k = 0; k < tokens.length; k++) {
      this.#meter.spend(1);
      const t = tokens[k];
      if (!t) continue;
      const top = brackets[brackets.length - 1];
      if (t.kind === "nl") {
        if (top === "(" || top === "[" || top === "{h") continue;
        const last = cur[cur.length - 1];
        if (
          last &&
          ((last.kind === "op" && CONTINUATION_OPS.has(last.text)) ||
            (last.kind === "ident" && CONTINUATION_WORDS.has(last.text)) ||
            last.kind === "label")
        ) {
          continue;
        }
        const next = tokens[k + 1];
        if (
          next?.kind === "op" &&
          (next.text === "." || next.text === "&." || next.text === "&&" || next.text === "||")
        ) {
          continue;
        }
        if (cur.length > 0) out.push(cur);
        cur = [];
        continue;
      }
      if (t.kind === "op") {
        if (t.text === ";" && top !== "(" && top !== "[" && top !== "{h") {
          if (cur.length > 0) out.push(cur);
          cur = [];
          continue;
        }
        if (t.text === "(" || t.text === "[") brackets.push(t.text);
        else if (t.text === "{") {
          const p = cur[cur.length - 1];
          const block =
            p !== undefined &&
            ((p.kind === "ident" && !NON_CALL_WORDS.has(p.text)) ||
              p.kind === "const" ||
              (p.kind === "op" && (p.text === ")" || p.text === "]")));
          brackets.push(block ? "{b" : "{h");
          if (block) this.#blockBraces.add(t);
        } else if (t.text === ")" || t.text === "]" || t.text === "}") {
          const popped = brackets.pop();
          if (popped === "{b" && t.text === "}") this.#blockCloses.add(t);
        }
      }
      cur.push(t);
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  #keyword(ts: readonly Token[], i: number): string | null {
    const t = ts[i];
    if (!t || t.kind !== "ident" || !KEYWORDS.has(t.text)) return null;
    const p = ts[i - 1];
    if (p && p.kind === "op" && (p.text === "." || p.text === "&." || p.text === "::")) return null;
    return t.text;
  }

  #opensExpression(ts: readonly Token[], i: number): boolean {
    const p = ts[i - 1];
    if (!p) return true;
    if (p.kind === "op") return EXPRESSION_OPS.has(p.text);
    if (p.kind === "ident") return EXPRESSION_WORDS.has(p.text);
    return p.kind === "label";
  }

  #statement(ts: readonly Token[]): void {
    let i = 0;
    let atStart = true;
    let head = 0;
    while (i < ts.length) {
      this.#meter.spend(1);
      const t = ts[i];
      if (!t) break;
      const kw = this.#keyword(ts, i);
      if (kw === "end") {
        this.#close("end", t.line);
        i++;
        atStart = false;
        continue;
      }
      if (kw === "else") {
        this.#else(t.line);
        i++;
        atStart = true;
        head = i;
        continue;
      }
      if (kw === "elsif") {
        const c = this.#condition(ts, i + 1, ["then"]);
        this.#elsif(c.cond, t.line);
        i = c.next;
        atStart = true;
        head = i;
        continue;
      }
      if (kw === "then") {
        i++;
        atStart = true;
        head = i;
        continue;
      }
      if (kw === "when" || kw === "ensure" || ((kw === "in" || kw === "rescue") && atStart)) {
        this.#endBranch(this.#top());
        i = this.#condition(ts, i + 1, ["then"]).next;
        atStart = true;
        head = i;
        continue;
      }
      if (kw === "rescue") return; // `expr rescue fallback`
      if (kw === "if" || kw === "unless" || kw === "while" || kw === "until") {
        if (!atStart && !this.#opensExpression(ts, i)) return; // modifier: the rest is its condition
        const c = this.#condition(ts, i + 1, ["then", "do"]);
        if (kw === "if" || kw === "unless") this.#openIf(kw, c.cond, t.line);
        else this.#push({ name: kw, line: t.line, closer: "end", kind: "other", collect: this.#collecting() });
        i = c.next;
        atStart = true;
        head = i;
        continue;
      }
      if (kw === "case" || kw === "begin") {
        this.#push({ name: kw, line: t.line, closer: "end", kind: "other", collect: this.#collecting() });
        i++;
        atStart = kw === "begin";
        head = i;
        continue;
      }
      if (kw === "for") {
        const c = this.#condition(ts, i + 1, ["do"]);
        this.#push({ name: "for", line: t.line, closer: "end", kind: "other", collect: this.#collecting() });
        i = c.next;
        atStart = true;
        head = i;
        continue;
      }
      if (kw === "def") {
        this.#meter.spend(ts.length - i);
        if (!isEndlessDef(ts, i)) {
          this.#push({
            name: `def ${ts[i + 1]?.text ?? ""}`,
            line: t.line,
            closer: "end",
            kind: "other",
            collect: false,
          });
        }
        return;
      }
      if (kw === "class") {
        this.#meter.spend(2 * (ts.length - i));
        this.#openClass(ts, i);
        return;
      }
      if (kw === "module") {
        this.#push({ name: "module", line: t.line, closer: "end", kind: "other", collect: false });
        return;
      }
      if (kw === "do" || (t.kind === "op" && t.text === "{" && this.#blockBraces.has(t))) {
        this.#openBlock(ts, head, i, t.line, kw === "do" ? "end" : "}");
        const after = skipBlockParams(ts, i + 1);
        this.#meter.spend(after - i);
        i = after;
        atStart = true;
        head = i;
        continue;
      }
      if (t.kind === "op" && t.text === "}" && this.#blockCloses.has(t)) {
        this.#close("}", t.line);
        i++;
        atStart = false;
        continue;
      }
      if (atStart && t.kind === "ident" && STANZAS.has(t.text) && !isOp(ts[i + 1], "=") && !isOp(ts[i + 1], ".")) {
        i = this.#stanza(ts, i);
        atStart = false;
        continue;
      }
      atStart = false;
      i++;
    }
  }

  /** Condition tokens from `start` to a stop keyword (consumed) or the end of the statement. */
  #condition(ts: readonly Token[], start: number, stops: readonly string[]): { cond: Cond; next: number } {
    let j = start;
    while (j < ts.length) {
      this.#meter.spend(1);
      const kw = this.#keyword(ts, j);
      if (kw !== null && stops.includes(kw)) {
        return { cond: analyzeCondition(ts.slice(start, j), this.#meter), next: j + 1 };
      }
      j++;
    }
    return { cond: analyzeCondition(ts.slice(start, j), this.#meter), next: j };
  }

  // ------------------------------------------------------------ stanzas

  #stanza(ts: readonly Token[], i: number): number {
    const head = ts[i];
    if (!head) return i + 1;
    let j = i + 1;
    let depth = 0;
    for (; j < ts.length; j++) {
      this.#meter.spend(1);
      const t = ts[j];
      if (!t) break;
      if (t.kind === "op") {
        if (t.text === "(" || t.text === "[" || (t.text === "{" && !this.#blockBraces.has(t))) depth++;
        else if (t.text === ")" || t.text === "]" || (t.text === "}" && !this.#blockCloses.has(t))) depth--;
        else if (depth <= 0 && (this.#blockBraces.has(t) || this.#blockCloses.has(t))) break;
      }
      if (depth <= 0) {
        const kw = this.#keyword(ts, j);
        if (kw !== null && kw !== "in") break;
      }
    }
    let args = ts.slice(i + 1, j);
    if (isOp(args[0], "(") && isOp(args[args.length - 1], ")")) args = args.slice(1, -1);
    let modifier = NEUTRAL;
    let next = j;
    const kw = this.#keyword(ts, j);
    if (kw === "if" || kw === "unless") {
      const c = this.#condition(ts, j + 1, []);
      modifier = kw === "unless" ? negate(c.cond) : c.cond;
      next = c.next;
    } else if (kw === "while" || kw === "until" || kw === "rescue") {
      next = ts.length;
    }

    const frame = this.#top();
    if (!this.#collecting()) {
      if ((head.text === "url" || head.text === "sha256") && frame.unknownBlock && !frame.warnedStanza) {
        frame.warnedStanza = true;
        this.#warn(
          `line ${head.line}: ${head.text} inside unsupported block \`${frame.name}\` (line ${frame.line}) ignored`,
        );
      }
      return next;
    }
    if (modifier.dead) return next;
    switch (head.text) {
      case "url":
        this.#url(head, args, modifier);
        break;
      case "sha256":
        this.#sha256(head, args, modifier);
        break;
      case "version":
        this.#versionStanza(head, args);
        break;
      case "odie":
        this.#odie(head, modifier);
        break;
      case "arch":
        this.#archStanza(args);
        break;
    }
    return next;
  }

  #url(head: Token, args: readonly Token[], modifier: Cond): void {
    const first = args[0];
    if (!first || first.kind !== "string") {
      this.#warn(`line ${head.line}: url is not a string literal; ignored`);
      return;
    }
    const second = args[1];
    if (second && !isOp(second, ",")) this.#warn(`line ${head.line}: url is an expression; its first string is used`);
    this.#item("url", first.value, head.line, modifier);
  }

  #sha256(head: Token, args: readonly Token[], modifier: Cond): void {
    const first = args[0];
    if (!first) {
      this.#warn(`line ${head.line}: sha256 without a value; ignored`);
      return;
    }
    if (first.kind === "string") {
      this.#item("sha256", first.value, head.line, modifier);
      return;
    }
    if (first.kind === "symbol") {
      this.#warn(`line ${head.line}: sha256 :${first.text} (no checksum)`);
      this.#item("sha256", `:${first.text}`, head.line, modifier);
      return;
    }
    if (first.kind === "label") {
      for (let k = 0; k < args.length; k++) {
        const label = args[k];
        if (label?.kind !== "label") continue;
        if (label.text === "cellar") {
          this.#warn(`line ${head.line}: bottle-style sha256 outside a bottle block; ignored`);
          return;
        }
        const value = args[k + 1];
        const ctx = labelContext(label.text);
        if (!ctx || value?.kind !== "string") {
          this.#warn(`line ${head.line}: sha256 ${label.text}: not understood; ignored`);
          continue;
        }
        this.#item("sha256", value.value, head.line, conjoin(modifier, condOf(ctx)));
      }
      return;
    }
    this.#warn(`line ${head.line}: sha256 is not a string literal; ignored`);
  }

  #versionStanza(head: Token, args: readonly Token[]): void {
    const first = args[0];
    if (first?.kind === "symbol") {
      this.#warn(`line ${head.line}: version :${first.text} (no fixed version)`);
      return;
    }
    if (first?.kind !== "string") {
      this.#warn(`line ${head.line}: version is not a string literal; ignored`);
      return;
    }
    const frame = this.#top();
    frame.version ??= first.value;
    if (!frame.topLevel) return;
    if (this.#version === null) this.#version = first.value;
    else if (this.#version !== first.value) {
      this.#warn(`line ${head.line}: another top-level version "${brief(first.value)}"; the first one is used`);
    }
  }

  #odie(head: Token, modifier: Cond): void {
    const frame = this.#top();
    const ctx = applyCond(frame.ctx, modifier);
    if (ctx === null) return;
    if (frame.uncertain || modifier.unknown) {
      this.#warn(
        `line ${head.line}: odie under a condition that is not a platform check; recorded for ${describe(ctx)}`,
      );
    }
    this.#unsupported.set(ctxKey(ctx), ctx);
  }

  #archStanza(args: readonly Token[]): void {
    const frame = this.#top();
    for (let k = 0; k < args.length; k++) {
      const label = args[k];
      const value = args[k + 1];
      if (label?.kind !== "label" || value?.kind !== "string") continue;
      const cpu = labelContext(label.text)?.cpu;
      if (!cpu) continue;
      frame.arch ??= new Map();
      frame.arch.set(cpu, value.value);
    }
  }

  #item(type: Item["type"], value: string, line: number, modifier: Cond): void {
    if (++this.#stanzas > MAX_STANZAS) {
      if (!this.#warnedStanzaCap) this.#warn(`more than ${MAX_STANZAS} url/sha256 stanzas; the rest are ignored`);
      this.#warnedStanzaCap = true;
      return;
    }
    const frame = this.#top();
    const ctx = applyCond(frame.ctx, modifier);
    if (ctx === null) return;
    if (frame.uncertain || modifier.unknown) {
      this.#warn(`line ${line}: ${type} under a condition that is not a platform check; taken as ${describe(ctx)}`);
    }
    if (type === "sha256" && !SHA256_HEX.test(value) && !value.startsWith(":")) {
      this.#warn(`line ${line}: sha256 "${brief(value)}" is not 64 hex characters`);
    }
    if (type === "url") {
      const key = ctxKey(ctx);
      if (frame.urlContexts.has(key)) this.#warn(`line ${line}: second url for ${describe(ctx)} in the same block`);
      frame.urlContexts.add(key);
    }
    frame.items.push({ type, value, ctx, line, frame });
  }

  // ------------------------------------------------------------ frames

  #top(): Frame {
    // The root frame is never popped.
    return this.#stack[this.#stack.length - 1] ?? this.#stack[0]!;
  }

  #collecting(): boolean {
    const top = this.#top();
    return top.collect && top.live;
  }

  #push(spec: FrameSpec): Frame {
    let s = spec;
    if (this.#stack.length > MAX_DEPTH) {
      if (!this.#warnedDepth) this.#warn(`line ${spec.line}: blocks nested deeper than ${MAX_DEPTH}; contents ignored`);
      this.#warnedDepth = true;
      s = { ...spec, collect: false };
    }
    const frame = newFrame(s, this.#top());
    this.#stack.push(frame);
    return frame;
  }

  /** Closes the innermost frame; its unpaired items move to the enclosing frame (see #flush). */
  #pop(): void {
    const frame = this.#top();
    if (frame.kind === "root") return;
    this.#flush(frame);
    this.#stack.pop();
  }

  #close(closer: "end" | "}", line: number): void {
    if (closer === "}") {
      if (this.#top().closer === "}" && this.#top().kind !== "root") this.#pop();
      return;
    }
    while (this.#top().closer === "}" && this.#top().kind !== "root") {
      this.#warn(`line ${line}: \`end\` closes a { block opened at line ${this.#top().line}`);
      this.#pop();
    }
    if (this.#top().kind === "root") {
      this.#warn(`line ${line}: unexpected \`end\``);
      return;
    }
    this.#pop();
  }

  #openClass(ts: readonly Token[], i: number): void {
    const line = ts[i]?.line ?? 0;
    if (isOp(ts[i + 1], "<<")) {
      this.#push({ name: "class << self", line, closer: "end", kind: "other", collect: false });
      return;
    }
    let j = i + 1;
    const nameParts: string[] = [];
    while (j < ts.length && !isOp(ts[j], "<")) nameParts.push(ts[j++]?.text ?? "");
    const superclass = ts
      .slice(j + 1)
      .map((t) => t.text)
      .join("");
    const name = nameParts.join("");
    const isFormula = /(^|::)\w*Formula$/.test(superclass);
    if (isFormula && this.#kind === null && this.#collecting()) {
      this.#kind = "formula";
      this.#className = name || null;
      this.#push({ name: `class ${name}`, line, closer: "end", kind: "class", collect: true, topLevel: true });
      return;
    }
    if (isFormula) this.#warn(`line ${line}: another formula class ${brief(name)} ignored`);
    this.#push({ name: `class ${name}`, line, closer: "end", kind: "other", collect: false });
  }

  #openBlock(ts: readonly Token[], head: number, at: number, line: number, closer: "end" | "}"): void {
    this.#meter.spend(2 * (at - head + 1));
    const name = blockName(ts, head, at);
    const label = `${name || "block"} ${closer === "end" ? "do" : "{"}`;
    if (!this.#collecting()) {
      this.#push({ name: label, line, closer, kind: "block", collect: false });
      return;
    }
    if (name === "cask" && ts[head + 1]?.kind === "string" && this.#kind === null && closer === "end") {
      this.#kind = "cask";
      this.#push({ name: label, line, closer, kind: "cask", collect: true, topLevel: true });
      return;
    }
    const platform = PLATFORM_BLOCKS.get(name);
    if (platform) {
      this.#platformFrame(label, line, closer, { atoms: [platform], dead: false, unknown: false });
      return;
    }
    const codename = name.startsWith("on_") ? name.slice(3) : "";
    if (MACOS_CODENAMES.has(codename)) {
      this.#warn(`line ${line}: ${name} is specific to a macOS version; read as on_macos`);
      this.#platformFrame(label, line, closer, { atoms: [{ dim: "os", value: "macos" }], dead: false, unknown: false });
      return;
    }
    if (name === "on_system") {
      const args = ts.slice(head + 1, at).map((t) => t.text);
      const linux = args.includes("linux");
      const macos = args.includes("macos");
      if (linux !== macos) {
        this.#platformFrame(label, line, closer, {
          atoms: [{ dim: "os", value: linux ? "linux" : "macos" }],
          dead: false,
          unknown: false,
        });
      } else {
        this.#warn(`line ${line}: on_system with several systems; platform not determined`);
        this.#platformFrame(label, line, closer, UNKNOWN);
      }
      return;
    }
    if (name === "stable") {
      const topLevel = this.#top().topLevel;
      this.#push({ name: label, line, closer, kind: "block", collect: true, topLevel });
      return;
    }
    this.#push({ name: label, line, closer, kind: "block", collect: false, unknownBlock: !IGNORED_BLOCKS.has(name) });
  }

  #platformFrame(name: string, line: number, closer: "end" | "}", cond: Cond): void {
    const frame = this.#push({ name, line, closer, kind: "block", collect: true });
    this.#enterBranch(frame, cond, line);
  }

  #openIf(kw: "if" | "unless", cond: Cond, line: number): void {
    const frame = this.#push({ name: kw, line, closer: "end", kind: "if", collect: this.#collecting() });
    const body = kw === "unless" ? negate(cond) : cond;
    frame.chain = { invertible: true, dim: null, covered: new Set(), full: false };
    this.#extendChain(frame.chain, body);
    this.#enterBranch(frame, body, line);
  }

  #elsif(cond: Cond, line: number): void {
    const frame = this.#top();
    if (frame.kind !== "if" || !frame.chain) {
      this.#warn(`line ${line}: elsif outside an if`);
      return;
    }
    this.#flush(frame);
    this.#extendChain(frame.chain, cond);
    this.#enterBranch(frame, cond, line);
  }

  #else(line: number): void {
    const frame = this.#top();
    this.#endBranch(frame);
    if (frame.kind !== "if" || !frame.chain) return; // case/begin: no platform meaning
    const chain = frame.chain;
    if (!chain.invertible) {
      this.#enterBranch(frame, UNKNOWN, line);
    } else if (chain.full) {
      this.#enterBranch(frame, DEAD, line);
    } else if (chain.dim === null) {
      this.#enterBranch(frame, NEUTRAL, line);
    } else {
      const values: string[] = chain.dim === "os" ? ["macos", "linux"] : ["arm", "intel"];
      const remaining = values.filter((v) => !chain.covered.has(v));
      const value = remaining[0];
      if (remaining.length !== 1 || value === undefined) this.#enterBranch(frame, DEAD, line);
      else {
        const atom = (chain.dim === "os" ? { dim: "os", value } : { dim: "cpu", value }) as Atom;
        this.#enterBranch(frame, { atoms: [atom], dead: false, unknown: false }, line);
      }
    }
  }

  #extendChain(chain: Chain, cond: Cond): void {
    if (!chain.invertible || cond.dead) return;
    const atom = cond.atoms[0];
    if (cond.unknown || cond.atoms.length > 1) chain.invertible = false;
    else if (!atom) chain.full = true;
    else if (chain.dim === null || chain.dim === atom.dim) {
      chain.dim = atom.dim;
      chain.covered.add(atom.value);
    } else chain.invertible = false;
  }

  /** Sets the frame's current branch to `base ∧ cond`; a branch that cannot run collects nothing. */
  #enterBranch(frame: Frame, cond: Cond, line: number): void {
    const ctx = cond.dead ? null : applyCond(frame.base, cond);
    if (ctx === null) {
      if (!cond.dead) this.#warn(`line ${line}: condition contradicts the enclosing block; its contents are ignored`);
      frame.live = false;
      frame.ctx = frame.base;
      frame.uncertain = frame.baseUncertain;
      return;
    }
    frame.live = true;
    frame.ctx = ctx;
    frame.uncertain = frame.baseUncertain || cond.unknown;
  }

  // ------------------------------------------------------------ pairing

  /**
   * Pairs the items of a branch that just ended. A stray `when`/`else` at the top level ends no branch: the
   * root's items are paired once, at the end (re-pairing them on every stray keyword would be quadratic).
   */
  #endBranch(frame: Frame): void {
    if (frame.kind !== "root") this.#flush(frame);
  }

  /** Pairs the url/sha256 items of the frame's current branch; leftovers move up to the enclosing frame. */
  #flush(frame: Frame): void {
    frame.urlContexts.clear();
    if (frame.items.length === 0) return;
    this.#meter.spend(4 * frame.items.length);
    const items = [...frame.items].sort((a, b) => a.line - b.line);
    const shas = new Map<string, { ctx: FormulaContext; queue: Item[]; next: number }>();
    for (const item of items) {
      if (item.type !== "sha256") continue;
      const key = ctxKey(item.ctx);
      const entry = shas.get(key) ?? { ctx: item.ctx, queue: [], next: 0 };
      entry.queue.push(item);
      shas.set(key, entry);
    }
    const unpaired: Item[] = [];
    for (const url of items) {
      if (url.type !== "url") continue;
      const entry = shas.get(ctxKey(url.ctx));
      const sha = entry ? entry.queue[entry.next] : undefined;
      if (entry && sha) {
        entry.next++;
        this.#pending.push({ url, sha256: sha, ctx: url.ctx });
      } else {
        unpaired.push(url);
      }
    }
    const leftovers: Item[] = [];
    for (const url of unpaired) {
      let matched = false;
      for (const entry of shas.values()) {
        if (!refines(entry.ctx, url.ctx)) continue;
        while (entry.next < entry.queue.length) {
          const sha = entry.queue[entry.next++];
          if (!sha) continue;
          this.#pending.push({ url, sha256: sha, ctx: sha.ctx });
          matched = true;
        }
      }
      if (!matched) leftovers.push(url);
    }
    for (const entry of shas.values()) leftovers.push(...entry.queue.slice(entry.next));
    frame.items = frame.kind === "root" ? leftovers : [];
    if (frame.kind !== "root") {
      const parent = frame.parent;
      if (parent) parent.items.push(...leftovers);
    }
  }

  // ------------------------------------------------------------ output

  #resolve(): FormulaArtifact[] {
    const artifacts = this.#pending.map((p): FormulaArtifact & { order: number } => ({
      url: p.url.value,
      resolved_url: this.#substitute(p.url, p.ctx),
      sha256: p.sha256 ? p.sha256.value : null,
      context: p.ctx,
      line: p.url.line,
      order: p.sha256?.line ?? p.url.line,
    }));
    artifacts.sort((a, b) => a.line - b.line || a.order - b.order);
    return artifacts.map(({ order: _order, ...a }) => a);
  }

  #substitute(url: Item, ctx: FormulaContext): string {
    this.#meter.spend(url.value.length);
    if (!url.value.includes("#{")) return url.value;
    const unresolved: string[] = [];
    // Looked up once per url, not per interpolation; a version too long to be real is not substituted.
    let version: string | null | undefined;
    let arch: string | null | undefined;
    let length = url.value.length;
    const resolved = url.value.replace(/#\{([^{}]*)\}/g, (whole, inner: string) => {
      this.#meter.spend(whole.length);
      const expr = inner.trim();
      const method = VERSION_METHODS[expr];
      let value: string | undefined;
      if (method && Object.hasOwn(VERSION_METHODS, expr)) {
        version ??= this.#nearest(url.frame, (f) => f.version) ?? this.#version;
        if (version !== null && version.length <= MAX_VERSION_CHARS) {
          this.#meter.spend(version.length);
          value = method(version);
        }
      } else if (expr === "arch" && ctx.cpu !== null) {
        const cpu = ctx.cpu;
        arch ??= this.#nearest(url.frame, (f) => f.arch?.get(cpu) ?? null);
        value = arch ?? undefined;
      }
      if (value !== undefined && length + value.length <= MAX_URL_CHARS) {
        this.#meter.spend(value.length);
        length += value.length;
        return value;
      }
      unresolved.push(whole);
      return whole;
    });
    if (unresolved.length > 0 || resolved.includes("#{")) {
      this.#warn(`line ${url.line}: url interpolation not resolved: ${brief(unresolved.join(" ") || url.value)}`);
    }
    return resolved;
  }

  #nearest<T>(frame: Frame | null, pick: (f: Frame) => T | null): T | null {
    for (let f = frame; f; f = f.parent) {
      this.#meter.spend(1);
      const v = pick(f);
      if (v !== null) return v;
    }
    return null;
  }

  #warn(message: string): void {
    if (this.#warnings.length < MAX_WARNINGS) this.#warnings.push(message);
    else this.#suppressed++;
  }
}

function newFrame(spec: FrameSpec, parent: Frame | null): Frame {
  const ctx = parent ? parent.ctx : { os: null, cpu: null };
  const uncertain = parent ? parent.uncertain : false;
  return {
    name: spec.name,
    line: spec.line,
    closer: spec.closer,
    kind: spec.kind,
    collect: spec.collect,
    live: true,
    unknownBlock: spec.unknownBlock ?? false,
    warnedStanza: false,
    topLevel: spec.topLevel ?? false,
    parent,
    base: ctx,
    baseUncertain: uncertain,
    ctx,
    uncertain,
    items: [],
    urlContexts: new Set(),
    chain: null,
    version: null,
    arch: null,
  };
}

function condOf(ctx: FormulaContext): Cond {
  const atoms: Atom[] = [];
  if (ctx.os) atoms.push({ dim: "os", value: ctx.os });
  if (ctx.cpu) atoms.push({ dim: "cpu", value: ctx.cpu });
  return { atoms, dead: false, unknown: false };
}

/** `base ∧ cond` as a context, or null when they contradict (the branch cannot run). */
function applyCond(base: FormulaContext, cond: Cond): FormulaContext | null {
  if (cond.dead) return null;
  const ctx: FormulaContext = { os: base.os, cpu: base.cpu };
  for (const atom of cond.atoms) {
    if (atom.dim === "os") {
      if (ctx.os !== null && ctx.os !== atom.value) return null;
      ctx.os = atom.value;
    } else {
      if (ctx.cpu !== null && ctx.cpu !== atom.value) return null;
      ctx.cpu = atom.value;
    }
  }
  return ctx;
}

/** `def name = expr` / `def name(args) = expr` define a method without a body block. */
function isEndlessDef(ts: readonly Token[], i: number): boolean {
  let depth = 0;
  for (let j = i + 1; j < ts.length; j++) {
    const t = ts[j];
    if (isOp(t, "(")) depth++;
    else if (isOp(t, ")")) depth--;
    else if (depth === 0 && isOp(t, "=") && t?.spaceBefore) return true;
  }
  return false;
}

/**
 * The method a block belongs to: the leading identifier (`on_macos do`, `resource "x" do`), or for a call chain
 * the last method called (`[1, 2].each do` → `each`).
 */
function blockName(ts: readonly Token[], head: number, at: number): string {
  const first = head < at ? ts[head] : undefined;
  const after = ts[head + 1];
  const chained = after !== undefined && head + 1 < at && after.kind === "op" && [".", "&.", "::"].includes(after.text);
  if (first && (first.kind === "ident" || first.kind === "const") && !chained) return first.text;
  for (let k = at - 1; k >= head; k--) {
    const t = ts[k];
    if (t?.kind === "ident" && isOp(ts[k - 1], ".")) return t.text;
  }
  return first && (first.kind === "ident" || first.kind === "const") ? first.text : "";
}

/** Skips `|a, b|` (or `||`) after `do` / `{`. */
function skipBlockParams(ts: readonly Token[], j: number): number {
  if (isOp(ts[j], "||")) return j + 1;
  if (!isOp(ts[j], "|")) return j;
  for (let k = j + 1; k < ts.length; k++) if (isOp(ts[k], "|")) return k + 1;
  return ts.length;
}
