import { z } from "zod";
import { boundedDuration, parseDuration } from "../../config/duration.ts";
import { HttpUrl } from "../../config/primitives.ts";
import type { ProbeEndpoints } from "../../probes/types.ts";
import { endpointsOf, type ChannelSettings } from "../channel.ts";

/** `settings.crates`. */
export const CratesEndpoint = z.strictObject({
  api_url: HttpUrl.default("https://crates.io"),
  index_url: HttpUrl.default("https://index.crates.io").describe("Sparse index base."),
  api_min_interval: boundedDuration("1h")
    .default("1s")
    .describe("crates.io allows at most one API request per second."),
});
export type CratesEndpoint = z.infer<typeof CratesEndpoint>;

/** What the crates probe reads: base URLs without a trailing slash. */
export interface CratesEndpoints {
  api: string;
  index: string;
}

const trim = (url: string): string => url.replace(/\/+$/, "");

export const cratesSettings: ChannelSettings<CratesEndpoint, CratesEndpoints> = {
  schema: CratesEndpoint,
  endpoints: (b) => ({ api: trim(b.api_url), index: trim(b.index_url) }),
  // crates.io allows one API request per second: enforce it on the configured API host unless overridden.
  hostLimits: (b) => ({
    [new URL(b.api_url).host]: { concurrency: 1, min_interval_ms: parseDuration(b.api_min_interval) ?? 0 },
  }),
};

/** This channel's part of the probe context's endpoints. */
export const cratesEndpoints = (endpoints: ProbeEndpoints): CratesEndpoints => endpointsOf(endpoints, { id: "crates" });
