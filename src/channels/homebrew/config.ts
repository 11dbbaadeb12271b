import { z } from "zod";
import { FormulaPath } from "../../config/names.ts";
import { PlatformId, RepoSlug, Template } from "../../config/primitives.ts";
import type { RuleProject } from "../channel.ts";

/** `projects[].channels.homebrew`. */
export const HomebrewChannelConfig = z.strictObject({
  tap: RepoSlug,
  formula: FormulaPath.default("Formula/{name}.rb"),
  branch: z.string().default("main"),
  platforms: z.array(PlatformId).optional().describe("Defaults to the manifest's homebrew official platforms."),
  url: Template.describe("Expected url per platform, over {repo}, {tag}, {version}, {platform}."),
});
export type HomebrewChannelConfig = z.infer<typeof HomebrewChannelConfig>;

export function homebrewTemplates(c: HomebrewChannelConfig): [string, string][] {
  return [
    ["url", c.url],
    ["formula", c.formula],
  ];
}

export function homebrewRules(c: HomebrewChannelConfig, project: RuleProject): string[] {
  return !c.platforms && !project.targets_manifest ? ["platforms: required when no targets_manifest is set"] : [];
}
