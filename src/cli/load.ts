import { existsSync } from "node:fs";
import { loadConfigFile, type LoadedConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";

export interface GlobalOptions {
  config?: string;
  sim?: string;
  logLevel?: string;
}

export interface CommandSession {
  loaded: LoadedConfig;
  close(): Promise<void>;
}

export const DEFAULT_CONFIG_FILES = ["monitor.yaml", "monitor.yml", "monitor.json"];

export function resolveConfigPath(flag: string | undefined): string {
  if (flag) return flag;
  const env = process.env["MONITOR_CONFIG"];
  if (env) return env;
  const found = DEFAULT_CONFIG_FILES.find((f) => existsSync(f));
  if (!found)
    throw new UsageError(
      `--config is required (no ${DEFAULT_CONFIG_FILES.join(", ")} here and MONITOR_CONFIG is unset)`,
    );
  return found;
}

/** Loads the config; with --sim, starts the simulated registries in-process and points every endpoint at them. */
export async function loadForCommand(globals: GlobalOptions): Promise<CommandSession> {
  const loaded = loadConfigFile(resolveConfigPath(globals.config));
  if (!globals.sim) return { loaded, close: async () => {} };
  // The simulated registries (and their byte generators) load only under --sim: start-up cost for everyone else.
  const { applySimOverlay, startSimForScenario } = await import("./sim-session.ts");
  const sim = await startSimForScenario(globals.sim, loaded);
  applySimOverlay(loaded, sim.sim);
  return { loaded, close: () => sim.sim.close() };
}
