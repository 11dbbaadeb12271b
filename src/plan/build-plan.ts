import type { ChannelId } from "../channels.ts";
import { parseDuration } from "../config/duration.ts";
import type { ProjectConfig, SettingsConfig } from "../config/schema.ts";
import { manifestPlatforms, type TargetsManifest } from "./targets-manifest.ts";
import type { ExpectedAsset, ExpectedPypiFile, ReleasePlan } from "./types.ts";

export const DEFAULT_GRACE: Record<ChannelId, string> = {
  github: "5m",
  crates: "10m",
  npm: "15m",
  pypi: "20m",
  homebrew: "30m",
};

/** Platform id (sdk_platform) to wheel platform-tag glob. */
export const WHEEL_PLATFORMS: Record<string, string> = {
  darwin_amd64: "macosx_*_x86_64",
  darwin_arm64: "macosx_*_arm64",
  darwin_universal: "macosx_*_universal2",
  windows_amd64: "win_amd64",
  windows_arm64: "win_arm64",
  windows_386: "win32",
  linux_amd64: "manylinux*_x86_64",
  linux_arm64: "manylinux*_aarch64",
};

const TAG = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** A tag is a safe path segment: no slashes, no `..`, no shell metacharacters. */
export function isSafeTag(tag: string): boolean {
  return TAG.test(tag) && !tag.includes("..");
}

export function versionFromTag(tag: string, prefix: string): string {
  return prefix && tag.startsWith(prefix) ? tag.slice(prefix.length) : tag;
}

export function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{([a-z_]+)\}/g, (m, key: string) => vars[key] ?? m);
}

export interface PlanInput {
  project: ProjectConfig;
  settings: SettingsConfig;
  tag: string;
  expectLatest: boolean | "auto";
  /** Parsed release/targets.json at the tag, when the project declares one. */
  manifest: TargetsManifest | null;
}

/** Pure: config + tag (+ manifest) to the expected shape of the release on every channel. */
export function buildPlan(input: PlanInput): ReleasePlan {
  const { project: p, settings, tag, manifest } = input;
  const version = versionFromTag(tag, p.tag_prefix);
  const [owner = "", repo = ""] = p.repo.split("/");
  const base = {
    version,
    tag,
    repo: p.repo,
    project: p.name,
    name: p.name,
    project_underscore: p.name.replace(/-/g, "_"),
  };
  const platformsFor = (explicit: string[] | undefined, manifestChannel: string): string[] =>
    explicit ?? (manifest ? manifestPlatforms(manifest, manifestChannel) : []);

  const grace = {} as Record<ChannelId, number>;
  for (const ch of Object.keys(DEFAULT_GRACE) as ChannelId[]) {
    const text = p.grace?.[ch] ?? settings.grace[ch] ?? DEFAULT_GRACE[ch];
    grace[ch] = parseDuration(text) ?? 0;
  }

  const gh = p.channels.github;
  let github: ReleasePlan["github"] = null;
  if (gh) {
    const platforms = platformsFor(gh.platforms, "github_sdk");
    const assets: ExpectedAsset[] = [];
    for (const t of gh.assets) {
      if (t.includes("{platform}")) {
        for (const platform of platforms) assets.push({ name: renderTemplate(t, { ...base, platform }), platform });
      } else {
        assets.push({ name: renderTemplate(t, base), platform: null });
      }
    }
    github = {
      owner,
      repo,
      assets,
      checksum_file: gh.checksums ? renderTemplate(gh.checksums, base) : null,
      download_hosts: settings.github.download_hosts,
    };
  }

  const py = p.channels.pypi;
  let pypi: ReleasePlan["pypi"] = null;
  if (py) {
    const pyBase = {
      ...base,
      project: py.project,
      project_underscore: py.project.replace(/[-.]+/g, "_").toLowerCase(),
    };
    const files: ExpectedPypiFile[] = [];
    if (py.sdist) files.push({ kind: "sdist", pattern: renderTemplate(py.sdist, pyBase), platform: null });
    if (py.wheel) {
      for (const platform of platformsFor(py.platforms, "pypi")) {
        const wheel_platform = py.wheel_platforms[platform] ?? WHEEL_PLATFORMS[platform] ?? platform;
        files.push({
          kind: "wheel",
          pattern: renderTemplate(py.wheel, { ...pyBase, platform, wheel_platform }),
          platform,
        });
      }
    }
    pypi = { project: py.project, files };
  }

  const hb = p.channels.homebrew;
  let homebrew: ReleasePlan["homebrew"] = null;
  if (hb) {
    const [tap_owner = "", tap_repo = ""] = hb.tap.split("/");
    const assetNames = new Set(github?.assets.map((a) => a.name) ?? []);
    homebrew = {
      tap_owner,
      tap_repo,
      path: renderTemplate(hb.formula, base),
      ref: hb.branch,
      version,
      artifacts: platformsFor(hb.platforms, "homebrew").map((platform) => {
        const url = renderTemplate(hb.url, { ...base, platform });
        const last = decodeURIComponent(url.split("/").pop() ?? "");
        const fromThisRelease = url.includes(`/releases/download/${tag}/`) && assetNames.has(last);
        return { platform, url, asset_name: fromThisRelease ? last : null };
      }),
    };
  }

  return {
    project: p.name,
    repo: p.repo,
    tag,
    version,
    expect_latest: input.expectLatest,
    grace_ms: grace,
    github,
    crates: p.channels.crates ? { crate: p.channels.crates.crate } : null,
    npm: p.channels.npm ? { package: p.channels.npm.package } : null,
    pypi,
    homebrew,
  };
}
