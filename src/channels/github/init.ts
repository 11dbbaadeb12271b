import { escapeVersion, type AssetInference } from "../../discover/assets.ts";
import type { ChannelInit } from "../channel.ts";

/** Asset templates the current schema renders: `{platform}` only where it is the canonical id for one set. */
function githubAssets(a: AssetInference): { assets: string[]; platforms: string[] | null } {
  const withPlatform = a.templates.filter((t) => t.platforms.length);
  const sets = new Set(withPlatform.map((t) => t.platforms.join(",")));
  // One platform set: `{platform}` over the ids, spelled by the project's `platform_names` where they differ.
  if (sets.size <= 1) {
    return {
      assets: a.templates.map((t) => t.template.replace("{target}", "{platform}")),
      platforms: withPlatform.length ? withPlatform[0]!.platforms : null,
    };
  }
  const assets = a.templates.flatMap((t) =>
    t.platforms.length
      ? t.platforms.map((p) => t.template.replace(/\{platform\}|\{target\}/, a.platform_names[p] ?? p))
      : [t.template],
  );
  return { assets, platforms: null };
}

/** `monitor init` for the GitHub release: its block comes from the release's asset names, not from a candidate. */
export const githubInit: ChannelInit = {
  block({ release: r }) {
    if (r.assets.templates.length === 0) {
      return {
        block: null,
        notes: [
          `github: release ${r.tag} has no assets; the github channel needs \`assets: []\`, not in this schema yet`,
        ],
      };
    }
    const notes: string[] = [];
    const { assets, platforms } = githubAssets(r.assets);
    const checksums =
      r.assets.checksums && "file" in r.assets.checksums
        ? escapeVersion(r.assets.checksums.file, r.tag, r.version)
        : null;
    if (!platforms && Object.keys(r.assets.platform_names).length) {
      notes.push(`platform names in the assets: ${JSON.stringify(r.assets.platform_names)} (written out per platform)`);
    }
    if (r.assets.checksums && "sidecar" in r.assets.checksums) {
      notes.push("checksums are per-asset .sha256 sidecars, which this schema cannot check yet");
    }
    if (r.assets.unmatched.length) notes.push(`assets matching no template: ${r.assets.unmatched.join(", ")}`);
    return {
      block: { ...(platforms ? { platforms } : {}), assets, checksums },
      notes,
      usesPlatformNames: platforms !== null,
    };
  },
};
