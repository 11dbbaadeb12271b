import { renderTemplate } from "../../plan/template.ts";
import type { PlanContext } from "../channel.ts";
import type { GithubChannelConfig } from "./config.ts";
import type { ExpectedAsset, GithubPlan } from "./types.ts";

/** The part of the settings the GitHub plan reads. */
export interface GithubPlanSettings {
  github: { download_hosts: string[] };
}

export function planGithub(gh: GithubChannelConfig, ctx: PlanContext<GithubPlanSettings>): GithubPlan {
  const [owner = "", repo = ""] = ctx.release.repo.split("/");
  const platforms = ctx.platforms(gh.platforms, "github_sdk");
  const assets: ExpectedAsset[] = [];
  for (const t of gh.assets) {
    if (t.includes("{platform}")) {
      for (const platform of platforms) {
        assets.push({ name: renderTemplate(t, { ...ctx.vars, platform: ctx.platformName(platform) }), platform });
      }
    } else {
      assets.push({ name: renderTemplate(t, ctx.vars), platform: null });
    }
  }
  return {
    owner,
    repo,
    assets,
    checksum_file: gh.checksums ? renderTemplate(gh.checksums, ctx.vars) : null,
    download_hosts: ctx.settings.github.download_hosts,
  };
}
