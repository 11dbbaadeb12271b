import type { CheckInput } from "../channel.ts";
import type { CratesPlan, CratesObservation } from "./types.ts";
import type { HashClaim } from "../../drift/findings.ts";
import {
  drift,
  firstDisagreement,
  lag,
  pending,
  sha256Hex,
  shaMismatch,
  unknown,
  type Draft,
} from "../../drift/findings.ts";
import { latestGap, maxVersion, sameVersion } from "../../drift/versions.ts";

/**
 * crates.io, index first: the sparse index decides presence, yank state and the newest version; the API document
 * (when it arrived) is cross-checked against it (checksum, yank state), and any disagreement is reported with both values.
 */
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

  // The sparse index is what cargo resolves against: its yank flag decides. The API's (when freshly read) is compared.
  const apiYanked = api && !obs.api_cached ? api.yanked : null;
  const yanked = entry ? entry.yanked : Boolean(api?.yanked);
  if (yanked) {
    const sources = entry ? (apiYanked ? "API and index" : "index") : "API";
    const why = api?.yank_message ? `: ${api.yank_message}` : "";
    out.push(
      drift("yanked", `${name} ${version} is yanked on crates.io (${sources})${why}`, {
        subject: version,
        expected: "yanked: false",
        actual: api?.yank_message ? `yanked: ${api.yank_message}` : "yanked: true",
      }),
    );
  }
  if (entry && apiYanked !== null && apiYanked !== entry.yanked) {
    out.push(
      lag(
        "index-api-disagree",
        `crates.io disagrees with itself on ${name} ${version}: the sparse index says yanked: ${entry.yanked}, ` +
          `the API says yanked: ${apiYanked}; the index (what cargo uses) decides`,
        { subject: "yanked", expected: `index: ${entry.yanked}`, actual: `API: ${apiYanked}` },
      ),
    );
  }
  if (obs.api_pending !== null) {
    // Never ok and never drift: the index verdict stands, what only the API adds waits (deadline) or is unknown.
    const state = obs.api_pending.deadline ? "pending" : "unknown";
    const text = `${obs.api_pending.reason}; the sparse index verdict stands, the API cross-check (checksum, yank state) is ${state}`;
    const detail = { subject: "crates.io API" };
    out.push(
      obs.api_pending.deadline
        ? pending("cross-check-skipped", text, detail)
        : unknown("cross-check-skipped", text, detail),
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
