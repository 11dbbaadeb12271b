import type { DownloadedAsset } from "../../probes/types.ts";

// ---------------------------------------------------------------- plan piece

export interface ExpectedPypiFile {
  kind: "sdist" | "wheel";
  /** Filename glob; `*` matches any run of characters except `/`. */
  pattern: string;
  platform: string | null;
}

export interface PypiPlan {
  project: string;
  files: ExpectedPypiFile[];
}

// ---------------------------------------------------------------- observation

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
