import type { RegistryAnswer } from "../../discover/judge.ts";
import { errorMessage } from "../../errors.ts";
import type { ChannelDiscovery } from "../channel.ts";
import { cratesProbe } from "./probe.ts";

/** crates.io holds the release when its API or sparse index has the version (yanked counts: it was published). */
export const cratesDiscovery: ChannelDiscovery = {
  async lookup(crate, release, ctx): Promise<RegistryAnswer> {
    try {
      const o = await cratesProbe.observe({ ...release, crates: { crate } }, ctx);
      const entry = o.index.entries.find((e) => e.vers === release.version || e.vers.startsWith(`${release.version}+`));
      if (o.api_version || entry) {
        return {
          status: "holds",
          version: release.version,
          published_at: o.api_version?.created_at ?? entry?.pubtime ?? null,
        };
      }
      if (!o.index.found) return { status: "missing", reason: `crates.io has no crate ${crate}` };
      const latest = o.index.entries.at(-1)?.vers;
      return {
        status: "missing",
        reason: `crates.io has ${crate}${latest ? ` up to ${latest}` : ""} but not ${release.version}`,
      };
    } catch (err) {
      return { status: "unknown", reason: `crates.io could not tell: ${errorMessage(err)}` };
    }
  },
};
