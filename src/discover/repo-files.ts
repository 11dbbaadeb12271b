import { parse as parseToml } from "smol-toml";
import type { Candidate } from "./judge.ts";

/**
 * Readers for the repository files `monitor init` looks at (docs/discovery.md). Pure: text in, names out.
 * A file that does not parse yields a `problem` naming it; it never throws.
 */

export interface RepoPackages {
  crates: string[];
  npm: string[];
  pypi: string[];
  /** Workspace members named by a Cargo.toml, to read next (paths relative to the repo root). */
  cargo_members: string[];
  /** The same names as registry candidates, each with the file it came from, in reading order. */
  candidates: Candidate[];
  problems: string[];
}

export const MAX_REPO_FILES = 20;
const NAMES = new Set(["Cargo.toml", "package.json", "pyproject.toml"]);
const BINDING_DIRS = /^(bindings|packages|crates|python|node|npm|js|py)\//;

/** Which files of a git tree listing to read: root manifests, bindings dirs two levels down, targets.json. */
export function pickRepoFiles(paths: readonly string[], limit = MAX_REPO_FILES): string[] {
  const picked = paths.filter((p) => {
    if (p === "release/targets.json") return true;
    const parts = p.split("/");
    const base = parts[parts.length - 1]!;
    if (!NAMES.has(base) || parts.includes("node_modules")) return false;
    return parts.length === 1 || (parts.length <= 3 && BINDING_DIRS.test(p));
  });
  picked.sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
  return picked.slice(0, limit);
}

function tomlOf(text: string, path: string, problems: string[]): Record<string, unknown> | null {
  try {
    return parseToml(text);
  } catch (err) {
    problems.push(`${path}: not valid TOML (${(err as Error).message.split("\n")[0]})`);
    return null;
  }
}

const obj = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/** A crate name unless `publish = false` (or an empty registry list); workspace members for the caller. */
export function readCargoToml(
  text: string,
  path = "Cargo.toml",
): Pick<RepoPackages, "crates" | "cargo_members" | "problems"> {
  const problems: string[] = [];
  const doc = tomlOf(text, path, problems);
  const pkg = obj(doc?.["package"]);
  const publish = pkg?.["publish"];
  const published = publish !== false && !(Array.isArray(publish) && publish.length === 0);
  const name = typeof pkg?.["name"] === "string" && published ? [pkg["name"]] : [];
  const members = obj(doc?.["workspace"])?.["members"];
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
  const cargo_members = Array.isArray(members)
    ? members.filter((m): m is string => typeof m === "string" && !m.includes("*")).map((m) => `${dir}${m}/Cargo.toml`)
    : [];
  return { crates: name, cargo_members, problems };
}

/** The package name unless `"private": true`. Scoped names are kept as written. */
export function readPackageJson(text: string, path = "package.json"): Pick<RepoPackages, "npm" | "problems"> {
  let doc: Record<string, unknown> | null;
  try {
    doc = obj(JSON.parse(text));
  } catch {
    return { npm: [], problems: [`${path}: not valid JSON`] };
  }
  const name = doc?.["name"];
  if (doc?.["private"] === true || typeof name !== "string") return { npm: [], problems: [] };
  return { npm: [name], problems: [] };
}

/** PEP 503 normalisation: runs of `-`, `_`, `.` become `-`, lower case. */
export function normalizePypiName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

export function readPyproject(text: string, path = "pyproject.toml"): Pick<RepoPackages, "pypi" | "problems"> {
  const problems: string[] = [];
  const name = obj(tomlOf(text, path, problems)?.["project"])?.["name"];
  return { pypi: typeof name === "string" ? [normalizePypiName(name)] : [], problems };
}

export interface TargetsManifestSummary {
  /** Channel -> platform ids marked "official" (sdk_platform). */
  official: Record<string, string[]>;
  problems: string[];
}

/** plasmite's `release/targets.json`: `{schema_version: 1, targets: [{sdk_platform, channels: {...}}]}`. */
export function readTargetsJson(text: string, path = "release/targets.json"): TargetsManifestSummary {
  let doc: Record<string, unknown> | null;
  try {
    doc = obj(JSON.parse(text));
  } catch {
    return { official: {}, problems: [`${path}: not valid JSON`] };
  }
  const targets = doc?.["targets"];
  if (doc?.["schema_version"] !== 1 || !Array.isArray(targets)) {
    return { official: {}, problems: [`${path}: expected schema_version 1 with a targets array`] };
  }
  const official: Record<string, string[]> = {};
  for (const t of targets.map(obj)) {
    const platform = t?.["sdk_platform"];
    if (typeof platform !== "string") continue;
    for (const [channel, level] of Object.entries(obj(t?.["channels"]) ?? {})) {
      if (level === "official") (official[channel] ??= []).push(platform);
    }
  }
  return { official, problems: [] };
}

/** Reads every picked file (path -> text) into one set of package names, deduplicated. */
export function readRepoFiles(files: ReadonlyMap<string, string>): RepoPackages {
  const out: RepoPackages = { crates: [], npm: [], pypi: [], cargo_members: [], candidates: [], problems: [] };
  const add = (channel: Candidate["channel"], names: string[], source: string) => {
    for (const name of names) {
      if (!out.candidates.some((c) => c.channel === channel && c.name === name))
        out.candidates.push({ channel, name, source });
    }
  };
  for (const [path, text] of files) {
    const base = path.slice(path.lastIndexOf("/") + 1);
    if (base === "Cargo.toml") {
      const r = readCargoToml(text, path);
      out.crates.push(...r.crates);
      add("crates", r.crates, path);
      out.cargo_members.push(...r.cargo_members.filter((m) => !files.has(m)));
      out.problems.push(...r.problems);
    } else if (base === "package.json") {
      const r = readPackageJson(text, path);
      out.npm.push(...r.npm);
      add("npm", r.npm, path);
      out.problems.push(...r.problems);
    } else if (base === "pyproject.toml") {
      const r = readPyproject(text, path);
      out.pypi.push(...r.pypi);
      add("pypi", r.pypi, path);
      out.problems.push(...r.problems);
    }
  }
  const uniq = (xs: string[]) => [...new Set(xs)];
  return {
    ...out,
    crates: uniq(out.crates),
    npm: uniq(out.npm),
    pypi: uniq(out.pypi),
    cargo_members: uniq(out.cargo_members).slice(0, MAX_REPO_FILES),
  };
}
