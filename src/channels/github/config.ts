import { z } from "zod";
import { PlatformId, Template } from "../../config/primitives.ts";
import type { RuleProject } from "../channel.ts";

/** The sidecar suffixes a `checksums: { sidecar }` block accepts: cargo-dist's per-asset `<asset>.sha256`. */
export const SIDECAR_SUFFIXES = [".sha256"] as const;

/** `checksums: { sidecar: ".sha256" }`: each asset has its own `<asset>.sha256` file (cargo-dist). */
export const SidecarChecksums = z.strictObject({
  sidecar: z.enum(SIDECAR_SUFFIXES, {
    error: (issue) =>
      issue.input === undefined
        ? `required: the suffix of each asset's checksum file (${SIDECAR_SUFFIXES.join(", ")})`
        : `must be ${SIDECAR_SUFFIXES.map((x) => JSON.stringify(x)).join(" or ")} (the suffix of each asset's checksum file), got ${JSON.stringify(issue.input)}`,
  }),
});
export type SidecarChecksums = z.infer<typeof SidecarChecksums>;

/**
 * `checksums`: one checksum file's name template (`sha256sums.txt`), `{ sidecar: ".sha256" }` for per-asset sidecar
 * files, or null for none. An object is checked as the sidecar block (load.ts names the field inside it).
 */
const Checksums = z
  .union([Template, SidecarChecksums], { error: 'must be a checksum file name, { sidecar: ".sha256" } or null' })
  .nullable()
  .default("sha256sums.txt")
  .describe(
    'The checksum file (a name template, e.g. sha256sums.txt); { sidecar: ".sha256" } for a <asset>.sha256 file beside each asset (cargo-dist), checked against each asset; or null.',
  );

/** An `extra_assets` entry: a name template over {version} and {tag}; `*` matches any run of characters. */
const ExtraAssetTemplate = z
  .string()
  .min(1, "must be a file name template, got an empty string")
  .refine((t) => !/[/\\]/.test(t), { error: "must be a file name, not a path (no / or \\)" })
  .refine((t) => !/\{(?:platform|target)\}/.test(t), {
    error: "must not use {platform} or {target} (extra files are not per platform; use * instead)",
  })
  .refine((t) => t === "" || t.replace(/\*/g, "") !== "", {
    error: "must name something besides * (that would accept every file)",
  });

/** True when `name` matches a rendered `extra_assets` pattern (`*`: any run of characters, nothing else special). */
export function matchesExtra(name: string, pattern: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return name === pattern;
  const re = new RegExp(`^${parts.map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
  return re.test(name);
}

/** `projects[].channels.github`. */
export const GithubChannelConfig = z.strictObject({
  platforms: z.array(PlatformId).optional().describe("Defaults to the manifest's github_sdk official platforms."),
  assets: z
    .array(Template)
    .describe(
      "Asset name templates over {version}, {tag}, {platform} (or {target}); [] (with checksums: null) for a release without assets: only the tag and the release are checked.",
    ),
  checksums: Checksums,
  extra_assets: z
    .array(ExtraAssetTemplate)
    .optional()
    .describe(
      "Name templates over {version}, {tag} of files the release may carry beside its assets (installers, manifests, SBOMs, signatures); never required, never unexpected. * matches any run of characters.",
    ),
});
export type GithubChannelConfig = z.infer<typeof GithubChannelConfig>;

/** The sidecar suffix when the project checks per-asset sidecar files, else null. */
export function sidecarSuffix(c: Pick<GithubChannelConfig, "checksums">): string | null {
  return c.checksums !== null && typeof c.checksums === "object" ? c.checksums.sidecar : null;
}

/** The checksum file's name template, null with sidecars or none. */
export function checksumFileTemplate(c: Pick<GithubChannelConfig, "checksums">): string | null {
  return typeof c.checksums === "string" ? c.checksums : null;
}

export function githubTemplates(c: GithubChannelConfig): [string, string][] {
  return c.assets.map((t, j): [string, string] => [`assets[${j}]`, t]);
}

export function usesPlatform(template: string): boolean {
  return template.includes("{platform}") || template.includes("{target}");
}

export function githubRules(c: GithubChannelConfig, project: RuleProject): string[] {
  if (c.assets.length === 0) return noAssetsRules(c);
  if (!c.platforms && !project.targets_manifest && c.assets.some(usesPlatform)) {
    return ["platforms: required when assets use {platform} or {target} and no targets_manifest is set"];
  }
  return [];
}

/** `assets: []`: a release without assets has no checksum file and no platforms. */
function noAssetsRules(c: GithubChannelConfig): string[] {
  const issues: string[] = [];
  if (c.checksums !== null) {
    issues.push(
      `checksums: must be null when assets is [] (a release without assets has no checksum file; ${JSON.stringify(c.checksums)} would be looked for)`,
    );
  }
  if (c.platforms) issues.push("platforms: a release without assets (assets: []) has no platforms; remove it");
  if (c.extra_assets?.length) {
    issues.push("extra_assets: a release without assets (assets: []) judges no attached file; remove it");
  }
  return issues;
}
