import type { CheckInput } from "../channel.ts";
import { github as githubChannel } from "../github/index.ts";
import { githubHashClaims } from "../github/hash-claims.ts";
import type { FormulaArtifact, FormulaContext, HomebrewObservation, HomebrewPlan, ParsedFormula } from "./types.ts";
import { drift, info, lag, listNames, pending, sha256Hex, type Draft } from "../../drift/findings.ts";
import { compareVersions, sameVersion } from "../../drift/versions.ts";

export interface PlatformContext {
  /** "other" (e.g. windows) matches only formula branches that do not name an OS. */
  os: "macos" | "linux" | "other";
  /** null: any CPU (e.g. a universal build). */
  cpu: "arm" | "intel" | null;
}

const OS: Record<string, PlatformContext["os"]> = {
  darwin: "macos",
  macos: "macos",
  mac: "macos",
  osx: "macos",
  apple: "macos",
  linux: "linux",
};
const CPU: Record<string, PlatformContext["cpu"]> = {
  arm64: "arm",
  aarch64: "arm",
  arm: "arm",
  amd64: "intel",
  x86_64: "intel",
  "x86-64": "intel",
  x64: "intel",
  intel: "intel",
  "386": "intel",
  i386: "intel",
  x86: "intel",
};

/** `darwin_arm64` -> macos/arm, `linux_amd64` / `linux-x86_64` -> linux/intel, `darwin_universal` -> macos/any. */
export function platformContext(platform: string): PlatformContext {
  const lower = platform.toLowerCase();
  const cut = lower.search(/[_-]/);
  const osPart = cut < 0 ? lower : lower.slice(0, cut);
  const cpuPart = cut < 0 ? "" : lower.slice(cut + 1);
  return { os: OS[osPart] ?? "other", cpu: CPU[cpuPart] ?? null };
}

/** How well a formula branch serves a platform: -1 not at all, higher is more specific. */
function matchScore(ctx: FormulaContext, want: PlatformContext): number {
  let score = 0;
  if (ctx.os !== null) {
    if (ctx.os !== want.os) return -1;
    score += 2;
  }
  if (ctx.cpu !== null && want.cpu !== null) {
    if (ctx.cpu !== want.cpu) return -1;
    score += 1;
  }
  return score;
}

/** The formula artifact a platform installs: the most specific matching branch, first in file order on ties. */
export function artifactFor(formula: ParsedFormula, platform: string): FormulaArtifact | null {
  const want = platformContext(platform);
  let best: FormulaArtifact | null = null;
  let bestScore = -1;
  for (const artifact of formula.artifacts) {
    const score = matchScore(artifact.context, want);
    if (score > bestScore) {
      best = artifact;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Homebrew tap: the formula exists, is at this version, has a URL for every expected platform, real sha256s,
 * and those sha256s equal GitHub's (checksum line, asset digest, downloaded bytes) for the same asset.
 * A formula that points at this version before the GitHub release exists is `formula-ahead`, pending: plasmite
 * pushes its tap minutes before publishing. Once the release exists, a formula URL naming an asset the release
 * lacks is `formula-ahead` (pending) only inside the homebrew grace window, then `asset-missing` (drift). A draft
 * release is not a release: every formula URL answers 404 to users, so it is `release-draft`, pending inside the
 * window (counted from the draft's `created_at`) and drift after it.
 */
export function checkHomebrew(input: CheckInput<HomebrewPlan, HomebrewObservation>): Draft[] {
  const { plan, expected, observation: obs, inGrace } = input;
  const github = input.peers.view(githubChannel);
  const out: Draft[] = [];
  const where = `${obs.tap}:${obs.path}@${obs.ref}`;
  const formula = obs.formula;

  if (!obs.found || !formula) {
    out.push(
      drift("formula-missing", `formula ${where} not found`, {
        subject: obs.path,
        expected: "formula present",
        actual: "not found",
      }),
    );
    return out;
  }

  const want = expected.version;
  const expectedUrls = new Set(expected.artifacts.map((a) => a.url));
  const found = formula.version;
  const aligned =
    found === null ? formula.artifacts.some((a) => expectedUrls.has(a.resolved_url)) : sameVersion(found, want);
  if (!aligned) {
    const order = found === null ? null : compareVersions(found, want);
    const actual = found ?? "no version";
    const detail = { subject: obs.path, expected: want, actual };
    if (order !== null && order > 0) {
      out.push(drift("formula-version-mismatch", `formula already at ${found}, expected ${want} (${where})`, detail));
    } else {
      out.push(lag("formula-version-mismatch", `formula ${where} is at ${actual}, expected ${want}`, detail));
    }
    return out;
  }

  const ghObs = github.state === "observed" ? github.observation : null;
  const release = ghObs?.release ?? null;
  if (ghObs && !release) {
    out.push(
      pending(
        "formula-ahead",
        `formula already points at ${want} but GitHub has no release ${plan.tag} yet; its URLs 404 until the release is published`,
        { subject: plan.tag, expected: `release ${plan.tag}`, actual: "not published yet" },
      ),
    );
  }
  if (release?.draft) {
    out.push(
      lag(
        "release-draft",
        `formula points at release ${plan.tag}, which is still a draft: its URLs answer 404 to users until it is published`,
        { subject: plan.tag, expected: `published release ${plan.tag}`, actual: "draft" },
      ),
    );
  }
  if ((github.state === "failed" || github.state === "not-checked") && expected.artifacts.some((a) => a.asset_name)) {
    const why = github.state === "failed" ? `the GitHub probe failed (${github.code})` : "GitHub was not checked";
    out.push(info("cross-check-skipped", `${why}: formula sha256 values were not compared with release ${plan.tag}`));
  }

  const noReference: string[] = [];
  for (const art of expected.artifacts) {
    const platform = art.platform;
    const artifact = artifactFor(formula, platform);
    if (!artifact) {
      const ctx = platformContext(platform);
      const refused = formula.unsupported.some((u) => matchScore(u, ctx) >= 0);
      const note = refused ? " (the formula refuses it with odie)" : "";
      out.push(
        drift("formula-platform-missing", `formula has no url for ${platform}${note}`, {
          subject: platform,
          expected: art.url,
          actual: "no url",
        }),
      );
      continue;
    }

    const urlOk = artifact.resolved_url === art.url;
    if (!urlOk) {
      out.push(
        drift(
          "formula-url-mismatch",
          `formula url for ${platform} is ${artifact.resolved_url}, expected ${art.url} (line ${artifact.line})`,
          { subject: platform, expected: art.url, actual: artifact.resolved_url },
        ),
      );
    }

    const sha = sha256Hex(artifact.sha256);
    if (sha === null) {
      out.push(
        drift(
          "formula-placeholder",
          `formula sha256 for ${platform} is ${artifact.sha256 === null ? "missing" : JSON.stringify(artifact.sha256)}, not a 64-hex sha256`,
          { subject: platform, expected: "64 hex digits", actual: artifact.sha256 ?? "none" },
        ),
      );
    }

    const asset = art.asset_name;
    if (!urlOk || sha === null || asset === null || !ghObs || !release) continue;
    if (!release.assets.some((a) => a.name === asset)) {
      out.push(missingAsset(plan.tag, platform, asset, inGrace));
      continue;
    }
    const claims = githubHashClaims(ghObs, asset);
    if (claims.length === 0) {
      noReference.push(asset);
      continue;
    }
    const differing = claims.find((c) => c.value !== sha);
    if (differing) {
      out.push(
        drift(
          "sha-mismatch",
          `formula sha256 for ${platform} is ${sha} but ${differing.source} says ${differing.value} for ${asset}`,
          { subject: asset, expected: `${differing.source}: ${differing.value}`, actual: `formula: ${sha}` },
        ),
      );
    }
  }

  if (noReference.length > 0) {
    out.push(
      info("digest-unavailable", `GitHub gives no sha256 for ${listNames(noReference)}: formula sha256 not verified`, {
        actual: noReference.join(", "),
      }),
    );
  }

  return out;
}

/** A formula URL naming an asset the (existing) release lacks: not there yet inside the grace window, drift after. */
function missingAsset(tag: string, platform: string, asset: string, inGrace: boolean): Draft {
  const detail = { subject: platform, expected: asset, actual: "not on release" };
  if (inGrace) {
    return lag(
      "formula-ahead",
      `formula for ${platform} points at ${asset}, which is not on release ${tag} yet`,
      detail,
    );
  }
  return lag("asset-missing", `formula for ${platform} points at ${asset}, which release ${tag} does not have`, detail);
}
