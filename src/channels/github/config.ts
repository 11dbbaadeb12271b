import { z } from "zod";
import { PlatformId, Template } from "../../config/primitives.ts";
import type { RuleProject } from "../channel.ts";

/** `projects[].channels.github`. */
export const GithubChannelConfig = z.strictObject({
  platforms: z.array(PlatformId).optional().describe("Defaults to the manifest's github_sdk official platforms."),
  assets: z.array(Template).min(1).describe("Asset name templates over {version}, {tag}, {platform}."),
  checksums: z.string().nullable().default("sha256sums.txt"),
});
export type GithubChannelConfig = z.infer<typeof GithubChannelConfig>;

export function githubTemplates(c: GithubChannelConfig): [string, string][] {
  return c.assets.map((t, j): [string, string] => [`assets[${j}]`, t]);
}

export function githubRules(c: GithubChannelConfig, project: RuleProject): string[] {
  if (!c.platforms && !project.targets_manifest && c.assets.some((a) => a.includes("{platform}"))) {
    return ["platforms: required when assets use {platform} and no targets_manifest is set"];
  }
  return [];
}
