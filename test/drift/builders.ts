/**
 * Builders for drift/report tests: a clean plasmite v0.8.0 release (shaped after
 * ../shared/reference/plasmite-release.md §10-§11) that each test bends in one place.
 */
import { createHash } from "node:crypto";
import type { ChannelId } from "../../src/channels.ts";
import { evaluate, type Evaluation } from "../../src/verify/evaluate.ts";
import type { ReleasePlan } from "../../src/plan/types.ts";
import type { Evidence } from "../../src/http/evidence.ts";
import type { ChannelProbeResult, ObservationOf } from "../../src/channels/registry.ts";
import type { CratesObservation } from "../../src/channels/crates/types.ts";
import type { GithubAsset, GithubObservation } from "../../src/channels/github/types.ts";
import type { HomebrewObservation } from "../../src/channels/homebrew/types.ts";
import type { NpmObservation } from "../../src/channels/npm/types.ts";
import type { PypiObservation } from "../../src/channels/pypi/types.ts";
import { assembleReport } from "../../src/report/assemble.ts";
import type { Report } from "../../src/report/types.ts";

export const TAG = "v0.8.0";
export const VERSION = "0.8.0";
export const REPO = "sandover/plasmite";
export const PLATFORMS = ["darwin_amd64", "darwin_arm64", "linux_amd64"] as const;
export const SUMS = "sha256sums.txt";

/** GitHub release published_at: every grace window starts here. */
export const PUBLISHED = "2026-07-29T02:20:00Z";
const MINUTE = 60_000;
export const GRACE_MS: Record<ChannelId, number> = {
  github: 5 * MINUTE,
  crates: 10 * MINUTE,
  npm: 15 * MINUTE,
  pypi: 20 * MINUTE,
  homebrew: 30 * MINUTE,
};

/** `minutes` after publication. */
export function at(minutes: number): Date {
  return new Date(Date.parse(PUBLISHED) + minutes * MINUTE);
}
/** Well past every grace window. */
export const LATER = at(120);
/** Inside every grace window. */
export const SOON = at(1);

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export const assetName = (platform: string): string => `plasmite_${VERSION}_${platform}.tar.gz`;
export const assetUrl = (platform: string): string =>
  `https://github.com/${REPO}/releases/download/${TAG}/${assetName(platform)}`;
/** The true sha256 of each SDK tarball. */
export const ASSET_SHA: Record<string, string> = Object.fromEntries(
  PLATFORMS.map((p) => [assetName(p), sha256(`bytes of ${assetName(p)}`)]),
);
export const assetSha = (platform: string): string => ASSET_SHA[assetName(platform)]!;

export const CRATE_SHA = sha256("plasmite-0.8.0.crate");
export const NPM_SHA512 = createHash("sha512").update("plasmite-0.8.0.tgz").digest("base64");
export const NPM_SHA1 = createHash("sha1").update("plasmite-0.8.0.tgz").digest("hex");

export const PYPI_FILES = {
  sdist: "plasmite-0.8.0.tar.gz",
  darwin_amd64: "plasmite-0.8.0-cp311-cp311-macosx_10_12_x86_64.whl",
  darwin_arm64: "plasmite-0.8.0-cp311-cp311-macosx_11_0_arm64.whl",
  windows_amd64: "plasmite-0.8.0-cp311-cp311-win_amd64.whl",
} as const;

type Mutator<T> = (value: T) => void;

function bend<T>(value: T, mutate?: Mutator<T>): T {
  mutate?.(value);
  return value;
}

export function plan(mutate?: Mutator<ReleasePlan>): ReleasePlan {
  return bend<ReleasePlan>(
    {
      project: "plasmite",
      repo: REPO,
      tag: TAG,
      version: VERSION,
      expect_latest: "auto",
      grace_ms: { ...GRACE_MS },
      github: {
        owner: "sandover",
        repo: "plasmite",
        assets: PLATFORMS.map((p) => ({ name: assetName(p), platform: p })),
        checksum_file: SUMS,
        download_hosts: ["release-assets.githubusercontent.com"],
      },
      crates: { crate: "plasmite" },
      npm: { package: "plasmite" },
      pypi: {
        project: "plasmite",
        files: [
          { kind: "sdist", pattern: "plasmite-0.8.0.tar.gz", platform: null },
          { kind: "wheel", pattern: "plasmite-0.8.0-*-macosx_*_x86_64.whl", platform: "darwin_amd64" },
          { kind: "wheel", pattern: "plasmite-0.8.0-*-macosx_*_arm64.whl", platform: "darwin_arm64" },
          { kind: "wheel", pattern: "plasmite-0.8.0-*-win_amd64.whl", platform: "windows_amd64" },
        ],
      },
      homebrew: {
        tap_owner: "sandover",
        tap_repo: "homebrew-tap",
        path: "Formula/plasmite.rb",
        ref: "main",
        version: VERSION,
        artifacts: ["darwin_arm64", "darwin_amd64", "linux_amd64"].map((p) => ({
          platform: p,
          url: assetUrl(p),
          asset_name: assetName(p),
        })),
      },
    },
    mutate,
  );
}

export function asset(name: string, sha: string | null, id = 1): GithubAsset {
  return {
    id,
    name,
    size: 1000 + id,
    state: "uploaded",
    digest: sha === null ? null : `sha256:${sha}`,
    browser_download_url: `https://github.com/${REPO}/releases/download/${TAG}/${name}`,
    url: `https://api.github.com/repos/${REPO}/releases/assets/${id}`,
    content_type: "application/gzip",
    created_at: PUBLISHED,
    updated_at: PUBLISHED,
  };
}

export function github(mutate?: Mutator<GithubObservation>): GithubObservation {
  const assets = PLATFORMS.map((p, i) => asset(assetName(p), assetSha(p), i + 1));
  assets.push(asset(SUMS, sha256("sums"), 9));
  return bend<GithubObservation>(
    {
      channel: "github",
      repo: REPO,
      tag: { name: TAG, exists: true, object_type: "tag", commit_sha: "2fb2117aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
      release: {
        id: 42,
        tag_name: TAG,
        name: TAG,
        draft: false,
        prerelease: false,
        immutable: false,
        created_at: PUBLISHED,
        published_at: PUBLISHED,
        html_url: `https://github.com/${REPO}/releases/tag/${TAG}`,
        target_commitish: "main",
        assets,
      },
      latest_release_tag: TAG,
      checksums: {
        name: SUMS,
        entries: PLATFORMS.map((p) => ({ name: assetName(p), sha256: assetSha(p) })),
        invalid_lines: [],
      },
      downloads: null,
    },
    mutate,
  );
}

/** GitHub before release-publish ran: the tag exists, nothing is published. */
export function githubUnreleased(mutate?: Mutator<GithubObservation>): GithubObservation {
  return github((o) => {
    o.release = null;
    o.checksums = null;
    o.latest_release_tag = "v0.7.2";
    mutate?.(o);
  });
}

export function crates(mutate?: Mutator<CratesObservation>): CratesObservation {
  return bend<CratesObservation>(
    {
      channel: "crates",
      crate: "plasmite",
      api_version: { num: VERSION, checksum: CRATE_SHA, yanked: false, yank_message: null, created_at: PUBLISHED },
      api_cached: false,
      api_pending: null,
      index: {
        found: true,
        entries: [
          { vers: "0.7.2", cksum: sha256("plasmite-0.7.2.crate"), yanked: false, pubtime: null },
          { vers: VERSION, cksum: CRATE_SHA, yanked: false, pubtime: PUBLISHED },
        ],
      },
      download: null,
    },
    mutate,
  );
}

export function npm(mutate?: Mutator<NpmObservation>): NpmObservation {
  return bend<NpmObservation>(
    {
      channel: "npm",
      package: "plasmite",
      registry: "https://npm-registry.example/",
      packument_found: true,
      dist_tags: { latest: VERSION },
      versions: ["0.7.2", VERSION],
      deprecated: {},
      version_doc: {
        version: VERSION,
        deprecated: null,
        integrity: `sha512-${NPM_SHA512}`,
        shasum: NPM_SHA1,
        tarball: "https://npm-registry.example/plasmite/-/plasmite-0.8.0.tgz",
      },
      version_doc_source: "version-endpoint",
      unpublished: null,
      packument_error: null,
      download: null,
    },
    mutate,
  );
}

export function pypi(mutate?: Mutator<PypiObservation>): PypiObservation {
  const files = Object.values(PYPI_FILES).map((filename) => ({
    filename,
    packagetype: filename.endsWith(".whl") ? "bdist_wheel" : "sdist",
    sha256: sha256(filename),
    size: 2000,
    yanked: false,
    yanked_reason: null,
    upload_time: PUBLISHED,
    url: `https://files.pythonhosted.example/packages/${filename}`,
  }));
  return bend<PypiObservation>(
    {
      channel: "pypi",
      project: "plasmite",
      normalized_name: "plasmite",
      project_found: true,
      latest_version: VERSION,
      versions: [
        { version: "0.7.2", yanked: false },
        { version: VERSION, yanked: false },
      ],
      release: { version: VERSION, yanked: false, yanked_reason: null, files },
      downloads: null,
    },
    mutate,
  );
}

export function homebrew(mutate?: Mutator<HomebrewObservation>): HomebrewObservation {
  const art = (platform: string, os: "macos" | "linux", cpu: "arm" | "intel", line: number) => ({
    url: assetUrl(platform).replace(VERSION, "#{version}"),
    resolved_url: assetUrl(platform),
    sha256: assetSha(platform),
    context: { os, cpu },
    line,
  });
  return bend<HomebrewObservation>(
    {
      channel: "homebrew",
      tap: "sandover/homebrew-tap",
      path: "Formula/plasmite.rb",
      ref: "main",
      found: true,
      formula: {
        kind: "formula",
        class_name: "Plasmite",
        version: VERSION,
        artifacts: [
          art("darwin_arm64", "macos", "arm", 9),
          art("darwin_amd64", "macos", "intel", 12),
          art("linux_amd64", "linux", "intel", 19),
        ],
        unsupported: [{ os: "linux", cpu: "arm" }],
        warnings: [],
      },
    },
    mutate,
  );
}

export function evidence(url: string, status: number | null = 200, method = "GET"): Evidence {
  return { url, status, method, at: PUBLISHED, duration_ms: 12 };
}

export function ok<C extends ChannelId>(observation: ObservationOf<C>, ev: Evidence[] = []): ChannelProbeResult<C> {
  return { channel: observation.channel as C, observation, error: null, evidence: ev, duration_ms: 5 };
}

export function failed<C extends ChannelId>(
  channel: C,
  code = "E_HTTP_TIMEOUT",
  message = "timed out after 10s",
): ChannelProbeResult<C> {
  return { channel, observation: null, error: { code, message }, evidence: [], duration_ms: 10_000 };
}

export type Results = { [C in ChannelId]?: ChannelProbeResult<C> };

/** Every channel observed clean; override any of them. */
export function cleanResults(over: Results = {}): Results {
  return {
    github: ok<"github">(github()),
    crates: ok<"crates">(crates()),
    npm: ok<"npm">(npm()),
    pypi: ok<"pypi">(pypi()),
    homebrew: ok<"homebrew">(homebrew()),
    ...over,
  };
}

export function run(results: Results, now: Date = LATER, p: ReleasePlan = plan()): Evaluation {
  return evaluate({ plan: p, results, now });
}

/** report@1 the way src/verify/run.ts assembles it. */
export function report(results: Results, now: Date = LATER, p: ReleasePlan = plan()): Report {
  return assembleReport(p, results, now, 321);
}

/** `code:severity` of one channel's findings, in order. */
export function codes(evaluation: Evaluation, channel: ChannelId): string[] {
  const v = evaluation.channels.find((c) => c.channel === channel);
  return (v?.findings ?? []).map((f) => `${f.code}:${f.severity}`);
}

export function verdict(evaluation: Evaluation, channel: ChannelId) {
  const v = evaluation.channels.find((c) => c.channel === channel);
  if (!v) throw new Error(`no verdict for ${channel}`);
  return v;
}
