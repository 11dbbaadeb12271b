import { npmProvenance } from "./provenance.ts";
import { npmSettings, type NpmEndpoint, type NpmEndpoints } from "./settings.ts";
import { defineChannel, lazyProbe } from "../channel.ts";
import { npmInit } from "./init.ts";
import { checkNpm } from "./check.ts";
import { NpmChannelConfig } from "./config.ts";
import { PUBLISH_SKIP_INPUT } from "./publish-flag.ts";
import { observedNpm, summaryNpm } from "./summary.ts";
import type { NpmObservation, NpmPlan } from "./types.ts";

/** npm: the packument, dist-tags and the version document of the package's registry. */
export const npm = defineChannel<"npm", NpmChannelConfig, NpmPlan, NpmObservation, unknown, NpmEndpoint, NpmEndpoints>({
  id: "npm",
  evidenceLabel: "npm",
  statusColumn: "npm",
  defaultGrace: "15m",
  settings: npmSettings,
  config: NpmChannelConfig,
  plan: (c) => ({ package: c.package }),
  probe: lazyProbe("npm", async () => (await import("./probe.ts")).npmProbe),
  check: checkNpm,
  observed: observedNpm,
  summary: summaryNpm,
  publishSkipInput: PUBLISH_SKIP_INPUT,
  provenance: npmProvenance,
  discover: async () => (await import("./discover.ts")).npmDiscovery,
  init: npmInit,
  sim: { services: ["npm"] },
});
