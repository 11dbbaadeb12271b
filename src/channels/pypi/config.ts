import { z } from "zod";
import { PypiProjectName } from "../../config/names.ts";
import { PlatformId, Template } from "../../config/primitives.ts";
import type { RuleProject } from "../channel.ts";

/** `projects[].channels.pypi`. */
export const PypiChannelConfig = z.strictObject({
  project: PypiProjectName,
  sdist: Template.nullable().default("{project}-{version}.tar.gz"),
  wheel: Template.nullable()
    .default("{project_underscore}-{version}-*-{wheel_platform}.whl")
    .describe("Wheel filename glob; {wheel_platform} maps darwin_arm64 to macosx_*_arm64 and so on."),
  platforms: z.array(PlatformId).optional().describe("Wheel platforms; defaults to the manifest's pypi official ones."),
  wheel_platforms: z
    .record(PlatformId, z.string())
    .default({})
    .describe("Override the platform to wheel-tag glob map."),
});
export type PypiChannelConfig = z.infer<typeof PypiChannelConfig>;

export function pypiTemplates(c: PypiChannelConfig): [string, string | null][] {
  return [
    ["sdist", c.sdist],
    ["wheel", c.wheel],
  ];
}

export function pypiRules(c: PypiChannelConfig, project: RuleProject): string[] {
  if (c.wheel && !c.platforms && !project.targets_manifest) {
    return ["platforms: required for wheels when no targets_manifest is set"];
  }
  return [];
}
