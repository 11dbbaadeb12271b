import type { HttpClient } from "../http/client.ts";
import type { Evidence } from "../http/evidence.ts";
import type { Logger } from "../log.ts";
import type { Octokit } from "@octokit/rest";

/**
 * What every probe shares, whatever its channel. Each channel's probe, with its observation type, lives in
 * src/channels/<id>/; nothing here names a channel.
 */

/**
 * Where each channel's registry lives, keyed by channel id: what the channel's `settings.<id>` block says
 * (src/channels/<id>/settings.ts), read with `endpointsOf`. Channels without a block have no entry.
 */
export type ProbeEndpoints = Readonly<Record<string, unknown>>;

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
  /**
   * Set by a caller that does not wait for background work (the daemon). A probe whose answer waits in a
   * process-wide queue (the crates.io API, one request per second) may return now, with what that answer adds
   * marked pending, and hand over the completed observation here; it must never reject.
   */
  defer?: (completed: Promise<unknown>) => void;
  /**
   * Set when the channel's provenance can start early: a probe hands over what it learnt first (GitHub: the
   * release document) so the attestation lookups overlap the rest of the probe. Never throws.
   */
  early?: (partial: unknown) => void;
  /**
   * The source repository's release list as the caller read it moments ago to pick the tag (the daemon: GitHub's
   * `releases`, first page, newest first), raw items. Calling it adds the exchange that read the list to this
   * channel's evidence, so a probe calls it only when it reads the list. The GitHub probe takes the tag's
   * published release from it instead of asking for it again.
   */
  releaseList?: () => readonly unknown[];
}

/** A release list read before the verification (`VerifyOptions.releaseList`): its items and the exchange. */
export interface ReleaseList {
  items: readonly unknown[];
  evidence: readonly Evidence[];
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
