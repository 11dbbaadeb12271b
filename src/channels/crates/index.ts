import { cratesProvenance } from "./provenance.ts";
import { cratesSettings, type CratesEndpoint, type CratesEndpoints } from "./settings.ts";
import { defineChannel, lazyProbe } from "../channel.ts";
import { cratesInit } from "./init.ts";
import { checkCrates } from "./check.ts";
import { CratesChannelConfig } from "./config.ts";
import { PUBLISH_SKIP_INPUT } from "./publish-flag.ts";
import { observedCrates, summaryCrates } from "./summary.ts";
import type { CratesObservation, CratesPlan } from "./types.ts";

/** crates.io: the API's version document, the sparse index and (deep) the .crate file. */
export const crates = defineChannel<
  "crates",
  CratesChannelConfig,
  CratesPlan,
  CratesObservation,
  unknown,
  CratesEndpoint,
  CratesEndpoints
>({
  id: "crates",
  evidenceLabel: "crates.io",
  statusColumn: "crates",
  defaultGrace: "10m",
  settings: cratesSettings,
  config: CratesChannelConfig,
  plan: (c) => ({ crate: c.crate }),
  probe: lazyProbe("crates", async () => (await import("./probe.ts")).cratesProbe),
  check: checkCrates,
  observed: observedCrates,
  summary: summaryCrates,
  publishSkipInput: PUBLISH_SKIP_INPUT,
  provenance: cratesProvenance,
  discover: async () => (await import("./discover.ts")).cratesDiscovery,
  init: cratesInit,
  sim: { services: ["crates-api", "crates-index", "crates-static"] },
});
