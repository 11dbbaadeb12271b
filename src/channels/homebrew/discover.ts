import { candidatePaths, candidateTaps, tapPlatforms } from "../../discover/homebrew.ts";
import type { Candidate, RegistryAnswer } from "../../discover/judge.ts";
import { errorMessage } from "../../errors.ts";
import { readRepoFile } from "../../http/github-contents.ts";
import type { ProbeContext } from "../../probes/types.ts";
import type { ChannelDiscovery } from "../channel.ts";
import { parseFormula } from "./parse-formula.ts";
import type { DiscoveredHomebrew } from "./init.ts";
import { FORMULA_MAX_BYTES } from "./probe.ts";

/** The tap branch `monitor init` reads (the config's default `branch`). */
export const TAP_BRANCH = "main";

/** `owner/homebrew-tap:Formula/name.rb` -> its parts. */
export function splitTapName(name: string): { owner: string; repo: string; path: string } {
  const [tap = "", path = ""] = name.split(":");
  const [owner = "", repo = ""] = tap.split("/");
  return { owner, repo, path };
}

/** The formula or cask text at `tap:path` on the tap's branch; null when there is none (404). */
export function readTapFile(name: string, ctx: ProbeContext): Promise<string | null> {
  const { owner, repo, path } = splitTapName(name);
  return readRepoFile(ctx.octokit, {
    owner,
    repo,
    path,
    ref: TAP_BRANCH,
    signal: ctx.signal,
    maxBytes: FORMULA_MAX_BYTES,
  });
}

/**
 * Homebrew: the taps `<owner>/homebrew-tap` and `<owner>/homebrew-<repo>`, each formula or cask path for each name
 * the project goes by. The first file found per tap is the candidate; a tap that cannot be read throws (could not
 * tell, never "no tap").
 */
export const homebrewDiscovery: ChannelDiscovery = {
  async find(input, ctx): Promise<Candidate[]> {
    const out: Candidate[] = [];
    for (const tap of candidateTaps(input.owner, input.repo)) {
      search: for (const name of input.names) {
        for (const path of candidatePaths(name)) {
          const candidate = `${tap}:${path}`;
          if ((await readTapFile(candidate, ctx)) !== null) {
            out.push({ channel: "homebrew", name: candidate, source: `tap ${tap}` });
            break search;
          }
        }
      }
    }
    return out;
  },
  async lookup(name, release, ctx): Promise<RegistryAnswer> {
    try {
      const text = await readTapFile(name, ctx);
      if (text === null) return { status: "missing", reason: `no file ${name}` };
      // A formula behind the release is still the project's Homebrew channel: that lag is what verify reports.
      const parsed = parseFormula(text);
      if (parsed.version === null && parsed.artifacts.length === 0) {
        return { status: "missing", reason: `${name} is not a formula or cask release-monitor can read` };
      }
      return { status: "holds", version: release.version, published_at: null };
    } catch (err) {
      return { status: "unknown", reason: `the tap could not be read: ${errorMessage(err)}` };
    }
  },
  async details(kept, release, ctx): Promise<DiscoveredHomebrew | undefined> {
    if (kept.could_not_verify) return undefined;
    const text = await readTapFile(kept.name, ctx);
    if (text === null) return undefined;
    const p = tapPlatforms(text);
    const { owner, repo, path } = splitTapName(kept.name);
    const sample = p.platforms[0] ?? null;
    // A formula behind the release: its urls name its own version; the config's url is over the release's.
    const formulaVersion = parseFormula(text).version;
    const { tag, version, tag_prefix } = release;
    const rebase = (url: string) =>
      formulaVersion && formulaVersion !== version
        ? url.split(`${tag_prefix}${formulaVersion}`).join(tag).split(formulaVersion).join(version)
        : url;
    return {
      tap: `${owner}/${repo}`,
      formula: path,
      kind: p.kind,
      platforms: p.platforms,
      platform_names: p.platform_names,
      sample_url: sample && p.urls[sample] ? rebase(p.urls[sample]) : null,
      sample_platform: sample,
    };
  },
};
