import { z } from "zod";
import type { NpmrcView } from "../../config/npmrc.ts";
import { HttpUrl } from "../../config/primitives.ts";
import type { ProbeEndpoints } from "../../probes/types.ts";
import { endpointsOf, type ChannelSettings } from "../channel.ts";

/** `settings.npm`. */
export const NpmEndpoint = z.strictObject({
  registry: HttpUrl.optional().describe(
    "Wins for unscoped packages (an .npmrc @scope:registry wins for its scope); default: npm's own configuration.",
  ),
  token: z
    .string()
    .optional()
    .describe("Bearer token sent to the package's npm registry only; default: the .npmrc credential for it."),
});
export type NpmEndpoint = z.infer<typeof NpmEndpoint>;

/** What the npm probe reads. */
export interface NpmEndpoints {
  /** settings.npm.registry (ends with "/"): wins for unscoped packages; null lets npm's configuration decide. */
  registry: string | null;
  /** npm's own configuration (.npmrc files, npm_config_* variables); absent for the sim. */
  npmrc?: (() => Promise<NpmrcView>) | null;
  /** settings.npm.token: sent to the package's registry only. */
  token?: string | null;
}

/** A registry base URL as npm joins it: with a trailing slash. */
export function normalizeRegistry(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

export const npmSettings: ChannelSettings<NpmEndpoint, NpmEndpoints> = {
  schema: NpmEndpoint,
  endpoints: (b, inputs) => ({
    registry: b.registry ? normalizeRegistry(b.registry) : null,
    npmrc: inputs.npmrc,
    token: b.token ?? null,
  }),
  secrets: (b) => [b.token],
};

/** This channel's part of the probe context's endpoints. */
export const npmEndpoints = (endpoints: ProbeEndpoints): NpmEndpoints => endpointsOf(endpoints, { id: "npm" });
