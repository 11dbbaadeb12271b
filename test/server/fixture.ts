import { rmSync } from "node:fs";
import { loadConfigFile, type LoadedConfig } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { Daemon } from "../../src/daemon/daemon.ts";
import { startServer } from "../../src/server/index.ts";
import type { RunningServer } from "../../src/server/types.ts";
import {
  applyScenario,
  startSim,
  type ScenarioName,
  type ScenarioOptions,
  type ScenarioResult,
  type Sim,
} from "../../src/sim/index.ts";
import type { StateStore } from "../../src/state/types.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

/**
 * A real daemon in-process (createDaemon on a config file pointing at the simulated registries), with the server
 * on 127.0.0.1:0. The schedule is once a year and hot polling is off, so the only cycles are the startup cycle and
 * the ones a test asks for; jitter is 0 and flap_cycles 1, so one cycle opens incidents.
 */
export interface Served {
  sim: Sim;
  /** What applyScenario returned (the `healing` scenario's heal control). */
  scenario: ScenarioResult;
  loaded: LoadedConfig;
  daemon: Daemon;
  store: StateStore;
  server: RunningServer;
  url: string;
  logs: string[];
  close(): Promise<void>;
}

export interface ServeOptions {
  scenario?: ScenarioName;
  scenarioOptions?: ScenarioOptions;
  token?: string;
  /** Extra YAML under settings.alerts (4-space indented keys). */
  alerts?: string;
  /** Call daemon.start() (scheduler running: /readyz can pass). Default true. */
  start?: boolean;
  /** Extra YAML under settings.server (4-space indented keys). */
  server?: readonly string[];
  /** Before the daemon starts (e.g. break a registry). */
  prepare?: (sim: Sim) => void;
}

export async function serve(options: ServeOptions = {}): Promise<Served> {
  const sim = await startSim();
  const scenario = applyScenario(sim.world, options.scenario ?? "partial", options.scenarioOptions ?? {});
  options.prepare?.(sim);
  const dir = tempDir("rm-server-");
  const settings = [
    "  state_dir: state",
    "  watch:",
    '    schedule: "0 0 1 1 *"',
    '    jitter: "0"',
    '    hot_interval: "0"',
    "  alerts:",
    "    flap_cycles: 1",
    options.alerts ?? "",
    "  server:",
    '    listen: "127.0.0.1:0"',
    options.token ? `    token: ${options.token}` : "",
    ...(options.server ?? []),
  ]
    .filter((l) => l !== "")
    .join("\n");
  const path = writeConfig(dir, simConfigYaml(sim, { settings }));
  const loaded = loadConfigFile(path, { env: {} });
  const logs: string[] = [];
  const { daemon, store, runtime } = createDaemon(loaded, {
    logLevel: "debug",
    logDestination: { write: (line) => void logs.push(line) },
    daemon: { flushMs: 2_000, cycleDrainMs: 5_000, idlePollMs: 100 },
  });
  // The server (and its metrics) first, so the metrics see every exchange of the first cycle.
  const server = await startServer({ daemon, store, loaded, log: runtime.log, listen: "127.0.0.1:0" });
  if (options.start ?? true) await daemon.start();
  let closed: Promise<void> | null = null;
  return {
    sim,
    scenario,
    loaded,
    daemon,
    store,
    server,
    url: server.url,
    logs,
    close() {
      closed ??= (async () => {
        await server.close();
        await daemon.stop();
        await sim.close();
        rmSync(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

export interface Fetched {
  status: number;
  headers: Headers;
  text: string;
}

export async function get(url: string, init: RequestInit = {}): Promise<Fetched> {
  const res = await fetch(url, { redirect: "manual", ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export function json<T = Record<string, unknown>>(f: Fetched): T {
  return JSON.parse(f.text) as T;
}
