import type { RegistryAnswer } from "../../discover/judge.ts";
import { errorMessage } from "../../errors.ts";
import type { ChannelDiscovery } from "../channel.ts";
import { npmProbe } from "./probe.ts";

/** The npm registry (npm's own configuration picks it) holds the release when it has that version's document. */
export const npmDiscovery: ChannelDiscovery = {
  async lookup(pkg, release, ctx): Promise<RegistryAnswer> {
    try {
      const o = await npmProbe.observe({ ...release, npm: { package: pkg } }, ctx);
      if (o.version_doc) return { status: "holds", version: o.version_doc.version, published_at: null };
      if (o.packument_found === false) return { status: "missing", reason: `${o.registry} has no package ${pkg}` };
      return {
        status: "missing",
        reason: `${o.registry} has ${pkg}${o.dist_tags["latest"] ? ` (latest ${o.dist_tags["latest"]})` : ""} but not ${release.version}`,
      };
    } catch (err) {
      return { status: "unknown", reason: `the npm registry could not tell: ${errorMessage(err)}` };
    }
  },
};
