/** The parts of each registry document the sim tests read (responses are parsed into these, extras ignored). */

export interface GhAsset {
  id: number;
  name: string;
  size: number;
  digest: string | null;
  url: string;
  browser_download_url: string;
  content_type: string;
  state: string;
}

export interface GhRelease {
  id: number;
  tag_name: string;
  draft: boolean;
  prerelease: boolean;
  immutable: boolean;
  upload_url: string;
  published_at: string | null;
  assets: GhAsset[];
}

export interface GhError {
  message: string;
  documentation_url?: string;
  status?: string;
}

export interface GhRef {
  ref: string;
  object: { type: string; sha: string; url: string };
}

export interface GhTagObject {
  tag: string;
  object: { type: string; sha: string };
}

export interface GhTag {
  name: string;
  commit: { sha: string };
}

export interface GhContent {
  name: string;
  type: string;
  encoding?: string;
  content?: string;
}

export interface GhRateLimit {
  resources: { core: { limit: number; remaining: number } };
  rate: { remaining: number };
}

export interface CratesErrors {
  errors: { detail: string }[];
}

export interface CratesVersionDoc {
  num: string;
  crate: string;
  yanked: boolean;
  yank_message: string | null;
  dl_path: string;
  created_at: string;
  checksum: string;
  crate_size: number;
  audit_actions: { action: string }[];
}

export interface CratesCrateDoc {
  crate: {
    name: string;
    default_version: string | null;
    max_version: string;
    max_stable_version: string | null;
    newest_version: string;
    num_versions: number;
  };
  versions: CratesVersionDoc[] | null;
}

export interface IndexLine {
  name: string;
  vers: string;
  cksum: string;
  yanked: boolean;
  pubtime?: string;
}

export interface NpmDist {
  integrity: string;
  shasum: string;
  tarball: string;
  fileCount: number;
  unpackedSize: number;
  signatures: { keyid: string; sig: string }[];
}

export interface NpmVersionDoc {
  _id: string;
  name: string;
  version: string;
  deprecated?: string;
  dist: NpmDist;
}

export interface NpmPackument {
  name: string;
  "dist-tags": Record<string, string>;
  versions: Record<string, NpmVersionDoc>;
  time: Record<string, string>;
}

export interface PypiFileDoc {
  filename: string;
  packagetype: string;
  python_version: string;
  url: string;
  size: number;
  upload_time: string;
  downloads: number;
  yanked: boolean;
  yanked_reason: string | null;
  digests: { sha256: string; md5: string; blake2b_256: string };
}

export interface PypiDoc {
  info: { name: string; version: string; yanked: boolean; yanked_reason: string | null };
  last_serial: number;
  releases?: Record<string, PypiFileDoc[]>;
  urls: PypiFileDoc[];
}
