import type { ChannelId } from "../channels.ts";
import type { HttpClient } from "../http/client.ts";
import type { Evidence } from "../http/evidence.ts";
import type { Logger } from "../log.ts";
import type { ReleasePlan } from "../plan/types.ts";
import type { Octokit } from "@octokit/rest";
import type { NpmrcView } from "../config/npmrc.ts";

/** Registry base URLs (no trailing slash, except npmRegistry which ends with "/"). */
export interface ProbeEndpoints {
  githubApi: string;
  cratesApi: string;
  cratesIndex: string;
  /** settings.npm.registry (or the sim's): wins for unscoped packages; null lets npm's configuration decide. */
  npmRegistry: string | null;
  /** npm's own configuration (.npmrc files, npm_config_* variables); absent for the sim. */
  npmrc?: (() => Promise<NpmrcView>) | null;
  /** settings.npm.token: sent to the package's registry only. */
  npmToken?: string | null;
  pypi: string;
}

export interface ProbeContext {
  endpoints: ProbeEndpoints;
  /** HTTP client whose exchanges are recorded as this channel's evidence. */
  http: HttpClient;
  /** Octokit over `http` (same agent, retries, evidence). */
  octokit: Octokit;
  log: Logger;
  signal: AbortSignal;
  /** `--deep`: download every artifact and hash it. */
  deep: boolean;
}

/**
 * A probe asks one channel what it has and returns raw observations; it never judges.
 * "Not found" is data (a null / `found: false` field). A probe throws only when it could not tell
 * (timeout, 5xx, malformed body); the runner turns that into status `unknown` with a `probe-failed` finding.
 */
export interface Probe<O extends ChannelObservation = ChannelObservation> {
  readonly channel: O["channel"];
  observe(plan: ReleasePlan, ctx: ProbeContext): Promise<O>;
}

// ---------------------------------------------------------------- GitHub

export interface GithubAsset {
  id: number;
  name: string;
  size: number;
  state: string;
  /** `sha256:<hex>` or null when GitHub has not computed one (assets uploaded before mid-2025). */
  digest: string | null;
  browser_download_url: string;
  url: string;
  content_type: string | null;
  created_at: string | null;
  updated_at: string | null;
}

export interface GithubRelease {
  id: number;
  tag_name: string;
  name: string | null;
  draft: boolean;
  prerelease: boolean;
  immutable: boolean | null;
  created_at: string | null;
  published_at: string | null;
  html_url: string;
  target_commitish: string | null;
  assets: GithubAsset[];
}

export interface ChecksumEntry {
  name: string;
  sha256: string;
}

export interface ChecksumFile {
  name: string;
  entries: ChecksumEntry[];
  /** Lines that are neither blank nor `<64 hex>  <name>`. */
  invalid_lines: { line: number; text: string }[];
}

export interface DownloadedAsset {
  sha256: string;
  bytes: number;
}

export interface GithubObservation {
  channel: "github";
  repo: string;
  tag: {
    name: string;
    exists: boolean;
    /** `tag` for annotated tags (peeled), `commit` for lightweight ones. */
    object_type: "commit" | "tag" | null;
    commit_sha: string | null;
  };
  /** null when GitHub has no published release for the tag (404). */
  release: GithubRelease | null;
  /** Tag of `releases/latest`, null when the repository has no full release. */
  latest_release_tag: string | null;
  /** null when the checksum asset is absent; a parse of its text otherwise. */
  checksums: ChecksumFile | null;
  /** `--deep` only: hashes of downloaded asset bytes, by asset name. */
  downloads: Record<string, DownloadedAsset> | null;
}

// ---------------------------------------------------------------- crates.io

export interface CratesIndexEntry {
  vers: string;
  cksum: string;
  yanked: boolean;
  pubtime: string | null;
}

export interface CratesObservation {
  channel: "crates";
  crate: string;
  /** `GET /api/v1/crates/{name}/{version}`; null when crates.io answers 404. */
  api_version: {
    num: string;
    checksum: string;
    yanked: boolean;
    yank_message: string | null;
    created_at: string | null;
  } | null;
  /** Sparse index lines; `found: false` when the index has no file for the crate. */
  index: { found: boolean; entries: CratesIndexEntry[] };
  /** `--deep`: sha256 of the downloaded .crate file. */
  download: DownloadedAsset | null;
}

// ---------------------------------------------------------------- npm

export interface NpmVersionDoc {
  version: string;
  deprecated: string | null;
  integrity: string | null;
  shasum: string | null;
  tarball: string | null;
}

export interface NpmObservation {
  channel: "npm";
  package: string;
  /** The registry that answered (no credentials), ends with "/". */
  registry: string;
  /** false when the packument answers 404; null when it could not be read (over the size cap, 5xx) */
  packument_found: boolean | null;
  /** From the packument, else `/-/package/{name}/dist-tags`; empty when neither answered. */
  dist_tags: Record<string, string>;
  versions: string[];
  /** Deprecation message per version, from the packument. */
  deprecated: Record<string, string>;
  /** The version document: from `/{name}/{version}` (fresh), falling back to the packument entry. */
  version_doc: NpmVersionDoc | null;
  /** Where `version_doc` came from: the fresh version endpoint, or the (CDN-cached) packument. */
  version_doc_source: "version-endpoint" | "packument" | null;
  /** The package, or this version, was unpublished (`time.unpublished`, or listed in `time` but not in `versions`). */
  unpublished: { scope: "package" | "version"; at: string | null } | null;
  /** Why the packument could not be read, when it could not (the version document answered alone). */
  packument_error: string | null;
  /** `--deep`: hashes of the downloaded tarball. */
  download: { sha512_base64: string; sha1_hex: string; bytes: number } | null;
}

// ---------------------------------------------------------------- PyPI

export interface PypiFile {
  filename: string;
  packagetype: string;
  sha256: string | null;
  size: number | null;
  yanked: boolean;
  yanked_reason: string | null;
  upload_time: string | null;
  url: string | null;
}

export interface PypiObservation {
  channel: "pypi";
  project: string;
  /** The project name PyPI answered under (after following a 301 to the normalized name). */
  normalized_name: string | null;
  project_found: boolean;
  /** `info.version` of the project JSON: PyPI's own "latest". */
  latest_version: string | null;
  /** Every version PyPI lists, with yanked flag derived from its files. */
  versions: { version: string; yanked: boolean }[];
  /** `/pypi/{p}/{v}/json`; null on 404. */
  release: { version: string; yanked: boolean; yanked_reason: string | null; files: PypiFile[] } | null;
  /** `--deep`: sha256 of downloaded files by filename. */
  downloads: Record<string, DownloadedAsset> | null;
  /**
   * What the probe saw but did not count, e.g. `/pypi/{p}/0.8/json` answering release 0.8.0 (PEP 440 canonical
   * lookup): `release` is then null and the note names the version PyPI returned.
   */
  notes?: string[];
}

// ---------------------------------------------------------------- Homebrew

export interface FormulaContext {
  os: "macos" | "linux" | null;
  cpu: "arm" | "intel" | null;
}

export interface FormulaArtifact {
  url: string;
  /** The url with `#{version}` substituted. */
  resolved_url: string;
  /** Raw sha256 argument; may be a placeholder such as PLACEHOLDER_LINUX_ARM64_SHA256. */
  sha256: string | null;
  context: FormulaContext;
  line: number;
}

export interface ParsedFormula {
  kind: "formula" | "cask";
  class_name: string | null;
  version: string | null;
  artifacts: FormulaArtifact[];
  /** Platforms the formula refuses with `odie`. */
  unsupported: FormulaContext[];
  warnings: string[];
}

export interface HomebrewObservation {
  channel: "homebrew";
  tap: string;
  path: string;
  ref: string;
  found: boolean;
  formula: ParsedFormula | null;
}

export type ChannelObservation =
  GithubObservation | CratesObservation | NpmObservation | PypiObservation | HomebrewObservation;

export type ObservationOf<C extends ChannelId> = Extract<ChannelObservation, { channel: C }>;

/** What the runner hands to drift for one channel. */
export interface ChannelProbeResult<C extends ChannelId = ChannelId> {
  channel: C;
  /** null when the channel is not configured (skipped) or the probe failed. */
  observation: ObservationOf<C> | null;
  error: { code: string; message: string } | null;
  evidence: Evidence[];
  duration_ms: number;
}
