import { DEFAULT_REGISTRY, type ChannelId, type ChannelRegistry } from "../channels/registry.ts";
import type { PlanContext } from "../channels/channel.ts";
import { parseDuration } from "../config/duration.ts";
import type { ProjectConfig, SettingsConfig } from "../config/schema.ts";
import type { PlanBase } from "../probes/types.ts";
import { manifestPlatforms, type TargetsManifest } from "./targets-manifest.ts";
import type { ReleasePlan } from "./types.ts";

export { renderTemplate } from "./template.ts";

/** Each channel's default grace window (its own piece), by id. */
export const DEFAULT_GRACE: Record<ChannelId, string> = defaultGrace(DEFAULT_REGISTRY);

export function defaultGrace(registry: ChannelRegistry): Record<string, string> {
  return Object.fromEntries(registry.channels.map((c) => [c.id, c.defaultGrace]));
}

const TAG = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** A tag is a safe path segment: no slashes, no `..`, no shell metacharacters. */
export function isSafeTag(tag: string): boolean {
  return TAG.test(tag) && !tag.includes("..");
}

export function versionFromTag(tag: string, prefix: string): string {
  return prefix && tag.startsWith(prefix) ? tag.slice(prefix.length) : tag;
}

export interface PlanInput {
  project: ProjectConfig;
  settings: SettingsConfig;
  tag: string;
  expectLatest: boolean | "auto";
  /** Parsed release/targets.json at the tag, when the project declares one. */
  manifest: TargetsManifest | null;
}

/**
 * Pure: config + tag (+ manifest) to the expected shape of the release on every channel of the registry. Each
 * configured channel's piece is built by the channel (src/channels/<id>/plan.ts), in registry order; an
 * unconfigured channel is null.
 */
export function buildPlan(input: PlanInput, registry: ChannelRegistry = DEFAULT_REGISTRY): ReleasePlan {
  const { project: p, settings, tag, manifest } = input;
  const version = versionFromTag(tag, p.tag_prefix);
  const release: PlanBase = { project: p.name, repo: p.repo, tag, version, expect_latest: input.expectLatest };
  const vars = {
    version,
    tag,
    repo: p.repo,
    project: p.name,
    name: p.name,
    project_underscore: p.name.replace(/-/g, "_"),
  };
  const blocks = p.channels as Readonly<Record<string, unknown>>;
  const projectGrace = (p.grace ?? {}) as Readonly<Record<string, string | undefined>>;
  const settingsGrace = settings.grace as Readonly<Record<string, string | undefined>>;

  const grace: Record<string, number> = {};
  const pieces: Record<string, unknown> = {};
  const ctx: PlanContext<SettingsConfig> = {
    release,
    vars,
    platformName: (platform) => p.platform_names?.[platform] ?? platform,
    platforms: (explicit, manifestChannel) =>
      explicit ? [...explicit] : manifest ? manifestPlatforms(manifest, manifestChannel) : [],
    settings,
    peers: { plan: <P>(channel: { id: string }) => (pieces[channel.id] ?? null) as P | null },
  };
  for (const c of registry.channels) {
    const text = projectGrace[c.id] ?? settingsGrace[c.id] ?? c.defaultGrace;
    grace[c.id] = parseDuration(text) ?? 0;
    const block = blocks[c.id];
    pieces[c.id] = block === undefined ? null : c.plan(block, ctx);
  }
  return { ...release, grace_ms: grace, ...pieces } as ReleasePlan;
}
