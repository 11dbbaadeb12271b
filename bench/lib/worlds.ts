/** Project shapes shared by the sim-server (what the world holds) and the bench configs (what the monitor expects). */
import type { ProjectSpec } from "../../src/sim/index.ts";

export const BENCH_VERSION = "1.0.0";
export const BENCH_TAG = `v${BENCH_VERSION}`;

export const GITHUB_PLATFORMS = ["linux_amd64", "darwin_amd64", "darwin_arm64"];
export const WHEEL_PLATFORMS = ["darwin_amd64", "darwin_arm64", "windows_amd64"];
export const HOMEBREW_PLATFORMS = ["darwin_arm64", "darwin_amd64", "linux_amd64"];

/** Project i of the scale world: its own repo, tap, crate, npm package and PyPI project (all five channels). */
export function benchProjectName(i: number): string {
  return `p${String(i).padStart(4, "0")}`;
}

export function benchProjectSpec(i: number): ProjectSpec {
  const name = benchProjectName(i);
  return {
    name,
    repo: `bench/${name}`,
    tap: `bench/homebrew-${name}`,
    formulaPath: `Formula/${name}.rb`,
    crate: name,
    npm: name,
    pypi: name,
    githubPlatforms: GITHUB_PLATFORMS,
    homebrewPlatforms: HOMEBREW_PLATFORMS,
    wheelPlatforms: WHEEL_PLATFORMS,
    targetsManifest: null,
  };
}
