import type { ProjectConfig } from "../config/schema.ts";
import type { ProjectSpec } from "./spec.ts";

/** The sim project matching a configured project. */
export function simSpecFor(p: ProjectConfig): Partial<ProjectSpec> {
  const c = p.channels;
  const spec: Partial<ProjectSpec> = {
    name: p.name,
    repo: p.repo,
    tagPrefix: p.tag_prefix,
    tap: c.homebrew?.tap ?? null,
    crate: c.crates?.crate ?? null,
    npm: c.npm?.package ?? null,
    pypi: c.pypi?.project ?? null,
  };
  if (c.homebrew) spec.formulaPath = c.homebrew.formula.replace("{name}", p.name);
  if (c.github?.platforms) spec.githubPlatforms = c.github.platforms;
  if (c.homebrew?.platforms) spec.homebrewPlatforms = c.homebrew.platforms;
  if (c.pypi?.platforms) spec.wheelPlatforms = c.pypi.platforms;
  if (p.targets_manifest) spec.targetsManifestPath = p.targets_manifest;
  if (p.platform_names) spec.platformNames = p.platform_names;
  const sums = c.github?.checksums;
  if (typeof sums === "string" && !/[{}]/.test(sums)) spec.checksumsName = sums;
  if (sums && typeof sums === "object") {
    spec.checksumsName = "";
    spec.sidecarSuffix = sums.sidecar;
  }
  return spec;
}
