import type { CheckInput } from "../channel.ts";
import type { CratesPlan, CratesObservation } from "./types.ts";
import type { HashClaim } from "../../drift/findings.ts";
import { drift, firstDisagreement, lag, sha256Hex, shaMismatch, type Draft } from "../../drift/findings.ts";
import { latestGap, maxVersion, sameVersion } from "../../drift/versions.ts";

/** crates.io: the version exists (API or sparse index), is not yanked, its checksums agree, and it is the newest. */
export function checkCrates(input: CheckInput<CratesPlan, CratesObservation>): Draft[] {
  const { plan, expected, observation: obs } = input;
  const out: Draft[] = [];
  const version = plan.version;
  const name = expected.crate;
  const api = obs.api_version;
  const entry = obs.index.entries.find((e) => sameVersion(e.vers, version)) ?? null;

  if (!api && !entry) {
    const where = obs.index.found ? "" : " (the sparse index has no file for the crate)";
    out.push(
      lag("version-missing", `crates.io has no ${name} ${version}${where}`, {
        subject: version,
        expected: version,
        actual: "not found",
      }),
    );
    return out;
  }
  if (api && !entry) {
    out.push(
      lag("version-missing", `the crates.io API has ${name} ${version} but the sparse index does not list it yet`, {
        subject: "sparse index",
        expected: version,
        actual: "not in index",
      }),
    );
  }

  const yanked = Boolean(api?.yanked) || Boolean(entry?.yanked);
  if (yanked) {
    const sources = [api?.yanked ? "API" : null, entry?.yanked ? "index" : null].filter(Boolean).join(" and ");
    const why = api?.yank_message ? `: ${api.yank_message}` : "";
    out.push(
      drift("yanked", `${name} ${version} is yanked on crates.io (${sources})${why}`, {
        subject: version,
        expected: "yanked: false",
        actual: api?.yank_message ? `yanked: ${api.yank_message}` : "yanked: true",
      }),
    );
  }

  const claims: HashClaim[] = [];
  const fromApi = sha256Hex(api?.checksum);
  if (fromApi) claims.push({ source: "crates.io API checksum", value: fromApi });
  const fromIndex = sha256Hex(entry?.cksum);
  if (fromIndex) claims.push({ source: "sparse index cksum", value: fromIndex });
  const fromBytes = sha256Hex(obs.download?.sha256);
  if (fromBytes) claims.push({ source: "downloaded .crate", value: fromBytes });
  const pair = firstDisagreement(claims);
  if (pair) out.push(shaMismatch(`${name}-${version}.crate`, pair));

  if (input.expectLatest && entry && !yanked) {
    const candidates = obs.index.entries.filter((e) => !e.yanked).map((e) => e.vers);
    const newest = maxVersion(candidates, version);
    if (newest === null || !sameVersion(newest, version)) {
      const text = `the newest ${name} on crates.io is ${newest ?? "none"}, expected ${version}`;
      const detail = { subject: version, expected: version, actual: newest ?? "none" };
      out.push(
        latestGap(newest, version) === "newer"
          ? drift("version-not-latest", text, detail)
          : lag("version-not-latest", text, detail),
      );
    }
  }

  return out;
}
