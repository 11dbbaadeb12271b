/** What the bench sim-server child accepts and answers (bench/sim-server.ts). */
import type { ServiceName, SimUrls } from "../../src/sim/index.ts";

export type WorldSpec =
  /** plasmite as the scenarios describe it: 0.7.2 and 0.8.0 clean on all five channels. */
  | { kind: "plasmite" }
  /** One project `big` with one GitHub asset of `assetBytes` (streamed, generated on the fly) + sha256sums.txt. */
  | { kind: "deep"; assetBytes: number }
  /** `projects` projects p0000… with all five channels, one release each. */
  | { kind: "scale"; projects: number };

export interface SimServerOptions {
  world: WorldSpec;
  latencyMs: number;
  /** The GitHub API accepts only this token (and bills it); null: anonymous. */
  token: string | null;
  /** Request log length (needed to check crates.io API spacing over a whole cycle). */
  logLimit?: number;
  /** Authenticated GitHub primary quota per hour (default 5000, a personal access token). */
  githubRateLimit?: number;
}

export interface SimServerReady {
  overlay: Record<string, unknown>;
  urls: SimUrls;
  /** Base URL of the control API. */
  control: string;
  setup_ms: number;
  /** Attestation bundles signed before the clock (scale worlds; bench/sim-server.ts). */
  prewarmed_bundles: number;
  pid: number;
}

export interface SimStatsSnapshot {
  services: Record<ServiceName, { requests: number; not_modified: number; by_status: Record<string, number> }>;
  total: number;
  github_billable: number;
  peak_concurrency: Record<ServiceName, number>;
  crates_api_spacing: {
    requests: number;
    /** False when the request log was too short to hold every crates API request. */
    logged: boolean;
    min_gap_ms: number | null;
    under_1s: number;
  };
  /**
   * The GitHub API's time per request as the sim served it (arrival to the end of the answer: the latency, the sim's
   * timer and event loop); null when the request log did not hold every GitHub request.
   */
  github_api_time_ms: { total: number; mean: number; p50: number; p99: number } | null;
  /** 403/429 answers of the GitHub API (primary or secondary rate limit). */
  github_rate_limited: number;
  /** Handler exceptions in the sim (sim bugs). */
  sim_errors: number;
  /** CPU time of the sim process since the counters were reset (user + system): its share of a busy machine. */
  cpu_ms: number;
}
