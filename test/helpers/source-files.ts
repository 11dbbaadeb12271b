import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

/** Repository root (this file sits in test/helpers/). */
export const ROOT = join(import.meta.dirname, "..", "..");

/** Every .ts file under `dir` (relative to the root), as root-relative paths with forward slashes, sorted. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) out.push(relative(ROOT, p).split("\\").join("/"));
    }
  };
  walk(join(ROOT, dir));
  return out.sort();
}

/** Parses one file with the TypeScript compiler (syntax only; no type checking). */
export function parse(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(join(ROOT, path), "utf8"), ts.ScriptTarget.ES2023, true);
}

/** Visits every node of a source file, depth first. */
export function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((c) => walk(c, visit));
}
