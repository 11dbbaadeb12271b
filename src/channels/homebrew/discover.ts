import { candidatePaths, candidateTaps, tapPlatforms } from "../../discover/homebrew.ts";
import type { Candidate, RegistryAnswer } from "../../discover/judge.ts";
import { errorMessage } from "../../errors.ts";
import { readRepoFile } from "../../http/github-contents.ts";
import type { ProbeContext } from "../../probes/types.ts";
import type { ChannelDiscovery, InitRelease } from "../channel.ts";
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

/** The first formula or cask path in `tap` for any of the names; null when there is none; throws when unreadable. */
async function firstTapFile(tap: string, names: readonly string[], ctx: ProbeContext): Promise<string | null> {
  for (const name of names) {
    for (const path of candidatePaths(name)) {
      if ((await readTapFile(`${tap}:${path}`, ctx)) !== null) return `${tap}:${path}`;
    }
  }
  return null;
}

/**
 * Homebrew: the taps `<owner>/homebrew-tap` and `<owner>/homebrew-<repo>`, each formula or cask path for each name
 * the project goes by. The first file found per tap is the candidate. A tap that cannot be read (5xx, timeout) is
 * a candidate too, at its default formula path, after the found ones: its lookup then says it could not tell, so
 * the channel is kept with a `# could not verify` comment, never silently dropped.
 */
export const homebrewDiscovery: ChannelDiscovery = {
  async find(input, ctx): Promise<Candidate[]> {
    const found: Candidate[] = [];
    const unreadable: Candidate[] = [];
    for (const tap of candidateTaps(input.owner, input.repo)) {
      try {
        const hit = await firstTapFile(tap, input.names, ctx);
        if (hit) found.push({ channel: "homebrew", name: hit, source: `tap ${tap}` });
      } catch {
        // Its lookup asks again and says why it could not tell.
        unreadable.push({
          channel: "homebrew",
          name: `${tap}:${candidatePaths(input.repo)[0]!}`,
          source: `tap ${tap}`,
        });
      }
    }
    return [...found, ...unreadable];
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
    if (kept.could_not_verify) return guessedHomebrew(kept.name, release);
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

/**
 * A tap that could not be read: the channel is kept, its platforms and url taken from the release's platform assets
 * (what a generated formula points at), for verify to check. Undefined when the release has none.
 */
function guessedHomebrew(name: string, release: InitRelease): DiscoveredHomebrew | undefined {
  const { assets, tag, version } = release;
  const t = assets.templates.find((x) => x.platforms.length > 0);
  const sample = t?.platforms[0];
  if (!t || !sample) return undefined;
  const file = t.template
    .replace(/\{platform\}|\{target\}/, assets.platform_names[sample] ?? sample)
    .split("{tag}")
    .join(tag)
    .split("{version}")
    .join(version);
  const { owner, repo, path } = splitTapName(name);
  const names = t.platforms.flatMap((p) => (assets.platform_names[p] ? [[p, assets.platform_names[p]] as const] : []));
  return {
    tap: `${owner}/${repo}`,
    formula: path,
    kind: "formula",
    platforms: [...t.platforms],
    platform_names: Object.fromEntries(names),
    sample_url: `https://github.com/${release.repo}/releases/download/${tag}/${file}`,
    sample_platform: sample,
    guessed: true,
  };
}
