import semver from "semver";

/** A semver, tolerating a leading `v` and build metadata; null when the text is not semver at all. */
export function parseVersion(text: string): semver.SemVer | null {
  return semver.parse(text.trim().replace(/^v(?=\d)/i, ""), { loose: true });
}

/** semver order of two versions (build metadata ignored); null when either is not semver. */
export function compareVersions(a: string, b: string): number | null {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  return pa && pb ? semver.compare(pa, pb) : null;
}

/** Same version: identical text, or semver-equal (so `0.8.0+build.1` is `0.8.0`). */
export function sameVersion(a: string, b: string): boolean {
  return a === b || compareVersions(a, b) === 0;
}

/**
 * How to weigh "the channel's latest is not our version": when the latest is older (or absent, or not
 * comparable) the channel may just not have caught up yet (`lag`); when it is newer, waiting will not help.
 */
export function latestGap(latest: string | null, version: string): "lag" | "newer" {
  if (latest === null) return "lag";
  const order = compareVersions(latest, version);
  return order !== null && order > 0 ? "newer" : "lag";
}

/**
 * Highest version in a list, by semver. Prereleases count only when `version` is itself a prerelease
 * (a stable release should be the newest stable one). Non-semver entries are ignored.
 */
export function maxVersion(versions: readonly string[], version: string): string | null {
  const allowPre = (parseVersion(version)?.prerelease.length ?? 0) > 0;
  let best: { text: string; v: semver.SemVer } | null = null;
  for (const text of versions) {
    const v = parseVersion(text);
    if (!v) continue;
    if (v.prerelease.length > 0 && !allowPre) continue;
    if (!best || semver.compare(v, best.v) > 0) best = { text, v };
  }
  return best?.text ?? null;
}
