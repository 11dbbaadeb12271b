/**
 * A strict parser of the Prometheus text exposition format 0.0.4 (test helper; no parser is installed and
 * prom-client only writes the format). Beyond the grammar it enforces what a scraper relies on:
 *
 * - `# HELP` / `# TYPE` lines are well formed, at most one of each per family, TYPE before the family's samples;
 * - every sample belongs to a family declared with `# TYPE` (histogram: `_bucket`/`_sum`/`_count`; summary:
 *   the base name, `_sum`/`_count`), and a family's samples are contiguous;
 * - metric and label names are valid, label values use only the `\\`, `\"`, `\n` escapes, no label repeats, no
 *   series repeats;
 * - values are floats (NaN, +Inf, -Inf included), optional timestamps are integers; counters are never negative;
 * - histograms: per series, `le` buckets strictly increasing and cumulative (non-decreasing), a `+Inf` bucket equal
 *   to `_count`, and a `_sum`.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp: number | null;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | null;
  samples: Sample[];
}

export class PromParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "PromParseError";
    this.line = line;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parseFloatStrict(text: string): number | null {
  if (text === "NaN") return NaN;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  return Number(text);
}

function unescapeHelp(text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    throw new PromParseError(line, `invalid escape \\${c} in HELP`);
  });
}

/** Parses `{a="x",b="y"}` starting at `text[start] === "{"`; returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (text[i] === "}") return { labels, end: i + 1 };
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!nameMatch) throw new PromParseError(line, `bad label name at column ${i + 1}`);
    const name = nameMatch[0];
    i += name.length;
    if (text[i] !== "=" || text[i + 1] !== '"') throw new PromParseError(line, `expected ="…" after label ${name}`);
    i += 2;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new PromParseError(line, `unterminated value of label ${name}`);
      if (c === '"') break;
      if (c === "\\") {
        const n = text[i + 1];
        if (n === "\\") value += "\\";
        else if (n === '"') value += '"';
        else if (n === "n") value += "\n";
        else throw new PromParseError(line, `invalid escape \\${n ?? ""} in label ${name}`);
        i += 2;
        continue;
      }
      if (c === "\n") throw new PromParseError(line, "raw newline in a label value");
      value += c;
      i++;
    }
    i++;
    if (Object.hasOwn(labels, name)) throw new PromParseError(line, `label ${name} repeated`);
    labels[name] = value;
    if (text[i] === ",") {
      i++;
      continue;
    }
    if (text[i] !== "}") throw new PromParseError(line, `expected , or } after label ${name}`);
  }
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | null {
  const exact = families.get(sampleName);
  if (exact && exact.type !== "histogram") return exact;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = families.get(sampleName.slice(0, -suffix.length));
    if (!base) continue;
    if (base.type === "histogram") return base;
    if (base.type === "summary" && suffix !== "_bucket") return base;
  }
  return null;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: Family | null = null;
  const lines = text.split("\n");
  if (text.length > 0 && !text.endsWith("\n"))
    throw new PromParseError(lines.length, "the exposition must end with a newline");
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(raw);
      if (!m) return; // a plain comment
      const [, keyword, name = "", rest = ""] = m;
      if (!METRIC_NAME.test(name)) throw new PromParseError(line, `invalid metric name ${name}`);
      let fam = families.get(name);
      if (!fam) {
        if (finished.has(name)) throw new PromParseError(line, `family ${name} declared twice`);
        fam = { name, type: "untyped", help: null, samples: [] };
        families.set(name, fam);
      }
      if (current && current !== fam) finished.add(current.name);
      current = fam;
      if (keyword === "HELP") {
        if (fam.help !== null) throw new PromParseError(line, `second HELP for ${name}`);
        fam.help = unescapeHelp(rest, line);
      } else {
        if (typed.has(name)) throw new PromParseError(line, `second TYPE for ${name}`);
        if (fam.samples.length > 0) throw new PromParseError(line, `TYPE for ${name} after its samples`);
        if (!TYPES.has(rest.trim() as MetricType)) throw new PromParseError(line, `unknown type "${rest}"`);
        fam.type = rest.trim() as MetricType;
        typed.add(name);
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (!nameMatch) throw new PromParseError(line, `bad sample line: ${raw}`);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (raw[i] === "{") ({ labels, end: i } = parseLabels(raw, i, line));
    const rest = raw.slice(i);
    const parts = rest.trim().split(/[ \t]+/);
    if (!/^[ \t]/.test(rest) || parts.length < 1 || parts.length > 2)
      throw new PromParseError(line, `expected "value [timestamp]" after ${name}`);
    const value = parseFloatStrict(parts[0] ?? "");
    if (value === null) throw new PromParseError(line, `invalid value "${parts[0]}"`);
    let timestamp: number | null = null;
    if (parts[1] !== undefined) {
      if (!/^-?\d+$/.test(parts[1])) throw new PromParseError(line, `invalid timestamp "${parts[1]}"`);
      timestamp = Number(parts[1]);
    }
    const fam = familyOf(name, families);
    if (!fam || !typed.has(fam.name))
      throw new PromParseError(line, `sample ${name} belongs to no family declared with # TYPE`);
    if (fam !== current) throw new PromParseError(line, `sample ${name} is not contiguous with its family ${fam.name}`);
    for (const l of Object.keys(labels)) if (!LABEL_NAME.test(l)) throw new PromParseError(line, `bad label ${l}`);
    if (fam.type === "histogram" && name.endsWith("_bucket")) {
      if (labels["le"] === undefined) throw new PromParseError(line, `${name} without le`);
      if (parseFloatStrict(labels["le"]) === null) throw new PromParseError(line, `bad le "${labels["le"]}"`);
    }
    if (fam.type === "counter" && !(value >= 0)) throw new PromParseError(line, `counter ${name} is ${value}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
    if (series.has(key)) throw new PromParseError(line, `duplicate series ${key}`);
    series.add(key);
    fam.samples.push({ name, labels, value, timestamp });
  });
  for (const fam of families.values()) {
    if (!typed.has(fam.name)) throw new Error(`family ${fam.name} has HELP but no TYPE`);
    if (fam.type === "histogram") checkHistogram(fam);
  }
  return families;
}

function seriesKey(labels: Record<string, string>, drop: string): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== drop)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

function checkHistogram(fam: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; sum: number | null; count: number | null }>();
  const group = (labels: Record<string, string>) => {
    const key = seriesKey(labels, "le");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [], sum: null, count: null }));
    return g;
  };
  for (const s of fam.samples) {
    if (s.name === `${fam.name}_bucket`)
      group(s.labels).buckets.push([parseFloatStrict(s.labels["le"] ?? "") ?? NaN, s.value]);
    else if (s.name === `${fam.name}_sum`) group(s.labels).sum = s.value;
    else if (s.name === `${fam.name}_count`) group(s.labels).count = s.value;
  }
  for (const [key, g] of groups) {
    const where = `${fam.name}${key}`;
    if (g.sum === null) throw new Error(`${where}: no _sum`);
    if (g.count === null) throw new Error(`${where}: no _count`);
    if (g.buckets.length === 0) throw new Error(`${where}: no buckets`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [prevLe, prevN] = g.buckets[i - 1]!;
      const [le, n] = g.buckets[i]!;
      if (!(le > prevLe)) throw new Error(`${where}: le ${le} after ${prevLe}`);
      if (n < prevN) throw new Error(`${where}: bucket le=${le} (${n}) below le=${prevLe} (${prevN})`);
    }
    const last = g.buckets.at(-1)!;
    if (last[0] !== Infinity) throw new Error(`${where}: no +Inf bucket`);
    if (last[1] !== g.count) throw new Error(`${where}: +Inf bucket ${last[1]} != _count ${g.count}`);
  }
}

/** Samples of one family (by sample name) whose labels include `match`. */
export function samples(
  families: Map<string, Family>,
  sampleName: string,
  match: Record<string, string> = {},
): Sample[] {
  const out: Sample[] = [];
  for (const fam of families.values()) {
    for (const s of fam.samples) {
      if (s.name !== sampleName) continue;
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) out.push(s);
    }
  }
  return out;
}

/** The single sample matching, or an error naming what was there. */
export function sample(families: Map<string, Family>, sampleName: string, match: Record<string, string> = {}): number {
  const found = samples(families, sampleName, match);
  if (found.length !== 1) throw new Error(`expected one ${sampleName}${JSON.stringify(match)}, found ${found.length}`);
  return found[0]!.value;
}
