import { pypiProvenance } from "./provenance.ts";
import { pypiSettings, type PypiEndpoint, type PypiEndpoints } from "./settings.ts";
import { defineChannel, lazyProbe } from "../channel.ts";
import { pypiInit } from "./init.ts";
import { checkPypi } from "./check.ts";
import { PypiChannelConfig, pypiRules, pypiTemplates } from "./config.ts";
import { planPypi } from "./plan.ts";
import { PUBLISH_SKIP_INPUT } from "./publish-flag.ts";
import { observedPypi, summaryPypi } from "./summary.ts";
import type { PypiObservation, PypiPlan } from "./types.ts";

/** PyPI: the project and release JSON, and the release's files. */
export const pypi = defineChannel<
  "pypi",
  PypiChannelConfig,
  PypiPlan,
  PypiObservation,
  unknown,
  PypiEndpoint,
  PypiEndpoints
>({
  id: "pypi",
  evidenceLabel: "PyPI",
  statusColumn: "pypi",
  defaultGrace: "20m",
  settings: pypiSettings,
  config: PypiChannelConfig,
  templates: pypiTemplates,
  rules: pypiRules,
  plan: planPypi,
  probe: lazyProbe("pypi", async () => (await import("./probe.ts")).pypiProbe),
  check: checkPypi,
  observed: observedPypi,
  summary: summaryPypi,
  publishSkipInput: PUBLISH_SKIP_INPUT,
  provenance: pypiProvenance,
  discover: async () => (await import("./discover.ts")).pypiDiscovery,
  init: pypiInit,
  sim: { services: ["pypi", "pypi-files"] },
});
