import semver from "semver";

/** Semver-aware ordering that tolerates non-semver strings (numeric segment comparison). */
export function compareVersions(a: string, b: string): number {
  const sa = semver.valid(a, { loose: true });
  const sb = semver.valid(b, { loose: true });
  if (sa && sb) return semver.compare(sa, sb, { loose: true });
  const pa = a
    .split(/[^0-9]+/)
    .filter(Boolean)
    .map(Number);
  const pb = b
    .split(/[^0-9]+/)
    .filter(Boolean)
    .map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

/** True for semver pre-releases and PEP 440 a/b/rc/dev versions. */
export function isPrerelease(version: string): boolean {
  if (semver.valid(version, { loose: true })) return semver.prerelease(version, { loose: true }) !== null;
  return /\d(a|b|rc|c|alpha|beta|pre|preview|dev)\d*/i.test(version) || /\.dev\d*/i.test(version);
}

/** PEP 503 name normalization: runs of `-`, `_`, `.` become one `-`, lower-cased. */
export function pep503(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

/** Our semver-ish version spelled the way a Python build would publish it (`0.9.0-rc.1` -> `0.9.0rc1`). */
export function toPep440(version: string): string {
  const m = /^(\d+(?:\.\d+)*)(?:-(alpha|a|beta|b|rc|c|dev)\.?(\d*))?(?:\+.*)?$/i.exec(version);
  if (!m) return version;
  const [, release, kind, num] = m;
  if (!kind) return release ?? version;
  const tag = ({ alpha: "a", a: "a", beta: "b", b: "b", rc: "rc", c: "rc", dev: ".dev" } as Record<string, string>)[
    kind.toLowerCase()
  ];
  return `${release}${tag ?? kind}${num || "0"}`;
}

/** `canonicalize_version` (packaging): lower-case, no leading `v`, trailing `.0` release segments stripped. */
export function pep440Canonical(version: string): string {
  let v = version.trim().toLowerCase().replace(/^v/, "");
  const m = /^(\d+(?:\.\d+)*)(.*)$/.exec(v);
  if (m) {
    const parts = (m[1] ?? "").split(".").map((p) => String(Number(p)));
    while (parts.length > 1 && parts[parts.length - 1] === "0") parts.pop();
    v = parts.join(".") + (m[2] ?? "");
  }
  return v;
}
