/**
 * A clean plasmite sim with its config and a runtime (`options` added to a silent log), torn down by `cleanup` (the
 * caller's `after`).
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { loadConfigFile, type LoadedConfig } from "../../src/config/load.ts";
import type { ProjectConfig } from "../../src/config/schema.ts";
import { createRuntime, type RuntimeOptions } from "../../src/runtime/runtime.ts";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

export async function cleanWorld(
  cleanup: (() => Promise<void> | void)[],
  options: Omit<RuntimeOptions, "logLevel"> = {},
): Promise<{
  sim: Sim;
  loaded: LoadedConfig;
  project: ProjectConfig;
  rt: ReturnType<typeof createRuntime>;
}> {
  const sim = await startSim();
  cleanup.push(() => sim.close());
  applyScenario(sim.world, "clean");
  const dir = tempDir("rm-verify-");
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const loaded = loadConfigFile(writeConfig(dir, simConfigYaml(sim)), { env: {} });
  const project = loaded.config.projects[0];
  assert.ok(project);
  const rt = createRuntime(loaded, { ...options, logLevel: "silent" });
  cleanup.push(() => rt.close());
  return { sim, loaded, project, rt };
}
