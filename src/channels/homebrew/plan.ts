import { renderTemplate } from "../../plan/template.ts";
import type { PlanContext } from "../channel.ts";
import { github } from "../github/index.ts";
import type { HomebrewChannelConfig } from "./config.ts";
import type { HomebrewPlan } from "./types.ts";

/** The formula's expected URLs per platform; a URL into this release names the GitHub asset it should match. */
export function planHomebrew(hb: HomebrewChannelConfig, ctx: PlanContext): HomebrewPlan {
  const [tap_owner = "", tap_repo = ""] = hb.tap.split("/");
  const { tag, version } = ctx.release;
  const assetNames = new Set(ctx.peers.plan(github)?.assets.map((a) => a.name) ?? []);
  return {
    tap_owner,
    tap_repo,
    path: renderTemplate(hb.formula, ctx.vars),
    ref: hb.branch,
    version,
    artifacts: ctx.platforms(hb.platforms, "homebrew").map((platform) => {
      const spelled = ctx.platformName(platform);
      const url = renderTemplate(hb.url, { ...ctx.vars, platform: spelled, target: spelled });
      const last = decodeURIComponent(url.split("/").pop() ?? "");
      const fromThisRelease = url.includes(`/releases/download/${tag}/`) && assetNames.has(last);
      return { platform, url, asset_name: fromThisRelease ? last : null };
    }),
  };
}
