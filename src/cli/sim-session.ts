import type { LoadedConfig } from "../config/load.ts";
import type { ProjectConfig } from "../config/schema.ts";
import { SettingsConfig } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import { quote } from "../quote.ts";
import {
  applyScenario,
  isScenarioName,
  SCENARIOS,
  WORLDS,
  type ScenarioName,
  type ScenarioOptions,
  type WorldName,
} from "../sim/scenarios.ts";
import { startSim, type Sim } from "../sim/index.ts";
import type { ProjectSpec } from "../sim/spec.ts";

const SIM_TOKEN = "sim-token-not-a-secret";

export interface SimSession {
  sim: Sim;
}

/**
 * `--sim <scenario>`: starts the simulated registries in-process and scripts every configured project with the
 * scenario (the project's crate, npm package, PyPI project, tap and platforms come from the config), so
 * `monitor verify` / `monitor watch` run unchanged against them.
 */
export async function startSimForScenario(
  scenario: string,
  loaded: LoadedConfig,
  options: Omit<ScenarioOptions, "project"> = {},
): Promise<SimSession> {
  const { world, scenario: name } = simScenario(scenario);
  const sim = await startSim({ githubToken: null });
  for (const project of loaded.config.projects) {
    applyScenario(sim.world, name, { ...options, world, project: simSpecFor(project) });
  }
  return { sim };
}

/** The sim's worlds (`--sim <world>[/<scenario>]`); a bare scenario name is the plasmite world's. */
export const SIM_WORLDS = Object.keys(WORLDS) as WorldName[];

/**
 * `plasmite` -> plasmite/clean, `goreleaser/stale-formula`, `partial` -> plasmite/partial; else a usage error.
 */
export function simScenario(value: string): { world: WorldName; scenario: ScenarioName } {
  const [first, second] = value.includes("/") ? value.split("/", 2) : [value, undefined];
  const isWorld = (SIM_WORLDS as string[]).includes(first ?? "");
  const world = (isWorld ? first : "plasmite") as WorldName;
  const name = isWorld ? (second ?? "clean") : value;
  if (!isScenarioName(name)) {
    throw new UsageError(
      `--sim: unknown world or scenario ${quote(value)} (worlds: ${SIM_WORLDS.join(", ")}; scenarios: ${SCENARIOS.map((s) => s.name).join(", ")})`,
    );
  }
  return { world, scenario: name };
}

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
  if (c.github?.checksums && !/[{}]/.test(c.github.checksums)) spec.checksumsName = c.github.checksums;
  return spec;
}

/** Points every endpoint of the loaded config at the sim (the config file itself is untouched). */
export function applySimOverlay(loaded: LoadedConfig, sim: Sim): void {
  const overlay = sim.settingsOverlay() as {
    github: { api_url: string; download_hosts: string[] };
    crates: { api_url: string; index_url: string };
    npm: { registry: string };
    pypi: { url: string };
  };
  const s = loaded.config.settings;
  s.github = { ...s.github, api_url: overlay.github.api_url, download_hosts: overlay.github.download_hosts };
  s.crates = { ...s.crates, api_url: overlay.crates.api_url, index_url: overlay.crates.index_url };
  s.pypi = { ...s.pypi, url: overlay.pypi.url };
  loaded.config.settings = SettingsConfig.parse(s);
  loaded.npmRegistry = overlay.npm.registry;
  loaded.sim = { trustUrl: sim.urls.sigstore, npmDefaultRegistry: overlay.npm.registry };
  loaded.npmrc = null;
  // The sim accepts any token; with one, steady-state revalidations (304) are free, as on real GitHub.
  loaded.githubToken ??= SIM_TOKEN;
  loaded.secrets.add(loaded.githubToken);
}

/**
 * `monitor init --sim <world>[/<scenario>]`: the world's project as its scenario leaves it, with no config to take
 * names from (init discovers them).
 */
export async function startSimWorld(value: string): Promise<Sim> {
  const { world, scenario } = simScenario(value);
  const sim = await startSim({ githubToken: null });
  applyScenario(sim.world, scenario, { world });
  return sim;
}
