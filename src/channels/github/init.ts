import { escapeVersion, type AssetInference } from "../../discover/assets.ts";
import type { ChannelInit } from "../channel.ts";

/** Asset templates the current schema renders: `{platform}` only where it is the canonical id for one set. */
function githubAssets(a: AssetInference): { assets: string[]; platforms: string[] | null } {
  const withPlatform = a.templates.filter((t) => t.platforms.length);
  const sets = new Set(withPlatform.map((t) => t.platforms.join(",")));
  // One platform set: `{platform}` (`{target}` for Rust target triples) over the ids, spelled by the project's
  // `platform_names` where they differ.
  if (sets.size <= 1) {
    return {
      assets: a.templates.map((t) => t.template),
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

/** `one sdist and 3 wheels`. */
function pythonFiles(names: readonly string[]): string {
  const wheels = names.filter((n) => n.endsWith(".whl")).length;
  const sdists = names.length - wheels;
  const count = (n: number, what: string) => (n === 0 ? null : n === 1 ? `one ${what}` : `${n} ${what}s`);
  return [count(sdists, "sdist"), count(wheels, "wheel")].filter((x) => x !== null).join(" and ");
}

/** `monitor init` for the GitHub release: its block comes from the release's asset names, not from a candidate. */
export const githubInit: ChannelInit = {
  block({ release: r }) {
    if (r.assets.templates.length === 0) {
      // A release without assets of its own: the github channel checks the tag and the release only.
      const py = r.assets.python_files;
      const notes = [
        py.length
          ? `release ${r.tag} carries only Python files (${pythonFiles(py)}): the pypi channel compares them with PyPI's copies`
          : `release ${r.tag} has no assets: only the tag and the release are checked`,
      ];
      if (r.assets.unmatched.length) notes.push(`assets matching no template: ${r.assets.unmatched.join(", ")}`);
      return { block: { assets: [], checksums: null }, notes };
    }
    const notes: string[] = [];
    const { assets, platforms } = githubAssets(r.assets);
    const found = r.assets.checksums;
    const checksums =
      found && "file" in found
        ? escapeVersion(found.file, r.tag, r.version)
        : found
          ? { sidecar: found.sidecar }
          : null;
    if (!platforms && Object.keys(r.assets.platform_names).length) {
      notes.push(`platform names in the assets: ${JSON.stringify(r.assets.platform_names)} (written out per platform)`);
    }
    if (found && "sidecar" in found) {
      notes.push(`checksums: a ${found.sidecar} sidecar beside each asset (cargo-dist), checked against it`);
    }
    const extra = [...new Set(r.assets.unmatched.map((n) => escapeVersion(n, r.tag, r.version)))];
    if (extra.length) {
      notes.push("extra_assets: files the release carried that match no template (allowed, not required)");
    }
    return {
      block: {
        ...(platforms ? { platforms } : {}),
        assets,
        checksums,
        ...(extra.length ? { extra_assets: extra } : {}),
      },
      notes,
      usesPlatformNames: platforms !== null,
    };
  },
};
