import type { CheckInput } from "../channel.ts";
import type { PypiPlan, PypiObservation } from "./types.ts";
import {
  drift,
  firstDisagreement,
  globMatch,
  info,
  lag,
  listNames,
  sha256Hex,
  shaMismatch,
  type Draft,
  type HashClaim,
} from "../../drift/findings.ts";
import { latestGap, sameVersion } from "../../drift/versions.ts";
import { githubCopyFindings } from "./github-copies.ts";

/**
 * PyPI: the release exists, is not yanked, has every expected file, digests match (deep) and match the copies
 * attached to the GitHub release, and is latest.
 */
export function checkPypi(input: CheckInput<PypiPlan, PypiObservation>): Draft[] {
  const { plan, expected, observation: obs } = input;
  const out: Draft[] = [];
  const version = plan.version;
  const name = expected.project;
  const release = obs.release;

  if (!release) {
    const where = obs.project_found ? "" : " (the project itself is not found)";
    const notes = obs.notes && obs.notes.length > 0 ? `; ${obs.notes.join("; ")}` : "";
    out.push(
      lag("version-missing", `PyPI has no ${name} ${version}${where}${notes}`, {
        subject: version,
        expected: version,
        actual: "not found",
      }),
    );
    return out;
  }

  if (release.yanked) {
    const why = release.yanked_reason ? `: ${release.yanked_reason}` : "";
    out.push(
      drift("yanked", `${name} ${version} is yanked on PyPI${why}`, {
        subject: version,
        expected: "yanked: false",
        actual: release.yanked_reason ? `yanked: ${release.yanked_reason}` : "yanked: true",
      }),
    );
  }

  for (const want of expected.files) {
    const matches = release.files.filter((f) => globMatch(want.pattern, f.filename));
    if (matches.length === 0) {
      const what = want.kind === "sdist" ? "sdist" : `wheel${want.platform ? ` for ${want.platform}` : ""}`;
      out.push(
        lag("file-missing", `PyPI ${name} ${version} has no ${what} matching ${want.pattern}`, {
          subject: want.pattern,
          expected: want.pattern,
          actual: "no matching file",
        }),
      );
      continue;
    }
    if (release.yanked) continue;
    for (const file of matches) {
      if (!file.yanked) continue;
      const why = file.yanked_reason ? `: ${file.yanked_reason}` : "";
      out.push(
        drift("yanked", `${file.filename} is yanked on PyPI${why}`, {
          subject: file.filename,
          expected: "yanked: false",
          actual: file.yanked_reason ? `yanked: ${file.yanked_reason}` : "yanked: true",
        }),
      );
    }
  }

  const noDigest: string[] = [];
  for (const file of release.files) {
    const claims: HashClaim[] = [];
    const fromPypi = sha256Hex(file.sha256);
    if (fromPypi) claims.push({ source: "PyPI digests.sha256", value: fromPypi });
    else noDigest.push(file.filename);
    const fromBytes = sha256Hex(obs.downloads?.[file.filename]?.sha256);
    if (fromBytes) claims.push({ source: "downloaded file", value: fromBytes });
    const pair = firstDisagreement(claims);
    if (pair) out.push(shaMismatch(file.filename, pair));
  }
  out.push(...githubCopyFindings(obs, input.peers, plan.tag));
  if (noDigest.length > 0) {
    out.push(
      info("digest-unavailable", `PyPI lists no sha256 for ${listNames(noDigest)}`, {
        expected: "digests.sha256",
        actual: noDigest.join(", "),
      }),
    );
  }

  if (input.expectLatest && !release.yanked) {
    const latest = obs.latest_version;
    if (latest === null || !sameVersion(latest, version)) {
      const text = `PyPI's latest ${name} is ${latest ?? "unknown"}, expected ${version}`;
      const detail = { subject: version, expected: version, actual: latest ?? "none" };
      out.push(
        latestGap(latest, version) === "newer"
          ? drift("version-not-latest", text, detail)
          : lag("version-not-latest", text, detail),
      );
    }
  }

  return out;
}
