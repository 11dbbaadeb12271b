/**
 * Shared by the daemon tests that need many projects or a busy crates.io API queue: N sim projects with every
 * channel (named p0000, p0001, ...), their monitor config, and a hold on the process-wide crates.io API queue.
 */
import { rmSync } from "node:fs";
import { cratesApiQueue, type ApiDocResponse } from "../../src/channels/crates/api-queue.ts";
import { PLASMITE_PROJECTS_YAML } from "../../src/sim/config-yaml.ts";
import type { Sim } from "../../src/sim/index.ts";
import {
  benchProjectName,
  benchProjectSpec,
  GITHUB_PLATFORMS,
  HOMEBREW_PLATFORMS,
  WHEEL_PLATFORMS,
} from "../../bench/lib/worlds.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

export const MANY_TOKEN = "ghp_tick";
export const nameOf = benchProjectName;

/** Adds `count` projects to the sim world (the bench's scale shape), each with `version` published two days ago. */
export function addProjects(sim: Sim, count: number, version: string): void {
  const published = sim.world.now() - 48 * 3_600_000;
  for (let i = 0; i < count; i++) {
    sim.world.addProject(benchProjectSpec(i));
    sim.world.publish(nameOf(i), version, { publishedAt: published - i * 1000 });
  }
}

function projectYaml(i: number): string {
  const n = nameOf(i);
  return `  - name: ${n}
    repo: bench/${n}
    channels:
      github:
        platforms: [${GITHUB_PLATFORMS.join(", ")}]
        assets: ["${n}_{version}_{platform}.tar.gz"]
        checksums: sha256sums.txt
      crates: { crate: ${n} }
      npm: { package: ${n} }
      pypi:
        project: ${n}
        platforms: [${WHEEL_PLATFORMS.join(", ")}]
      homebrew:
        tap: bench/homebrew-${n}
        formula: Formula/${n}.rb
        platforms: [${HOMEBREW_PLATFORMS.join(", ")}]
        url: "https://github.com/{repo}/releases/download/{tag}/${n}_{version}_{platform}.tar.gz"
`;
}

/** A config watching the first `count` projects (the sim started with `githubToken: MANY_TOKEN`). */
export function manyProjectsConfig(sim: Sim, count: number, cleanup: (() => void)[]): string {
  const dir = tempDir("rm-tick-");
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const settings = ["  state_dir: state", "  watch:", '    jitter: "0"', '    hot_interval: "0"'].join("\n");
  const projects = `projects:\n${Array.from({ length: count }, (_, i) => projectYaml(i)).join("")}`;
  // Generous timeouts: many cycles share a loaded machine, and a retried request would count twice.
  const yaml = simConfigYaml(sim, { settings, token: MANY_TOKEN })
    .replace(PLASMITE_PROJECTS_YAML, projects)
    .replace(/(request_timeout|headers_timeout|body_timeout): 1500ms/g, "$1: 60s");
  return writeConfig(dir, yaml);
}

/** Occupies the process-wide queue until `release()`: every crates.io API request made meanwhile waits behind it. */
export function holdQueue(): { release: () => void } {
  let release = (): void => {};
  const answer = new Promise<ApiDocResponse>((resolve) => {
    release = () => resolve({ status: 404, body: "" });
  });
  void cratesApiQueue.get(`test://blocker/${Math.random()}`, () => answer);
  return { release };
}
