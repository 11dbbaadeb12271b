/**
 * Asset-name inference for `monitor init` (docs/discovery.md). Pure: release asset names in, templates out.
 * A name becomes a template by replacing the tag or version with `{tag}` / `{version}` and the platform part with
 * `{platform}` (os_arch names: GoReleaser, plasmite SDKs) or `{target}` (Rust target triples: cargo-dist).
 */

export type ChecksumsFound = { file: string } | { sidecar: ".sha256" } | null;

export interface AssetTemplate {
  template: string;
  /** Canonical platform ids (`darwin_arm64`) this template was seen with, sorted. */
  platforms: string[];
}

export interface AssetInference {
  templates: AssetTemplate[];
  /** Union of the templates' platforms, sorted. */
  platforms: string[];
  /** Platform id -> the name the asset uses, only where the two differ (`darwin_amd64` -> `Darwin_x86_64`). */
  platform_names: Record<string, string>;
  checksums: ChecksumsFound;
  /** Python distributions attached to the release (they belong to the pypi channel's check). */
  python_files: string[];
  /** Names that match no template (neither a version nor a platform in them, and not a checksum file). */
  unmatched: string[];
}

const ARCHIVE = /\.(tar\.gz|tar\.xz|tar\.zst|tar\.bz2|tgz|zip)$/;
const CHECKSUM_FILE = /^(?:sha256sums(?:\.txt)?|sha256\.sum|checksums\.txt|.+[_-]checksums\.txt|.+\.sha256sums)$/i;
/** cargo-dist's unified checksum file: beside per-asset sidecars, the sidecars are what is checked. */
const UNIFIED_SUM = /^sha256\.sum$/i;
const SIDECAR = ".sha256";

const OS: Record<string, string> = { darwin: "darwin", macos: "darwin", linux: "linux", windows: "windows" };
const ARCH: Record<string, string> = {
  x86_64: "amd64",
  amd64: "amd64",
  x64: "amd64",
  aarch64: "arm64",
  arm64: "arm64",
  i386: "386",
  i686: "386",
  "386": "386",
  armv7: "armv7",
  armv6: "armv6",
};
const ARCH_ALT = "x86_64|amd64|x64|aarch64|arm64|i386|i686|386|armv7|armv6";
const OS_ARCH = new RegExp(`(?<![A-Za-z0-9])(darwin|macos|linux|windows)[_-](${ARCH_ALT})(?![A-Za-z0-9])`, "i");
const RUST_TARGET =
  /(?<![A-Za-z0-9])(x86_64|aarch64|i686|armv7|arm|riscv64gc|powerpc64le|s390x)-(apple-darwin|unknown-linux-gnu(?:eabihf)?|unknown-linux-musl(?:eabihf)?|pc-windows-msvc|pc-windows-gnu)(?![A-Za-z0-9])/;

/** `linux_amd64` for a gnu Linux or msvc Windows target; the other C libraries get their own os id. */
export function rustTargetPlatform(target: string): string | null {
  const m = RUST_TARGET.exec(target);
  if (!m || m[0] !== target) return null;
  const arch = ARCH[m[1]!] ?? m[1]!.replace(/[^a-z0-9]/g, "");
  const sys = m[2]!;
  const os = sys.startsWith("apple")
    ? "darwin"
    : sys.includes("musl")
      ? "linuxmusl"
      : sys.includes("linux")
        ? "linux"
        : sys.endsWith("gnu")
          ? "windowsgnu"
          : "windows";
  return `${os}_${arch}`;
}

interface Seen {
  template: string;
  platform: string | null;
  raw: string | null;
}

/** Every occurrence of the tag becomes `{tag}`, then every remaining occurrence of the version `{version}`. */
export function escapeVersion(name: string, tag: string, version: string): string {
  const withTag = tag && tag !== version ? name.split(tag).join("{tag}") : name;
  return version ? withTag.split(version).join("{version}") : withTag;
}

function templateOf(name: string, tag: string, version: string): Seen | null {
  const withVersion = escapeVersion(name, tag, version);
  const rust = RUST_TARGET.exec(withVersion);
  if (rust) {
    const platform = rustTargetPlatform(rust[0]);
    if (platform) return { template: withVersion.replace(rust[0], "{target}"), platform, raw: rust[0] };
  }
  const osArch = OS_ARCH.exec(withVersion);
  if (osArch) {
    const platform = `${OS[osArch[1]!.toLowerCase()]}_${ARCH[osArch[2]!.toLowerCase()]}`;
    return { template: withVersion.replace(osArch[0], "{platform}"), platform, raw: osArch[0] };
  }
  if (withVersion !== name && ARCHIVE.test(name)) return { template: withVersion, platform: null, raw: null };
  return null;
}

function findChecksums(names: readonly string[]): { found: ChecksumsFound; used: Set<string> } {
  const sidecars = names.filter((n) => n.endsWith(SIDECAR) && names.includes(n.slice(0, -SIDECAR.length)));
  const file = names.find((n) => CHECKSUM_FILE.test(n) && !(sidecars.length && UNIFIED_SUM.test(n)));
  const used = new Set<string>(sidecars);
  if (file) {
    used.add(file);
    return { found: { file }, used };
  }
  return { found: sidecars.length ? { sidecar: SIDECAR } : null, used };
}

export function inferAssets(names: readonly string[], tag: string, version: string): AssetInference {
  const { found, used } = findChecksums(names);
  const byTemplate = new Map<string, Set<string>>();
  const platformNames: Record<string, string> = {};
  const python_files: string[] = [];
  const unmatched: string[] = [];
  for (const name of names) {
    if (used.has(name)) continue;
    if (name.endsWith(".whl")) {
      python_files.push(name);
      continue;
    }
    const seen = templateOf(name, tag, version);
    if (!seen) {
      unmatched.push(name);
      continue;
    }
    const set = byTemplate.get(seen.template) ?? new Set<string>();
    if (seen.platform) {
      set.add(seen.platform);
      if (seen.raw !== seen.platform) platformNames[seen.platform] = seen.raw!;
    }
    byTemplate.set(seen.template, set);
  }
  // An sdist (`name-1.2.3.tar.gz`) with wheels beside it is a python file, not a release template.
  for (const [template, set] of byTemplate) {
    if (python_files.length && set.size === 0 && /\.tar\.gz$/.test(template)) {
      byTemplate.delete(template);
      python_files.push(...names.filter((n) => escapeVersion(n, tag, version) === template));
    }
  }
  // A sidecar of a file that is no template (cargo-dist's `source.tar.gz.sha256`) is as unmatched as the file.
  const sidecarOfUnmatched = (n: string) => used.has(n) && unmatched.includes(n.slice(0, -SIDECAR.length));
  const unmatchedAll = names.filter((n) => unmatched.includes(n) || sidecarOfUnmatched(n));
  const templates = [...byTemplate].map(([template, set]) => ({ template, platforms: [...set].sort() }));
  templates.sort((a, b) => b.platforms.length - a.platforms.length || a.template.localeCompare(b.template));
  const platforms = [...new Set(templates.flatMap((t) => t.platforms))].sort();
  return {
    templates,
    platforms,
    platform_names: platformNames,
    checksums: found,
    python_files,
    unmatched: unmatchedAll,
  };
}
