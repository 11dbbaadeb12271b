import type { ProjectSpec } from "./spec.ts";
import type { World } from "./world.ts";

/**
 * The package-only release shapes (issue 14): a pure npm library and a Python package. Their scripted states beyond
 * the shared scenarios live here (PACKAGE_SCENARIOS), each valid only in the worlds it names.
 */

const HOUR = 3_600_000;

/**
 * A pure npm library: a GitHub release without assets, `@lattice/kit` on npm from the root package.json (a private
 * docs package beside it), and a `next` dist-tag on a prerelease ahead of `latest` (every scenario publishes it).
 */
export function npmLibProject(overrides: Partial<ProjectSpec> = {}): ProjectSpec {
  return {
    name: "kit",
    repo: "lattice/kit",
    tap: null,
    crate: null,
    npm: "@lattice/kit",
    pypi: null,
    githubPlatforms: [],
    homebrewPlatforms: [],
    wheelPlatforms: [],
    checksumsName: null,
    targetsManifest: null,
    npmManifestPath: "package.json",
    repoFiles: {
      "packages/docs/package.json": `${JSON.stringify({ name: "@lattice/kit-docs", private: true }, null, 2)}\n`,
    },
    description: "A small TypeScript utility library",
    license: "MIT",
    ...overrides,
  };
}

/**
 * A Python package: `quillpy` on PyPI (an sdist and three platform wheels) from the root pyproject.toml, the GitHub
 * release carrying the same files, no checksum file and no other channel.
 */
export function pythonProject(overrides: Partial<ProjectSpec> = {}): ProjectSpec {
  return {
    name: "quill",
    repo: "inkwell/quill",
    tap: null,
    crate: null,
    npm: null,
    pypi: "quillpy",
    githubPlatforms: [],
    homebrewPlatforms: [],
    wheelPlatforms: ["darwin_arm64", "linux_amd64", "windows_amd64"],
    checksumsName: null,
    githubAttachesPypiFiles: true,
    targetsManifest: null,
    pypiManifestPath: "pyproject.toml",
    description: "Markdown to print-ready PDF",
    license: "BSD-3-Clause",
    ...overrides,
  };
}

/** The npm library's prerelease: on GitHub as a prerelease and on npm under `next` (never `latest`). */
export const NPM_LIB_NEXT = "0.9.0-rc.1";

export const PACKAGE_SCENARIOS = [
  {
    name: "npm-missing",
    worlds: ["npm-lib"],
    description: "0.8.0 released on GitHub two hours ago, never published to npm (latest still 0.7.2)",
  },
  {
    name: "latest-behind",
    worlds: ["npm-lib"],
    description: "0.8.0 on npm two hours ago but under the next dist-tag: latest left behind at 0.7.2",
  },
  {
    name: "wheel-mismatch",
    worlds: ["python"],
    description: "clean, but PyPI's linux_amd64 wheel is not the file attached to the GitHub release",
  },
] as const;

export type PackageScenarioName = (typeof PACKAGE_SCENARIOS)[number]["name"];

/** 0.8.0 as a package scenario leaves it (0.7.2 is already out). */
export function applyPackageScenario(world: World, name: PackageScenarioName, project: string, now: number): void {
  const twoHoursAgo = now - 2 * HOUR;
  switch (name) {
    case "npm-missing":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, channels: ["github"] });
      break;
    case "latest-behind":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, npmDistTag: "next" });
      break;
    case "wheel-mismatch":
      world.publish(project, "0.8.0", { publishedAt: twoHoursAgo, pypiDiffersFor: "linux_amd64" });
      break;
  }
}

/** What a world adds to every scenario: the npm library's prerelease under `next`, thirty minutes ago. */
export function applyWorldExtras(world: World, worldName: string, project: string, now: number): void {
  if (worldName !== "npm-lib") return;
  world.publish(project, NPM_LIB_NEXT, { publishedAt: now - HOUR / 2, channels: ["github", "npm"] });
}
