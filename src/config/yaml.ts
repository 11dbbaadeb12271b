import { CORE_SCHEMA, load, YAMLException } from "js-yaml";

/**
 * The config file's YAML, read with js-yaml: straight from the parser's events to values, without the document
 * model the `yaml` package builds (kept for `init`, which edits a file and keeps its comments). For a config of
 * 5,000 projects (3.6 MB) that is 0.14 s and ~30 MB instead of 1.7 s and a 190 MB heap, the largest allocation of
 * a daemon's life and, through V8's page pool, of its resident memory (docs/benchmarks.md, "Memory").
 *
 * YAML 1.2's core schema, as before: no timestamps, no `<<` merge keys, no `!!binary`. A key given twice is an
 * error. Anchors and aliases work; at most MAX_ALIASES of them, and no alias may make the document, expanded,
 * larger than MAX_EXPANDED_VALUES values (a few aliases of aliases reach billions: every later pass over the
 * config walks the expansion), nor refer to itself.
 */
export const MAX_ALIASES = 100;
export const MAX_EXPANDED_VALUES = 1_000_000;

export function parseConfigYaml(text: string): unknown {
  // js-yaml refuses an empty source; an empty file (or one with only comments) is an empty document.
  if (!/^[ \t]*[^\s#]/m.test(text)) return null;
  let value: unknown;
  try {
    value = load(text, { schema: CORE_SCHEMA, maxAliases: MAX_ALIASES });
  } catch (err) {
    // The position in words, then the lines around it (the caller redacts secrets in them).
    if (!(err instanceof YAMLException) || !err.mark) throw err;
    const { line, column, snippet } = err.mark;
    throw new Error(`${err.reason} at line ${line + 1}, column ${column + 1}${snippet ? `:\n\n${snippet}` : ""}`, {
      cause: err,
    });
  }
  checkExpansion(value);
  return value ?? null;
}

/** The number of values the document holds once every alias is expanded: memoized per shared object, so linear. */
function checkExpansion(root: unknown): void {
  const sizes = new Map<object, number>();
  const open = new Set<object>();
  const size = (v: unknown): number => {
    if (v === null || typeof v !== "object") return 1;
    const known = sizes.get(v);
    if (known !== undefined) return known;
    if (open.has(v)) throw new Error("an alias refers to the collection that contains it");
    open.add(v);
    let n = 1;
    for (const child of Object.values(v)) {
      n += size(child);
      if (n > MAX_EXPANDED_VALUES) {
        throw new Error(`aliases expand the document past ${MAX_EXPANDED_VALUES} values (an alias of an alias of …)`);
      }
    }
    open.delete(v);
    sizes.set(v, n);
    return n;
  };
  size(root);
}
