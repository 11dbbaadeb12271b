import { parse as parseToml } from "smol-toml";
import type { ManifestReader } from "../channels/channel.ts";
import { DEFAULT_REGISTRY, type ChannelRegistry } from "../channels/registry.ts";
import type { Candidate } from "./judge.ts";

/**
 * Readers for the repository files `monitor init` looks at (docs/discovery.md). Pure: text in, names out. Which
 * files name which channel's packages is each channel's own piece (`init.manifests`, src/channels/<id>/init.ts);
 * this module picks, parses and collects. A file that does not parse yields a `problem` naming it; it never throws.
 */

export interface RepoPackages {
  /** Per channel id, the package names its manifests publish, deduplicated, in reading order. */
  names: Record<string, string[]>;
  /** Further manifests the files name (Cargo workspace members), to read next (paths relative to the repo root). */
  more_manifests: string[];
  /** The same names as registry candidates, each with the file it came from, in reading order. */
  candidates: Candidate[];
  problems: string[];
}

export const MAX_REPO_FILES = 20;
const BINDING_DIRS = /^(bindings|packages|crates|python|node|npm|js|py)\//;

/** The channels' manifest readers, by file base name. */
function readersOf(registry: ChannelRegistry): Map<string, { channel: string; reader: ManifestReader }[]> {
  const out = new Map<string, { channel: string; reader: ManifestReader }[]>();
  for (const c of registry.channels) {
    for (const reader of c.init?.manifests ?? []) {
      out.set(reader.file, [...(out.get(reader.file) ?? []), { channel: c.id, reader }]);
    }
  }
  return out;
}

/** Which files of a git tree listing to read: root manifests, bindings dirs two levels down, targets.json. */
export function pickRepoFiles(
  paths: readonly string[],
  limit = MAX_REPO_FILES,
  registry: ChannelRegistry = DEFAULT_REGISTRY,
): string[] {
  const names = readersOf(registry);
  const picked = paths.filter((p) => {
    if (p === "release/targets.json") return true;
    const parts = p.split("/");
    const base = parts[parts.length - 1]!;
    if (!names.has(base) || parts.includes("node_modules")) return false;
    return parts.length === 1 || (parts.length <= 3 && BINDING_DIRS.test(p));
  });
  picked.sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
  return picked.slice(0, limit);
}

const obj = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/** The file parsed as its readers declare it; null (and a problem naming it) when it does not parse. */
function parseManifest(text: string, path: string, format: ManifestReader["format"], problems: string[]) {
  try {
    return obj(format === "toml" ? parseToml(text) : JSON.parse(text)) ?? {};
  } catch (err) {
    problems.push(
      format === "toml"
        ? `${path}: not valid TOML (${(err as Error).message.split("\n")[0]})`
        : `${path}: not valid JSON`,
    );
    return null;
  }
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

/** Reads every picked file (path -> text) into one set of package names per channel, deduplicated. */
export function readRepoFiles(
  files: ReadonlyMap<string, string>,
  registry: ChannelRegistry = DEFAULT_REGISTRY,
): RepoPackages {
  const readers = readersOf(registry);
  const out: RepoPackages = { names: {}, more_manifests: [], candidates: [], problems: [] };
  for (const [path, text] of files) {
    const mine = readers.get(path.slice(path.lastIndexOf("/") + 1)) ?? [];
    const doc = mine[0] ? parseManifest(text, path, mine[0].reader.format, out.problems) : null;
    if (!doc) continue;
    for (const { channel, reader } of mine) {
      const r = reader.read(doc, path);
      const names = (out.names[channel] ??= []);
      for (const name of r.names) {
        if (!names.includes(name)) names.push(name);
        if (!out.candidates.some((c) => c.channel === channel && c.name === name))
          out.candidates.push({ channel, name, source: path });
      }
      out.more_manifests.push(...(r.more ?? []).filter((m) => !files.has(m)));
    }
  }
  return { ...out, more_manifests: [...new Set(out.more_manifests)].slice(0, MAX_REPO_FILES) };
}
