import type { DownloadedAsset } from "../../probes/types.ts";

// ---------------------------------------------------------------- plan piece

export interface CratesPlan {
  crate: string;
}

// ---------------------------------------------------------------- observation

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
  /**
   * The document came from the process-wide queue's cache (api-queue.ts): its checksum and created_at are as
   * published, its yank state may be stale and is not compared.
   */
  api_cached: boolean;
  /**
   * Why the API answer is missing: the run's deadline came first (`deadline`), or crates.io refused or failed. Null
   * when it arrived. `queued` (daemon only, with `deadline`): the request waits in the process-wide queue and the
   * daemon completes the report when it arrives.
   */
  api_pending: { reason: string; deadline: boolean; queued?: boolean } | null;
  /** Sparse index lines; `found: false` when the index has no file for the crate. */
  index: { found: boolean; entries: CratesIndexEntry[] };
  /** `--deep`: sha256 of the downloaded .crate file. */
  download: DownloadedAsset | null;
}
