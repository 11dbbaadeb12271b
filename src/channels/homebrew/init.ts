import { escapeVersion } from "../../discover/assets.ts";
import type { ChannelInit, InitRelease } from "../channel.ts";

/** What `monitor init` read from the kept formula or cask (`ChannelDiscovery.details`). */
export interface DiscoveredHomebrew {
  tap: string;
  formula: string;
  kind: "formula" | "cask";
  platforms: string[];
  platform_names: Record<string, string>;
  /** One artifact url of the formula (any platform), as `#{version}`-resolved text. */
  sample_url: string | null;
  sample_platform: string | null;
}

function homebrewUrl(h: DiscoveredHomebrew, r: InitRelease): string | null {
  if (!h.sample_url || !h.sample_platform) return null;
  // The formula must spell platforms as the assets do (the project has one `platform_names`).
  const names = r.assets.platform_names;
  if (Object.entries(h.platform_names).some(([id, n]) => names[id] !== n)) return null;
  const spelled = names[h.sample_platform] ?? h.sample_platform;
  const i = h.sample_url.lastIndexOf(spelled);
  if (i < 0) return null;
  const url = `${h.sample_url.slice(0, i)}{platform}${h.sample_url.slice(i + spelled.length)}`;
  return escapeVersion(url.replace(`https://github.com/${r.repo}/`, "https://github.com/{repo}/"), r.tag, r.version);
}

/** `monitor init` for Homebrew: the block from the kept tap file's platforms and one of its urls. */
export const homebrewInit: ChannelInit = {
  block({ kept, details, release }) {
    const h = details as DiscoveredHomebrew | undefined;
    if (!kept || !h) return { block: null, notes: [] };
    const url = homebrewUrl(h, release);
    if (url) return { block: { tap: h.tap, formula: h.formula, platforms: h.platforms, url }, notes: [] };
    return {
      block: null,
      notes: [
        `homebrew ${h.kind} ${h.tap}:${h.formula} found, but its urls name platforms ${JSON.stringify(h.platform_names)}, which this schema cannot express yet`,
      ],
    };
  },
};
