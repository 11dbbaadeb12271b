/**
 * Summary of a V8 `.cpuprofile` (node --cpu-prof) by module: self time per owner (a package under node_modules,
 * a folder under src/, `node:` internals, GC, idle, program), largest first. What docs/benchmarks.md quotes when a
 * target misses.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
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

export function summarizeProfile(profile: CpuProfile): { total_ms: number; by_module: ModuleShare[] } {
  const owner = new Map<number, string>();
  for (const n of profile.nodes) owner.set(n.id, ownerOf(n));
  const us = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const d = profile.timeDeltas[i] ?? 0;
    total += d;
    const o = owner.get(id) ?? "?";
    us.set(o, (us.get(o) ?? 0) + d);
  });
  const by_module = [...us]
    .map(([o, t]) => ({ owner: o, ms: Math.round(t / 1000), share: Math.round((t / Math.max(1, total)) * 1000) / 10 }))
    .sort((a, b) => b.ms - a.ms);
  return { total_ms: Math.round(total / 1000), by_module };
}

/** The profiles node wrote into `dir` (one per process), summarized together. */
export function summarizeProfileDir(dir: string, top = 15): { total_ms: number; by_module: ModuleShare[] } | null {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) return null;
  const merged = new Map<string, number>();
  let total = 0;
  for (const f of files) {
    const s = summarizeProfile(JSON.parse(readFileSync(join(dir, f), "utf8")) as CpuProfile);
    total += s.total_ms;
    for (const m of s.by_module) merged.set(m.owner, (merged.get(m.owner) ?? 0) + m.ms);
  }
  const by_module = [...merged]
    .map(([owner, ms]) => ({ owner, ms, share: Math.round((ms / Math.max(1, total)) * 1000) / 10 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
  return { total_ms: total, by_module };
}
