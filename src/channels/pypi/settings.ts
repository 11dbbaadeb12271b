import { z } from "zod";
import { HttpUrl } from "../../config/primitives.ts";
import type { ProbeEndpoints } from "../../probes/types.ts";
import { endpointsOf, type ChannelSettings } from "../channel.ts";

/** `settings.pypi`. */
export const PypiEndpoint = z.strictObject({
  url: HttpUrl.default("https://pypi.org"),
});
export type PypiEndpoint = z.infer<typeof PypiEndpoint>;

/** What the PyPI probe reads: the base URL without a trailing slash. */
export interface PypiEndpoints {
  url: string;
}

export const pypiSettings: ChannelSettings<PypiEndpoint, PypiEndpoints> = {
  schema: PypiEndpoint,
  endpoints: (b) => ({ url: b.url.replace(/\/+$/, "") }),
};

/** This channel's part of the probe context's endpoints. */
export const pypiEndpoints = (endpoints: ProbeEndpoints): PypiEndpoints => endpointsOf(endpoints, { id: "pypi" });
