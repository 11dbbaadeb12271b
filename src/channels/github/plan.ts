import { renderTemplate } from "../../plan/template.ts";
import type { PlanContext } from "../channel.ts";
import { checksumFileTemplate, sidecarSuffix, usesPlatform, type GithubChannelConfig } from "./config.ts";
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
    if (usesPlatform(t)) {
      for (const platform of platforms) {
        // `{target}` is `{platform}` for names spelled by Rust target (cargo-dist): both render the platform's name.
        const spelled = ctx.platformName(platform);
        assets.push({ name: renderTemplate(t, { ...ctx.vars, platform: spelled, target: spelled }), platform });
      }
    } else {
      assets.push({ name: renderTemplate(t, ctx.vars), platform: null });
    }
  }
  const file = checksumFileTemplate(gh);
  const sidecar = sidecarSuffix(gh);
  return {
    owner,
    repo,
    assets,
    checksum_file: file ? renderTemplate(file, ctx.vars) : null,
    ...(sidecar ? { checksum_sidecar: sidecar } : {}),
    ...(gh.extra_assets?.length ? { extra_assets: gh.extra_assets.map((t) => renderTemplate(t, ctx.vars)) } : {}),
    download_hosts: ctx.settings.github.download_hosts,
  };
}
