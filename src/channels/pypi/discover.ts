import type { RegistryAnswer } from "../../discover/judge.ts";
import { errorMessage } from "../../errors.ts";
import type { PlanBase, ProbeContext } from "../../probes/types.ts";
import type { ChannelDiscovery } from "../channel.ts";
import type { PypiDetails } from "./init.ts";
import { pypiProbe } from "./probe.ts";
import type { PypiObservation } from "./types.ts";

/**
 * One discovery's PyPI observations by project and version, as `lookup` made them: `details` reads the files of
 * the release `lookup` has just observed instead of asking PyPI for both documents again. Keyed by the discovery's
 * context, so a later discovery (another context) asks afresh; a failed observation is not kept.
 */
const looked = new WeakMap<ProbeContext, Map<string, Promise<PypiObservation>>>();
const lookKey = (project: string, version: string) => `${project}\0${version}`;

function lookupObservation(project: string, release: PlanBase, ctx: ProbeContext): Promise<PypiObservation> {
  let byKey = looked.get(ctx);
  if (!byKey) looked.set(ctx, (byKey = new Map<string, Promise<PypiObservation>>()));
  const key = lookKey(project, release.version);
  const o = pypiProbe.observe({ ...release, pypi: { project, files: [] } }, ctx);
  byKey.set(key, o);
  o.catch(() => byKey.delete(key));
  return o;
}

/** PyPI holds the release when the project has that version; the earliest upload time is when it arrived. */
export const pypiDiscovery: ChannelDiscovery = {
  async lookup(project, release, ctx): Promise<RegistryAnswer> {
    try {
      const o = await lookupObservation(project, release, ctx);
      if (o.release) {
        const times = o.release.files.map((f) => f.upload_time).filter((t): t is string => t !== null);
        return { status: "holds", version: o.release.version, published_at: times.sort()[0] ?? null };
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
  /** The release's file names on PyPI (its wheels tell the block's platforms); null when PyPI could not tell. */
  async details(kept, release, ctx): Promise<PypiDetails> {
    if (kept.could_not_verify) return { files: null };
    const base = { project: kept.name, repo: release.repo, tag: release.tag, version: release.version };
    try {
      const o = await (looked.get(ctx)?.get(lookKey(kept.name, release.version)) ??
        pypiProbe.observe({ ...base, expect_latest: false, pypi: { project: kept.name, files: [] } }, ctx));
      return { files: o.release ? o.release.files.map((f) => f.filename) : null };
    } catch {
      return { files: null };
    }
  },
};
