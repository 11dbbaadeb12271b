import type { RegistryAnswer } from "../../discover/judge.ts";
import { errorMessage } from "../../errors.ts";
import type { ChannelDiscovery } from "../channel.ts";
import { wheelPlatformsOf } from "./plan.ts";
import { pypiProbe } from "./probe.ts";

/**
 * PyPI holds the release when the project has that version; the earliest upload time is when it arrived. Its files
 * tell the block: the wheel platforms, or `wheel: null` (and `sdist: null`) when the release has none.
 */
export const pypiDiscovery: ChannelDiscovery = {
  async lookup(project, release, ctx): Promise<RegistryAnswer> {
    try {
      const o = await pypiProbe.observe({ ...release, pypi: { project, files: [] } }, ctx);
      if (o.release) {
        const files = o.release.files;
        const times = files.map((f) => f.upload_time).filter((t): t is string => t !== null);
        const platforms = wheelPlatformsOf(files.map((f) => f.filename));
        const block: Record<string, unknown> = platforms.length ? { platforms } : { wheel: null };
        if (!files.some((f) => f.packagetype === "sdist")) block["sdist"] = null;
        return { status: "holds", version: o.release.version, published_at: times.sort()[0] ?? null, block };
      }
      if (!o.project_found) return { status: "missing", reason: `PyPI has no project ${project}` };
      return {
        status: "missing",
        reason: `PyPI has ${project}${o.latest_version ? ` (latest ${o.latest_version})` : ""} but not ${release.version}`,
      };
    } catch (err) {
      return { status: "unknown", reason: `PyPI could not tell: ${errorMessage(err)}` };
    }
  },
};
