/**
 * Homebrew provenance (provenance.md §3.5): a tap formula has no attestation of its own. Each url's sha256 that
 * equals a GitHub asset's digest inherits that asset's result; a sha256 that matches no attested asset has none.
 */
import type { GithubObservation } from "../github/types.ts";
import type { HomebrewObservation } from "./types.ts";
import type { Compared } from "../../provenance/compare.ts";
import type { ChannelProvenance, GatheredItem } from "../../provenance/gather.ts";

const NONE: Compared["result"] = {
  signature: "absent",
  repository: null,
  workflow: null,
  ref: null,
  commit: null,
  subjects_matched: false,
};

export const homebrewProvenance: ChannelProvenance = {
  channel: "homebrew",
  inherits: "github",
  gather(ctx, inherited) {
    const o = ctx.observations.homebrew as HomebrewObservation | null | undefined;
    const gh = ctx.observations.github as GithubObservation | null | undefined;
    if (!ctx.plan.homebrew || !o?.formula || o.formula.version !== ctx.plan.homebrew.version)
      return Promise.resolve({ items: [], findings: [], nothing: "no formula of this version to check" });
    const apiDigests = new Set(
      (gh?.release?.assets ?? []).flatMap((a) => (a.digest ? [a.digest.replace(/^sha256:/, "").toLowerCase()] : [])),
    );
    const bySha = new Map([...inherited.values()].flatMap((i) => (i.sha256 ? [[i.sha256, i] as const] : [])));
    const items: GatheredItem[] = [];
    for (const art of o.formula.artifacts) {
      const sha = art.sha256?.toLowerCase() ?? "";
      const subject = art.resolved_url.slice(art.resolved_url.lastIndexOf("/") + 1) || art.resolved_url;
      const from = bySha.get(sha);
      if (from) {
        items.push({ subject, compared: from.compared });
        continue;
      }
      if (apiDigests.has(sha) || inherited.size === 0) {
        // The GitHub asset was not checked (GitHub provenance off or unreadable): cannot tell.
        items.push({ subject, compared: { result: { ...NONE, signature: "unknown" }, findings: [] } });
        continue;
      }
      items.push({
        subject,
        compared: {
          result: NONE,
          findings: [
            {
              code: "provenance-missing",
              message: `the formula's sha256 for ${subject} is no attested GitHub asset's`,
              subject,
              actual: sha ? `sha256:${sha}` : "(none)",
            },
          ],
        },
      });
    }
    return Promise.resolve({ items, findings: [], inherited: "github" });
  },
};
