import { homebrewProvenance } from "./provenance.ts";
import { defineChannel, lazyProbe } from "../channel.ts";
import { homebrewInit } from "./init.ts";
import { checkHomebrew } from "./check.ts";
import { HomebrewChannelConfig, homebrewRules, homebrewTemplates } from "./config.ts";
import { planHomebrew } from "./plan.ts";
import { observedHomebrew, summaryHomebrew } from "./summary.ts";
import type { HomebrewObservation, HomebrewPlan } from "./types.ts";

/** Homebrew: the formula (or cask) in the project's tap, parsed, and cross-checked with the GitHub release. */
export const homebrew = defineChannel<"homebrew", HomebrewChannelConfig, HomebrewPlan, HomebrewObservation>({
  id: "homebrew",
  evidenceLabel: "Homebrew",
  statusColumn: "homebrew",
  defaultGrace: "30m",
  config: HomebrewChannelConfig,
  templates: homebrewTemplates,
  rules: homebrewRules,
  plan: planHomebrew,
  probe: lazyProbe("homebrew", async () => (await import("./probe.ts")).homebrewProbe),
  check: checkHomebrew,
  observed: observedHomebrew,
  summary: summaryHomebrew,
  provenance: homebrewProvenance,
  discover: async () => (await import("./discover.ts")).homebrewDiscovery,
  init: homebrewInit,
  sim: { services: ["github-api"] },
});
