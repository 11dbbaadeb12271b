import { escapeVersion, rustTargetPlatform } from "../../discover/assets.ts";
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
  /** The tap could not be read: platforms and url are the release assets', for verify to check. */
  guessed?: true;
}

function homebrewUrl(h: DiscoveredHomebrew, r: InitRelease): string | null {
  if (!h.sample_url || !h.sample_platform) return null;
  // The formula must spell platforms as the assets do (the project has one `platform_names`).
  const names = r.assets.platform_names;
  if (Object.entries(h.platform_names).some(([id, n]) => names[id] !== n)) return null;
  const spelled = names[h.sample_platform] ?? h.sample_platform;
  const i = h.sample_url.lastIndexOf(spelled);
  if (i < 0) return null;
  // Rust target triples (cargo-dist) read as `{target}`, as the github assets write them.
  const placeholder = rustTargetPlatform(spelled) ? "{target}" : "{platform}";
  const url = `${h.sample_url.slice(0, i)}${placeholder}${h.sample_url.slice(i + spelled.length)}`;
  return escapeVersion(url.replace(`https://github.com/${r.repo}/`, "https://github.com/{repo}/"), r.tag, r.version);
}

/** `monitor init` for Homebrew: the block from the kept tap file's platforms and one of its urls. */
export const homebrewInit: ChannelInit = {
  block({ kept, details, release }) {
    const h = details as DiscoveredHomebrew | undefined;
    if (!kept) return { block: null, notes: [] };
    if (!h) {
      // Never silently dropped: say which tap, and why there is no block.
      const why = kept.could_not_verify ? ` (${kept.could_not_verify})` : "";
      return {
        block: null,
        notes: [
          `homebrew ${kept.name} (${kept.source}) could not be read and the release has no platform assets to take its url from: add channels.homebrew by hand${why}`,
        ],
      };
    }
    const url = homebrewUrl(h, release);
    if (url) {
      const notes = h.guessed ? ["platforms and url are the release assets' (the tap could not be read)"] : [];
      return { block: { tap: h.tap, formula: h.formula, platforms: [...h.platforms], url }, notes };
    }
    return {
      block: null,
      notes: [
        `homebrew ${h.kind} ${h.tap}:${h.formula} found, but its urls name platforms ${JSON.stringify(h.platform_names)}, which this schema cannot express yet`,
      ],
    };
  },
};
