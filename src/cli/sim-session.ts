import type { LoadedConfig } from "../config/load.ts";
import { SettingsConfig } from "../config/schema.ts";
import { DEFAULT_REGISTRY } from "../channels/registry.ts";
import { UsageError } from "../errors.ts";
import { quote } from "../quote.ts";
import {
  applyScenario,
  scenariosOf,
  WORLDS,
  type ScenarioName,
  type ScenarioOptions,
  type WorldName,
} from "../sim/scenarios.ts";
import { startSim, type Sim } from "../sim/index.ts";
import { simSpecFor } from "../sim/config-spec.ts";

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
 * `plasmite` -> plasmite/clean, `goreleaser/stale-formula`, `partial` -> plasmite/partial, `python/wheel-mismatch`;
 * else a usage error (a world's own scenarios, e.g. npm-lib/latest-behind, only in that world).
 */
export function simScenario(value: string): { world: WorldName; scenario: ScenarioName } {
  const [first, second] = value.includes("/") ? value.split("/", 2) : [value, undefined];
  const isWorld = (SIM_WORLDS as string[]).includes(first ?? "");
  const world = (isWorld ? first : "plasmite") as WorldName;
  const name = isWorld ? (second ?? "clean") : value;
  const known = scenariosOf(world);
  const scenario = known.find((s) => s.name === name)?.name;
  if (scenario === undefined) {
    throw new UsageError(
      `--sim: unknown world or scenario ${quote(value)} (worlds: ${SIM_WORLDS.join(", ")}; ${world} scenarios: ${known.map((s) => s.name).join(", ")})`,
    );
  }
  return { world, scenario };
}

/** Points every endpoint of the loaded config at the sim (the config file itself is untouched). */
export function applySimOverlay(loaded: LoadedConfig, sim: Sim): void {
  const overlay = sim.settingsOverlay() as Record<string, Record<string, unknown>> & {
    github: { api_url: string; download_hosts: string[] };
    npm: { registry: string };
  };
  const s = loaded.config.settings as SettingsConfig & Record<string, object>;
  s.github = { ...s.github, api_url: overlay.github.api_url, download_hosts: overlay.github.download_hosts };
  // Each channel's registry endpoints (settings.<id>) point at the channel's sim service.
  for (const c of DEFAULT_REGISTRY.channels) {
    const piece = overlay[c.id];
    if (c.settings && piece) s[c.id] = { ...s[c.id], ...piece };
  }
  loaded.config.settings = SettingsConfig.parse(s);
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
