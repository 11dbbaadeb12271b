/**
 * Summary of a V8 `.cpuprofile` (node --cpu-prof) by module: self time per owner (a package under node_modules,
 * a folder under src/, `node:` internals, GC, idle, program), largest first. What docs/benchmarks.md quotes when a
 * target misses.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ModuleShare {
  owner: string;
  ms: number;
  share: number;
}

function ownerOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (url === "") {
    if (functionName === "(garbage collector)") return "(gc)";
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(program)") return "(program: V8, native, not attributed)";
    return `(native: ${functionName || "anonymous"})`;
  }
  if (url.startsWith("node:")) return "node: internals";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url);
  }
  const src = /\/(src|bench|dist)\/(.*)$/.exec(url);
  if (src) {
    const parts = (src[2] ?? "").split("/");
    return parts.length > 1
      ? `${src[1]}/${parts[0]}/${parts.length > 2 ? `${parts[1]}/` : ""}`
      : `${src[1]}/${parts[0]}`;
  }
  return url;
}

/** A function as `name (owner:line)`: the module owner, so two same-named functions stay apart. */
function functionOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (url === "") return ownerOf(node);
  const file = /\/(src|bench|dist|node_modules)\/(.*)$/.exec(url)?.[0].slice(1) ?? url;
  return `${functionName || "(anonymous)"} (${file}:${(lineNumber ?? 0) + 1})`;
}

export interface ProfileSummary {
  total_ms: number;
  by_module: ModuleShare[];
  /** Self time by function, largest first: where a module's share is spent. */
  by_function: ModuleShare[];
}

function shares(us: Map<string, number>, total: number): ModuleShare[] {
  return [...us]
    .map(([o, t]) => ({ owner: o, ms: Math.round(t / 1000), share: Math.round((t / Math.max(1, total)) * 1000) / 10 }))
    .sort((a, b) => b.ms - a.ms);
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const owner = new Map<number, string>();
  const fn = new Map<number, string>();
  for (const n of profile.nodes) {
    owner.set(n.id, ownerOf(n));
    fn.set(n.id, functionOf(n));
  }
  const byOwner = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const d = profile.timeDeltas[i] ?? 0;
    total += d;
    const o = owner.get(id) ?? "?";
    byOwner.set(o, (byOwner.get(o) ?? 0) + d);
    const f = fn.get(id) ?? "?";
    byFn.set(f, (byFn.get(f) ?? 0) + d);
  });
  return { total_ms: Math.round(total / 1000), by_module: shares(byOwner, total), by_function: shares(byFn, total) };
}

/** The profiles node wrote into `dir` (one per process), summarized together. */
export function summarizeProfileDir(dir: string, top = 15): ProfileSummary | null {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) return null;
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const f of files) {
    const s = summarizeProfile(JSON.parse(readFileSync(join(dir, f), "utf8")) as CpuProfile);
    total += s.total_ms;
    for (const m of s.by_module) modules.set(m.owner, (modules.get(m.owner) ?? 0) + m.ms);
    for (const m of s.by_function) functions.set(m.owner, (functions.get(m.owner) ?? 0) + m.ms);
  }
  const merged = (m: Map<string, number>) =>
    [...m]
      .map(([owner, ms]) => ({ owner, ms, share: Math.round((ms / Math.max(1, total)) * 1000) / 10 }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top);
  return { total_ms: total, by_module: merged(modules), by_function: merged(functions) };
}
