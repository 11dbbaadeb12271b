import { globMatch } from "../../drift/findings.ts";
import { renderTemplate } from "../../plan/template.ts";
import type { PlanContext } from "../channel.ts";
import type { PypiChannelConfig } from "./config.ts";
import type { ExpectedPypiFile, PypiPlan } from "./types.ts";

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

export function planPypi(py: PypiChannelConfig, ctx: PlanContext): PypiPlan {
  const vars = {
    ...ctx.vars,
    project: py.project,
    project_underscore: py.project.replace(/[-.]+/g, "_").toLowerCase(),
  };
  const files: ExpectedPypiFile[] = [];
  if (py.sdist) files.push({ kind: "sdist", pattern: renderTemplate(py.sdist, vars), platform: null });
  if (py.wheel) {
    for (const platform of ctx.platforms(py.platforms, "pypi")) {
      const wheel_platform = py.wheel_platforms[platform] ?? WHEEL_PLATFORMS[platform] ?? platform;
      files.push({ kind: "wheel", pattern: renderTemplate(py.wheel, { ...vars, platform, wheel_platform }), platform });
    }
  }
  return { project: py.project, files };
}

/** The platform ids of wheel file names (by the wheel-tag globs above), sorted; pure wheels (`any`) have none. */
export function wheelPlatformsOf(filenames: readonly string[]): string[] {
  const out = new Set<string>();
  for (const name of filenames) {
    if (!name.endsWith(".whl")) continue;
    const tag = name.slice(0, -".whl".length).split("-").at(-1) ?? "";
    const hit = Object.entries(WHEEL_PLATFORMS).find(([, glob]) => globMatch(glob, tag));
    if (hit) out.add(hit[0]);
  }
  return [...out].sort();
}
