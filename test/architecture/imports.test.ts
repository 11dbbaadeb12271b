import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import ts from "typescript";
import { parse, tsFiles, walk } from "../helpers/source-files.ts";

/**
 * The import graph of src/ (static imports, re-exports and dynamic `import()` of relative paths, read with the
 * TypeScript compiler) against the layer order of docs/architecture.md: a module may import its own layer or a
 * lower one, never a higher one; and outside src/sim no module reaches itself again through runtime imports.
 */

/** Lowest first. A file belongs to the first layer with a matching prefix. */
const LAYERS: readonly (readonly [string, readonly string[]])[] = [
  [
    "base",
    [
      "src/errors.ts",
      "src/abort-fanout.ts",
      "src/exit-codes.ts",
      "src/quote.ts",
      "src/secrets.ts",
      "src/log.ts",
      "src/types/",
      "src/config/duration.ts",
      "src/config/primitives.ts",
      "src/config/names.ts",
      "src/config/npmrc.ts",
      "src/config/npm-auth.ts",
      "src/config/listen.ts",
      "src/config/syntax-error.ts",
      "src/sim/services.ts",
    ],
  ],
  ["http", ["src/http/", "src/probes/", "src/ergo/"]],
  ["findings", ["src/drift/"]],
  [
    "channels",
    [
      "src/channels/",
      "src/channels.ts",
      "src/plan/types.ts",
      "src/plan/template.ts",
      "src/report/types.ts",
      "src/provenance/",
      "src/discover/judge.ts",
      "src/discover/homebrew.ts",
      "src/discover/assets.ts",
    ],
  ],
  ["sinks", ["src/alerts/sinks/", "src/alerts/types.ts", "src/alerts/rollup.ts"]],
  ["config", ["src/config/"]],
  ["plan", ["src/plan/", "src/discover/"]],
  ["evaluate", ["src/verify/evaluate.ts"]],
  ["report", ["src/report/"]],
  ["verify", ["src/verify/"]],
  ["alerts", ["src/alerts/", "src/state/"]],
  ["runtime", ["src/runtime/"]],
  ["serve", ["src/daemon/", "src/metrics/", "src/server/", "src/drive/"]],
  ["sim", ["src/sim/"]],
  ["cli", ["src/cli/", "src/action/"]],
];

/**
 * Upward edges still to remove (each one listed so that a new one fails and a removed one must leave the list).
 * Not exemptions: the work left after issue 12's move.
 */
const PENDING_UPWARD: Readonly<Record<string, string>> = {};
const PENDING_CYCLES: readonly string[] = [];

function layerOf(file: string): number {
  const i = LAYERS.findIndex(([, prefixes]) => prefixes.some((p) => file === p || file.startsWith(p)));
  if (i < 0) throw new Error(`${file}: in no layer (add it to LAYERS and docs/architecture.md)`);
  return i;
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function importsOf(file: string): Edge[] {
  const sf = parse(file);
  const out: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith(".")) return;
    out.push({
      from: file,
      to: normalize(join(dirname(file), spec))
        .split("\\")
        .join("/"),
      typeOnly,
    });
  };
  walk(sf, (n) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const allTypes =
        c !== undefined &&
        (c.isTypeOnly ||
          (c.name === undefined &&
            c.namedBindings !== undefined &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier.text, allTypes);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      add(n.moduleSpecifier.text, n.isTypeOnly);
    } else if (
      ts.isCallExpression(n) &&
      n.expression.kind === ts.SyntaxKind.ImportKeyword &&
      n.arguments[0] &&
      ts.isStringLiteral(n.arguments[0])
    ) {
      add(n.arguments[0].text, false);
    }
  });
  return out;
}

const files = tsFiles("src");
const edges = files.flatMap(importsOf);

/** Strongly connected components (Tarjan) of the runtime graph, of more than one file. */
function cycles(nodes: readonly string[], next: (n: string) => readonly string[]): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}

describe("import graph of src/", () => {
  it("reads real imports (a scan that sees nothing proves nothing)", () => {
    assert.ok(edges.length > 300, `only ${edges.length} edges`);
    assert.ok(edges.some((e) => e.from === "src/cli/main.ts"));
  });

  it("every file sits in a layer", () => {
    for (const f of files) layerOf(f);
  });

  it("no edge runs from a lower layer to a higher one", () => {
    const up = [...new Set(edges.filter((e) => layerOf(e.to) > layerOf(e.from)).map((e) => `${e.from} -> ${e.to}`))];
    assert.deepEqual(
      up.filter((e) => PENDING_UPWARD[e] === undefined),
      [],
      "an import runs up the layers",
    );
    assert.deepEqual(
      Object.keys(PENDING_UPWARD).filter((e) => !up.includes(e)),
      [],
      "fixed: drop it from PENDING_UPWARD",
    );
  });

  it("no import cycle outside src/sim (runtime imports)", () => {
    const outside = (f: string) => !f.startsWith("src/sim/");
    const runtime = new Map<string, string[]>();
    for (const e of edges) {
      if (e.typeOnly || !outside(e.from) || !outside(e.to)) continue;
      runtime.set(e.from, [...(runtime.get(e.from) ?? []), e.to]);
    }
    const found = cycles(files.filter(outside), (n) => runtime.get(n) ?? []).map((c) => c.join(" "));
    assert.deepEqual(found.sort(), [...PENDING_CYCLES].sort());
  });
});
