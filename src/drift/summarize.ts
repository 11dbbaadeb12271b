import type {
  ChannelObservation,
  CratesObservation,
  FormulaContext,
  GithubObservation,
  HomebrewObservation,
  NpmObservation,
  PypiObservation,
} from "../probes/types.ts";
import { maxVersion } from "./versions.ts";

/** report@1 `observed` for GitHub. */
export interface GithubObserved {
  repo: string;
  tag: string;
  tag_exists: boolean;
  commit: string | null;
  release: { draft: boolean; prerelease: boolean; published_at: string | null; html_url: string } | null;
  assets: { name: string; size: number; state: string; digest: string | null }[];
  checksums: { name: string; entries: { name: string; sha256: string }[]; invalid_lines: number } | null;
  latest: string | null;
  /** `--deep` only: sha256 of the downloaded bytes by asset name. */
  downloads: Record<string, string> | null;
}

/** report@1 `observed` for crates.io. */
export interface CratesObserved {
  crate: string;
  /** Version the API answered for, null on 404. */
  version: string | null;
  checksum: string | null;
  yanked: boolean | null;
  yank_message: string | null;
  index: { found: boolean; versions: number; latest: string | null };
  download_sha256: string | null;
}

/** report@1 `observed` for npm. */
export interface NpmObserved {
  package: string;
  /** The registry that answered (no credentials). */
  registry: string;
  /** null when the packument could not be read (the version document answered alone). */
  found: boolean | null;
  latest: string | null;
  version: string | null;
  version_present: boolean;
  integrity: string | null;
  shasum: string | null;
  tarball: string | null;
  deprecated: string | null;
  download: { sha512: string; sha1: string } | null;
}

/** report@1 `observed` for PyPI. */
export interface PypiObserved {
  project: string;
  found: boolean;
  latest: string | null;
  version: string | null;
  yanked: boolean | null;
  yanked_reason: string | null;
  files: { filename: string; packagetype: string; sha256: string | null; yanked: boolean }[];
  /** Probe notes (what it saw but did not count); present only when there are some. */
  notes?: string[];
}

/** report@1 `observed` for Homebrew. */
export interface HomebrewObserved {
  tap: string;
  path: string;
  ref: string;
  found: boolean;
  version: string | null;
  artifacts: { platform: string; url: string; sha256: string | null }[];
  unsupported: string[];
}

/** Drop query string, fragment and credentials from a URL we put in a report. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString();
  } catch {
    return url.replace(/[?#].*$/, "");
  }
}

/** `macos/arm`, `linux` (any CPU), `any`. */
export function contextLabel(ctx: FormulaContext): string {
  if (ctx.os === null && ctx.cpu === null) return "any";
  return [ctx.os ?? "any", ctx.cpu].filter((p) => p !== null).join("/");
}

function github(o: GithubObservation): GithubObserved {
  const r = o.release;
  return {
    repo: o.repo,
    tag: o.tag.name,
    tag_exists: o.tag.exists,
    commit: o.tag.commit_sha,
    release: r
      ? { draft: r.draft, prerelease: r.prerelease, published_at: r.published_at, html_url: publicUrl(r.html_url) }
      : null,
    assets: (r?.assets ?? []).map((a) => ({ name: a.name, size: a.size, state: a.state, digest: a.digest })),
    checksums: o.checksums
      ? {
          name: o.checksums.name,
          entries: o.checksums.entries.map((e) => ({ name: e.name, sha256: e.sha256 })),
          invalid_lines: o.checksums.invalid_lines.length,
        }
      : null,
    latest: o.latest_release_tag,
    downloads: o.downloads
      ? Object.fromEntries(Object.entries(o.downloads).map(([name, d]) => [name, d.sha256] as const))
      : null,
  };
}

function crates(o: CratesObservation): CratesObserved {
  const api = o.api_version;
  const live = o.index.entries.filter((e) => !e.yanked).map((e) => e.vers);
  return {
    crate: o.crate,
    version: api?.num ?? null,
    checksum: api?.checksum ?? null,
    yanked: api ? api.yanked : null,
    yank_message: api?.yank_message ?? null,
    index: { found: o.index.found, versions: o.index.entries.length, latest: maxVersion(live, "0.0.0") },
    download_sha256: o.download?.sha256 ?? null,
  };
}

function npm(o: NpmObservation): NpmObserved {
  const doc = o.version_doc;
  return {
    package: o.package,
    registry: o.registry,
    found: o.packument_found,
    latest: o.dist_tags["latest"] ?? null,
    version: doc?.version ?? null,
    version_present: doc !== null,
    integrity: doc?.integrity ?? null,
    shasum: doc?.shasum ?? null,
    tarball: doc?.tarball ? publicUrl(doc.tarball) : null,
    deprecated: doc
      ? o.version_doc_source === "version-endpoint"
        ? doc.deprecated
        : (doc.deprecated ?? o.deprecated[doc.version] ?? null)
      : null,
    download: o.download ? { sha512: o.download.sha512_base64, sha1: o.download.sha1_hex } : null,
  };
}

function pypi(o: PypiObservation): PypiObserved {
  const r = o.release;
  return {
    project: o.normalized_name ?? o.project,
    found: o.project_found,
    latest: o.latest_version,
    version: r?.version ?? null,
    yanked: r ? r.yanked : null,
    yanked_reason: r?.yanked_reason ?? null,
    files: (r?.files ?? []).map((f) => ({
      filename: f.filename,
      packagetype: f.packagetype,
      sha256: f.sha256,
      yanked: f.yanked,
    })),
    ...(o.notes && o.notes.length > 0 ? { notes: [...o.notes] } : {}),
  };
}

function homebrew(o: HomebrewObservation): HomebrewObserved {
  const f = o.formula;
  return {
    tap: o.tap,
    path: o.path,
    ref: o.ref,
    found: o.found && f !== null,
    version: f?.version ?? null,
    artifacts: (f?.artifacts ?? []).map((a) => ({
      platform: contextLabel(a.context),
      url: publicUrl(a.resolved_url),
      sha256: a.sha256,
    })),
    unsupported: (f?.unsupported ?? []).map(contextLabel),
  };
}

/** report@1 `observed`: a compact, per-channel account of what the channel says (no judging). */
export function summarizeObservation(obs: ChannelObservation): Record<string, unknown> {
  switch (obs.channel) {
    case "github":
      return { ...github(obs) };
    case "crates":
      return { ...crates(obs) };
    case "npm":
      return { ...npm(obs) };
    case "pypi":
      return { ...pypi(obs) };
    case "homebrew":
      return { ...homebrew(obs) };
  }
}
