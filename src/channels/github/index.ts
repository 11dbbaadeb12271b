import type { PlanBase } from "../../probes/types.ts";
import { githubProvenance } from "./provenance.ts";
import { defineChannel, lazyProbe, type PeerView, type ReleaseAnchor } from "../channel.ts";
import { checkGithub } from "./check.ts";
import { githubInit } from "./init.ts";
import { GithubChannelConfig, githubRules, githubTemplates } from "./config.ts";
import { planGithub, type GithubPlanSettings } from "./plan.ts";
import { observedGithub, summaryGithub } from "./summary.ts";
import type { GithubObservation, GithubPlan } from "./types.ts";

/**
 * The release's anchor: grace windows count from the GitHub release's `published_at` (a draft has none, so its
 * window counts from `created_at`), and GitHub's latest release decides `expect_latest: auto`.
 */
function anchor(view: PeerView<GithubObservation>, release: PlanBase): ReleaseAnchor {
  if (view.state === "failed") {
    return {
      start: { kind: "unknown", why: "GitHub release time unknown: cannot tell propagation lag from drift" },
      published_at: null,
      latest: false,
    };
  }
  if (view.state !== "observed") return { start: { kind: "none" }, published_at: null, latest: false };
  const r = view.observation.release;
  const at = (r?.draft ? r.created_at : r?.published_at) ?? null;
  const ms = at === null ? Number.NaN : Date.parse(at);
  return {
    start: Number.isFinite(ms) ? { kind: "at", ms } : { kind: "none" },
    published_at: r?.published_at ?? null,
    latest: view.observation.latest_release_tag === release.tag,
  };
}

/** GitHub Releases: the tag, the release, its assets and checksum file. */
export const github = defineChannel<"github", GithubChannelConfig, GithubPlan, GithubObservation, GithubPlanSettings>({
  id: "github",
  evidenceLabel: "GitHub release artifacts",
  statusColumn: "github",
  defaultGrace: "5m",
  config: GithubChannelConfig,
  templates: githubTemplates,
  rules: githubRules,
  plan: planGithub,
  probe: lazyProbe("github", async () => (await import("./probe.ts")).githubProbe),
  check: checkGithub,
  observed: observedGithub,
  summary: summaryGithub,
  anchor,
  provenance: githubProvenance,
  init: githubInit,
  sim: { services: ["github-api", "github-web", "github-download"] },
});
