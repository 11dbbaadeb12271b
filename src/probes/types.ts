import type { HttpClient } from "../http/client.ts";
import type { Evidence } from "../http/evidence.ts";
import type { Logger } from "../log.ts";
import type { Octokit } from "@octokit/rest";
import type { NpmrcView } from "../config/npmrc.ts";

/**
 * What every probe shares, whatever its channel. Each channel's probe, with its observation type, lives in
 * src/channels/<id>/; nothing here names a channel.
 */

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

/** The release fields every channel's plan shares (the channel pieces sit beside them, under their ids). */
export interface PlanBase {
  project: string;
  /** owner/name of the source repository. */
  repo: string;
  tag: string;
  version: string;
  /**
   * Whether this tag should be each channel's latest version (enables `version-not-latest`).
   * "auto": true when GitHub's latest release is this tag.
   */
  expect_latest: boolean | "auto";
}

/** The plan as one channel's probe reads it: the release fields plus its own piece under its id. */
export type PlanWith<Id extends string, P> = PlanBase & { readonly [K in Id]?: P | null };

/**
 * A probe asks one channel what it has and returns raw observations; it never judges.
 * "Not found" is data (a null / `found: false` field). A probe throws only when it could not tell
 * (timeout, 5xx, malformed body); the runner turns that into status `unknown` with a `probe-failed` finding.
 */
export interface Probe<Id extends string = string, P = unknown, O extends { channel: Id } = { channel: Id }> {
  readonly channel: Id;
  observe(plan: PlanWith<Id, P>, ctx: ProbeContext): Promise<O>;
}

/** Bytes a probe downloaded under `--deep`, hashed. */
export interface DownloadedAsset {
  sha256: string;
  bytes: number;
}

/** What the runner hands to the evaluator for one channel. */
export interface ProbeResult<Id extends string = string, O = unknown> {
  channel: Id;
  /** null when the channel is not configured (skipped) or the probe failed. */
  observation: O | null;
  error: { code: string; message: string } | null;
  evidence: Evidence[];
  duration_ms: number;
}
