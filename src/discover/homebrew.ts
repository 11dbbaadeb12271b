import { parseFormula } from "../channels/homebrew/parse-formula.ts";
import type { FormulaContext } from "../channels/homebrew/types.ts";
import { rustTargetPlatform } from "./assets.ts";

/** Taps to look in, most specific first: `<owner>/homebrew-tap`, then `<owner>/homebrew-<repo>`. */
export function candidateTaps(owner: string, repo: string): string[] {
  return [...new Set([`${owner}/homebrew-tap`, `${owner}/homebrew-${repo}`])];
}

/** Paths in a tap where a formula or cask named `name` lives (GoReleaser's default is `Casks/`). */
export function candidatePaths(name: string): string[] {
  return [`Formula/${name}.rb`, `${name}.rb`, `Casks/${name}.rb`];
}

export interface TapPlatforms {
  kind: "formula" | "cask";
  /** Canonical platform ids the formula or cask has a url for, sorted. */
  platforms: string[];
  /** Platform id -> the platform part of the url's file name, where it differs from the id. */
  platform_names: Record<string, string>;
  /** Url of the first artifact, for the caller to turn into a template. */
  urls: Record<string, string>;
  warnings: string[];
}

function contextPlatform(ctx: FormulaContext): string | null {
  if (!ctx.os || !ctx.cpu) return null;
  return `${ctx.os === "macos" ? "darwin" : "linux"}_${ctx.cpu === "arm" ? "arm64" : "amd64"}`;
}

/** The name part of a url's file name that names its platform (`Darwin_x86_64`, `aarch64-apple-darwin`). */
function platformPart(url: string): string | null {
  const file = url.slice(url.lastIndexOf("/") + 1);
  const rust = /(x86_64|aarch64)-(apple-darwin|unknown-linux-gnu|unknown-linux-musl)/.exec(file);
  if (rust && rustTargetPlatform(rust[0])) return rust[0];
  const osArch = /(darwin|macos|linux)[_-](x86_64|amd64|x64|aarch64|arm64)/i.exec(file);
  return osArch ? osArch[0] : null;
}

/** Platforms of a formula or cask, read with the homebrew probe's own parser (casks included). */
export function tapPlatforms(text: string): TapPlatforms {
  const parsed = parseFormula(text);
  const platform_names: Record<string, string> = {};
  const urls: Record<string, string> = {};
  for (const art of parsed.artifacts) {
    const platform = contextPlatform(art.context);
    if (!platform || urls[platform]) continue;
    urls[platform] = art.resolved_url;
    const part = platformPart(art.resolved_url);
    if (part && part !== platform) platform_names[platform] = part;
  }
  return {
    kind: parsed.kind,
    platforms: Object.keys(urls).sort(),
    platform_names,
    urls,
    warnings: parsed.warnings,
  };
}
