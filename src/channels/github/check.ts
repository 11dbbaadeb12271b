import type { CheckInput } from "../channel.ts";
import type { GithubPlan, GithubObservation } from "./types.ts";
import {
  drift,
  firstDisagreement,
  info,
  lag,
  listNames,
  shaMismatch,
  unknown,
  type Draft,
} from "../../drift/findings.ts";
import { githubDigestHex, githubHashClaims } from "./hash-claims.ts";
import { matchesExtra } from "./config.ts";
import { latestGap } from "../../drift/versions.ts";

/** GitHub Release: tag, release flags, the exact asset set, the checksum file and every digest we can see. */
export function checkGithub(input: CheckInput<GithubPlan, GithubObservation>): Draft[] {
  const { plan, expected, observation: obs } = input;
  const out: Draft[] = [];
  const tag = plan.tag;

  if (!obs.tag.exists) {
    out.push(
      drift("tag-missing", `tag ${tag} does not exist in ${obs.repo}`, {
        subject: tag,
        expected: "tag exists",
        actual: "not found",
      }),
    );
  }

  const release = obs.release;
  if (!release) {
    const why = obs.tag.exists ? "the tag exists but nothing is published for it" : "the tag is missing too";
    out.push(
      drift("release-missing", `no published GitHub release for ${tag} in ${obs.repo} (${why})`, {
        subject: tag,
        expected: "published release",
        actual: "not found",
      }),
    );
    return out;
  }

  if (release.draft) {
    out.push(
      drift("release-draft", `release ${tag} is still a draft`, {
        subject: tag,
        expected: "draft: false",
        actual: "draft: true",
      }),
    );
  }
  if (release.prerelease) {
    out.push(
      drift("release-prerelease", `release ${tag} is marked as a prerelease`, {
        subject: tag,
        expected: "prerelease: false",
        actual: "prerelease: true",
      }),
    );
  }

  // `assets: []` with `checksums: null`: a release without assets. Whatever is attached is not this channel's to judge.
  if (expected.assets.length === 0 && expected.checksum_file === null) {
    out.push(...latestFindings(input));
    return out;
  }

  const assets = new Map(release.assets.map((a) => [a.name, a]));
  const expectedNames = new Set(expected.assets.map((a) => a.name));

  for (const want of expected.assets) {
    const asset = assets.get(want.name);
    if (!asset) {
      out.push(
        lag("asset-missing", `expected asset ${want.name} is not on release ${tag}`, {
          subject: want.name,
          expected: want.name,
          actual: "not found",
        }),
      );
    } else if (asset.state !== "uploaded") {
      out.push(
        lag("asset-not-uploaded", `asset ${want.name} is in state "${asset.state}", expected "uploaded"`, {
          subject: want.name,
          expected: "uploaded",
          actual: asset.state,
        }),
      );
    }
  }

  const suffix = expected.checksum_sidecar ?? null;
  const sidecarNames = new Set(suffix ? expected.assets.map((a) => `${a.name}${suffix}`) : []);
  const extraPatterns = expected.extra_assets ?? [];
  for (const asset of release.assets) {
    if (expectedNames.has(asset.name) || asset.name === expected.checksum_file || sidecarNames.has(asset.name)) {
      continue;
    }
    // `extra_assets`: a file the release may carry; allowed, not judged.
    if (extraPatterns.some((p) => matchesExtra(asset.name, p))) continue;
    out.push(
      drift(
        "asset-unexpected",
        `release ${tag} has an asset that is not expected: ${asset.name} (${asset.size} bytes)`,
        {
          subject: asset.name,
          expected: "not present",
          actual: asset.name,
        },
      ),
    );
  }

  const sumsName = expected.checksum_file;
  if (sumsName !== null) {
    const sums = obs.checksums;
    if (release.draft && assets.has(sumsName) && !sums) {
      // The probe does not download a draft's assets (their public URLs answer 404): present, not read.
      out.push(
        info("checksum-file-unread", `checksum file ${sumsName} is on draft release ${tag} but was not read`, {
          subject: sumsName,
          expected: sumsName,
          actual: "on the draft, not read",
        }),
      );
    } else if (!assets.has(sumsName) || !sums) {
      out.push(
        lag("checksum-file-missing", `checksum file ${sumsName} is not on release ${tag}`, {
          subject: sumsName,
          expected: sumsName,
          actual: "not found",
        }),
      );
    } else {
      if (sums.invalid_lines.length > 0) {
        const shown = sums.invalid_lines.slice(0, 3).map((l) => `line ${l.line}: ${JSON.stringify(l.text)}`);
        const more = sums.invalid_lines.length > 3 ? ` and ${sums.invalid_lines.length - 3} more` : "";
        out.push(
          drift(
            "checksum-invalid",
            `${sumsName} has ${sums.invalid_lines.length} line(s) that are not "<sha256>  <name>": ${shown.join("; ")}${more}`,
            {
              subject: sumsName,
              expected: "<64 hex>  <file name>",
              actual: shown.join("; "),
            },
          ),
        );
      }
      const listed = new Set(sums.entries.map((e) => e.name));
      for (const want of expected.assets) {
        if (listed.has(want.name)) continue;
        out.push(
          drift("checksum-missing", `${sumsName} has no line for ${want.name}`, {
            subject: want.name,
            expected: `a ${sumsName} line for ${want.name}`,
            actual: "no line",
          }),
        );
      }
    }
  }

  if (suffix) out.push(...checkSidecars(input, suffix));

  for (const want of expected.assets) {
    if (!assets.has(want.name)) continue;
    const pair = firstDisagreement(githubHashClaims(obs, want.name));
    if (pair) out.push(shaMismatch(want.name, pair));
  }

  const deep = obs.downloads !== null;
  const noDigest: string[] = [];
  const badDigest: string[] = [];
  for (const asset of release.assets) {
    if (asset.name === sumsName || sidecarNames.has(asset.name)) continue;
    if (asset.digest === null) {
      if (!deep) noDigest.push(asset.name);
    } else if (githubDigestHex(asset.digest) === null) {
      badDigest.push(`${asset.name} (${JSON.stringify(asset.digest)})`);
    }
  }
  if (noDigest.length > 0 || badDigest.length > 0) {
    const parts: string[] = [];
    if (noDigest.length > 0) parts.push(`no GitHub digest for ${listNames(noDigest)}`);
    if (badDigest.length > 0) parts.push(`unusable GitHub digest for ${listNames(badDigest)}`);
    const hint = deep ? "" : " (run with --deep to hash the downloads)";
    const against = suffix ? `their ${suffix} sidecars` : (sumsName ?? "nothing");
    out.push(
      info("digest-unavailable", `${parts.join("; ")}: compared against ${against} only${hint}`, {
        expected: "sha256:<hex>",
        actual: [...noDigest.map((n) => `${n}: null`), ...badDigest].join(", "),
      }),
    );
  }

  out.push(...latestFindings(input));
  return out;
}

/**
 * `checksums: { sidecar }`: every expected asset on the release has its `<asset><suffix>` holding one sha256 line
 * for it. A missing sidecar is a finding (propagation-sensitive, like a missing asset); one that could not be read
 * is unknown; one that is not a sha256 line, or names another file, is drift. Its value joins the hash claims.
 */
function checkSidecars(input: CheckInput<GithubPlan, GithubObservation>, suffix: string): Draft[] {
  const { plan, expected, observation: obs } = input;
  const release = obs.release;
  if (!release) return [];
  const uploaded = new Set(release.assets.filter((a) => a.state === "uploaded").map((a) => a.name));
  const present = expected.assets.filter((a) => uploaded.has(a.name));
  if (release.draft) {
    if (present.length === 0) return [];
    return [
      info("checksum-file-unread", `the ${suffix} sidecars are on draft release ${plan.tag} but were not read`, {
        subject: `${suffix} sidecars`,
        expected: `${present.length} sidecar(s)`,
        actual: "on the draft, not read",
      }),
    ];
  }
  const out: Draft[] = [];
  for (const want of present) {
    const name = `${want.name}${suffix}`;
    const s = obs.sidecars?.[want.name] ?? { name, state: "missing" as const };
    switch (s.state) {
      case "missing":
        out.push(
          lag("checksum-missing", `no ${name} for ${want.name} on release ${plan.tag}`, {
            subject: want.name,
            expected: name,
            actual: "not found",
          }),
        );
        break;
      case "unreadable":
        out.push(
          unknown("checksum-unreadable", `${name} could not be read: ${s.error}`, {
            subject: name,
            expected: "a readable sidecar",
            actual: s.error,
          }),
        );
        break;
      case "invalid":
        out.push(
          drift("checksum-invalid", `${name} is not a sha256 line: ${JSON.stringify(s.text)}`, {
            subject: name,
            expected: `<64 hex> [*]${want.name}, or the bare hex`,
            actual: s.text,
          }),
        );
        break;
      case "read":
        if (s.named !== null && s.named !== want.name) {
          out.push(
            drift("checksum-invalid", `${name} is for ${JSON.stringify(s.named)}, not ${want.name}`, {
              subject: name,
              expected: want.name,
              actual: s.named,
            }),
          );
        }
        break;
    }
  }
  return out;
}

function latestFindings(input: CheckInput<GithubPlan, GithubObservation>): Draft[] {
  const tag = input.plan.tag;
  const latest = input.observation.latest_release_tag;
  if (!input.expectLatest || latest === tag) return [];
  const text = `GitHub's latest release is ${latest ?? "none"}, expected ${tag}`;
  const detail = { subject: tag, expected: tag, actual: latest ?? "none" };
  return [
    latestGap(latest, tag) === "newer"
      ? drift("version-not-latest", text, detail)
      : lag("version-not-latest", text, detail),
  ];
}
