import { z } from "zod";
import { PlatformId, Template } from "../../config/primitives.ts";
import type { RuleProject } from "../channel.ts";

/** `projects[].channels.github`. */
export const GithubChannelConfig = z.strictObject({
  platforms: z.array(PlatformId).optional().describe("Defaults to the manifest's github_sdk official platforms."),
  assets: z
    .array(Template)
    .describe(
      "Asset name templates over {version}, {tag}, {platform}; [] (with checksums: null) for a release without assets: only the tag and the release are checked.",
    ),
  checksums: z.string().nullable().default("sha256sums.txt"),
});
export type GithubChannelConfig = z.infer<typeof GithubChannelConfig>;

export function githubTemplates(c: GithubChannelConfig): [string, string][] {
  return c.assets.map((t, j): [string, string] => [`assets[${j}]`, t]);
}

export function githubRules(c: GithubChannelConfig, project: RuleProject): string[] {
  if (c.assets.length === 0) return noAssetsRules(c);
  if (!c.platforms && !project.targets_manifest && c.assets.some((a) => a.includes("{platform}"))) {
    return ["platforms: required when assets use {platform} and no targets_manifest is set"];
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
  return issues;
}
