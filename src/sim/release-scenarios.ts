import { plasmiteWorkflowsWithPartialRelease } from "./model-actions.ts";
import { DEFAULT_GATES, type Rehearsal, type RehearsalOptions } from "./release-rehearsal.ts";

/** The scripted worlds `monitor release <tag> --sim <scenario>` rehearses the driver against. */
export interface ReleaseSimScenario {
  description: string;
  options?: () => RehearsalOptions;
  /** Scripts the world after it is built. */
  script?: (r: Rehearsal) => void;
  /** The recovery a second run rehearses after the first one failed and its blocker was closed. */
  recovery?: "resume" | "build-run-id";
}

const failingGate = {
  name: "cargo-clippy",
  run: [
    process.execPath,
    "-e",
    "console.log('Checking plasmite v0.9.0'); console.error('error: unused variable: `ring` (src/store.rs:88)'); process.exit(101)",
  ],
};

export const RELEASE_SIM_SCENARIOS: Record<string, ReleaseSimScenario> = {
  happy: { description: "every step succeeds and every channel delivers" },
  "gate-fails": {
    description: "a required QA gate fails: nothing is tagged, a blocker is filed",
    options: () => ({ gates: [DEFAULT_GATES[0]!, failingGate, ...DEFAULT_GATES.slice(1)] }),
  },
  "build-fails": {
    description: "the release build run fails on one platform: nothing is published",
    script: (r) =>
      r.sim.world.actions.script("release.yml", [
        { conclusion: "failure", failJob: "build-platform (x86_64-apple-darwin)" },
      ]),
  },
  "publish-fails-then-fixed": {
    description: "the live publish fails on npm; the blocker is closed and --resume reruns publish only",
    script: (r) =>
      r.sim.world.actions.script("release-publish.yml", [
        { conclusion: "failure", failJob: "publish-npm", rehearsal: false },
      ]),
    recovery: "resume",
  },
  "credential-fix-rerun": {
    description:
      "the live publish fails in publish-preflight (credentials); after the fix, --build-run-id reruns publish from the build",
    script: (r) =>
      r.sim.world.actions.script("release-publish.yml", [
        { conclusion: "failure", failJob: "publish-preflight", rehearsal: false },
      ]),
    recovery: "build-run-id",
  },
  "registry-down-bypass": {
    description:
      "PyPI is down; release-publish.yml has the historic skip_* / allow_partial_release inputs: --skip-channel pypi --allow-partial ships the rest",
    options: () => ({ workflows: plasmiteWorkflowsWithPartialRelease() }),
    script: (r) => r.sim.world.actions.downChannels.add("pypi"),
  },
};
