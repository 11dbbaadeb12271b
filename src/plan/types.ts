import type { ChannelId } from "../channels.ts";

/**
 * What one release should look like on every channel. Built from config (+ optional targets manifest) by
 * plan/build-plan.ts; consumed by probes (what to ask for) and drift (what to compare against).
 * A channel set to null is not configured for the project and reports `skipped`.
 */
export interface ReleasePlan {
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
  /** Grace window per channel in milliseconds, counted from the GitHub release's published_at. */
  grace_ms: Record<ChannelId, number>;
  github: GithubPlan | null;
  crates: CratesPlan | null;
  npm: NpmPlan | null;
  pypi: PypiPlan | null;
  homebrew: HomebrewPlan | null;
}

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
  /** Hosts asset downloads may redirect to (GitHub's 302 goes to a separate download host). */
  download_hosts: string[];
}

export interface CratesPlan {
  crate: string;
}

export interface NpmPlan {
  package: string;
}

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

export interface ExpectedFormulaArtifact {
  platform: string;
  url: string;
  /** The GitHub asset the URL should point at, when it is one of this release's assets. */
  asset_name: string | null;
}

export interface HomebrewPlan {
  tap_owner: string;
  tap_repo: string;
  path: string;
  ref: string;
  version: string;
  artifacts: ExpectedFormulaArtifact[];
}
