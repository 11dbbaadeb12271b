import type { DownloadedAsset } from "../../probes/types.ts";

// ---------------------------------------------------------------- plan piece

export interface ExpectedAsset {
  name: string;
  platform: string | null;
}

export interface GithubPlan {
  owner: string;
  repo: string;
  /** Expected assets, excluding the checksum file. */
  assets: ExpectedAsset[];
  /** Name of the checksum asset (`sha256sums.txt`), or null when the project publishes none. */
  checksum_file: string | null;
  /** `checksums: { sidecar }`: each expected asset's checksum is in `<asset><suffix>` (absent otherwise). */
  checksum_sidecar?: string;
  /** `extra_assets`, rendered: names (`*` matches any run of characters) the release may carry; never required. */
  extra_assets?: string[];
  /** Hosts asset downloads may redirect to (GitHub's 302 goes to a separate download host). */
  download_hosts: string[];
}

// ---------------------------------------------------------------- observation

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

/** One asset's sidecar (`<asset>.sha256`) as read: its sha256, or why it gave none. */
export type SidecarRead =
  /** `sha256` as written (bare hex, or the hex of a `<hex>  <name>` / `<hex> *<name>` line). */
  | { name: string; state: "read"; sha256: string; named: string | null }
  /** The text is not a sha256 line (first line shown, truncated). */
  | { name: string; state: "invalid"; text: string }
  /** Not on the release (or not uploaded). */
  | { name: string; state: "missing" }
  /** Could not be read (HTTP status, network error): could not tell. */
  | { name: string; state: "unreadable"; error: string };

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
  /** Sidecar mode only: each expected asset's sidecar, by the asset's name (absent in checksum-file mode). */
  sidecars?: Record<string, SidecarRead>;
  /** `assets: []` with `checksums: null` only: false, no attached file is this channel's to judge. */
  assets_judged?: false;
  /** `extra_assets` only: the attached files its patterns matched (allowed, not judged), in release order. */
  extra_assets?: string[];
}
