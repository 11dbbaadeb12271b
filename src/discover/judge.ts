import { DEFAULT_REGISTRY, type ChannelRegistry } from "../channels/registry.ts";

/**
 * Candidate judgement for `monitor init` (docs/discovery.md). Pure: candidates and what each registry answered
 * in, kept / rejected / could-not-verify channels and grace windows out. A registry that could not tell keeps
 * its candidate (never silently dropped); only a definite "does not hold this version" rejects one.
 */

/** A channel id whose `monitor init` discovery found a candidate (any channel with a `discover` piece). */
export type RegistryChannel = string;

export interface Candidate {
  channel: RegistryChannel;
  /** Crate, npm package, PyPI project, or `tap:path` for homebrew. */
  name: string;
  /** Where the name came from (`Cargo.toml`, `bindings/node/package.json`, `tap sandover/homebrew-tap`). */
  source: string;
}

export type RegistryAnswer =
  | { status: "holds"; version: string; published_at: string | null }
  | { status: "missing"; reason: string }
  | { status: "unknown"; reason: string };

export interface KeptChannel extends Candidate {
  /** Set when the registry could not tell: the config keeps the channel with a `# could not verify` comment. */
  could_not_verify: string | null;
}

export interface Judgement {
  kept: KeptChannel[];
  rejected: (Candidate & { reason: string })[];
  /** Per kept channel, a duration string for the config's grace block. `derived` says where it came from. */
  grace: Record<RegistryChannel, { value: string; derived: boolean }>;
}

/** The key `answers` is indexed by: `crates:plasmite`. */
export function candidateKey(c: Pick<Candidate, "channel" | "name">): string {
  return `${c.channel}:${c.name}`;
}

/** Observed lag times this, rounded up to whole minutes, is the window; never below 5m nor above 30d. */
const GRACE_FACTOR = 2;
const MIN_GRACE_MIN = 5;
const MAX_GRACE_MIN = 30 * 24 * 60;

export function graceFromLag(lagMs: number): string {
  const minutes = Math.ceil((Math.max(0, lagMs) * GRACE_FACTOR) / 60_000);
  return `${Math.min(MAX_GRACE_MIN, Math.max(MIN_GRACE_MIN, minutes))}m`;
}

export function judgeCandidates(
  candidates: readonly Candidate[],
  answers: ReadonlyMap<string, RegistryAnswer>,
  release: { version: string; published_at: string | null },
  registry: ChannelRegistry = DEFAULT_REGISTRY,
): Judgement {
  const out: Judgement = { kept: [], rejected: [], grace: {} };
  const keptChannels = new Set<RegistryChannel>();
  for (const c of candidates) {
    const a = answers.get(candidateKey(c)) ?? { status: "unknown", reason: "no answer" };
    if (keptChannels.has(c.channel)) {
      out.rejected.push({ ...c, reason: `another ${c.channel} candidate was kept first` });
    } else if (a.status === "missing") {
      out.rejected.push({ ...c, reason: a.reason });
    } else if (a.status === "holds" && a.version !== release.version) {
      out.rejected.push({ ...c, reason: `holds ${a.version}, not ${release.version}` });
    } else {
      keptChannels.add(c.channel);
      out.kept.push({ ...c, could_not_verify: a.status === "unknown" ? a.reason : null });
      out.grace[c.channel] = graceFor(registry.get(c.channel)?.defaultGrace ?? "0", a, release.published_at);
    }
  }
  return out;
}

function graceFor(
  defaultGrace: string,
  a: RegistryAnswer,
  releasedAt: string | null,
): { value: string; derived: boolean } {
  const start = releasedAt ? Date.parse(releasedAt) : NaN;
  const seen = a.status === "holds" && a.published_at ? Date.parse(a.published_at) : NaN;
  if (Number.isFinite(start) && Number.isFinite(seen)) return { value: graceFromLag(seen - start), derived: true };
  return { value: defaultGrace, derived: false };
}
