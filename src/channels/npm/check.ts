import type { CheckInput } from "../channel.ts";
import type { NpmPlan, NpmObservation } from "./types.ts";
import { drift, info, lag, unknown, type Draft } from "../../drift/findings.ts";
import { latestGap, parseVersion, sameVersion } from "../../drift/versions.ts";

/** The base64 sha512 of an SRI string (`sha512-<base64>`, possibly among other space-separated hashes). */
export function sriSha512(integrity: string | null): string | null {
  if (!integrity) return null;
  for (const token of integrity.trim().split(/\s+/)) {
    const m = /^sha512-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(token);
    if (m?.[1]) return m[1];
  }
  return null;
}

/** npm: the version exists, is not deprecated, is `latest`, and (deep) the tarball matches `dist`. */
export function checkNpm(input: CheckInput<NpmPlan, NpmObservation>): Draft[] {
  const { plan, expected, observation: obs } = input;
  const out: Draft[] = [];
  const version = plan.version;
  const name = expected.package;
  const doc = obs.version_doc;

  if (!doc && !obs.versions.some((v) => sameVersion(v, version))) {
    out.push(missing(name, version, obs));
    return out;
  }

  // The fresh version document wins over the CDN-cached packument, both ways (deprecated and un-deprecated).
  const deprecated =
    obs.version_doc_source === "version-endpoint"
      ? (doc?.deprecated ?? null)
      : (doc?.deprecated ?? packumentDeprecation(obs, version));
  if (deprecated !== null) {
    out.push(
      drift("deprecated", `${name}@${version} is deprecated on npm: ${deprecated}`, {
        subject: version,
        expected: "not deprecated",
        actual: deprecated,
      }),
    );
  }

  if (input.expectLatest && obs.packument_error !== null && obs.dist_tags["latest"] === undefined) {
    out.push(
      unknown("probe-failed", `npm dist-tags of ${name} could not be read: ${obs.packument_error}`, {
        subject: "latest",
        expected: version,
      }),
    );
  } else if (input.expectLatest) {
    const latest = obs.dist_tags["latest"] ?? null;
    if (!(latest !== null && sameVersion(latest, version)) && !prereleaseBehindRelease(version, latest)) {
      const text = `npm dist-tag latest of ${name} is ${latest ?? "unset"}, expected ${version}`;
      const detail = { subject: "latest", expected: version, actual: latest ?? "unset" };
      out.push(
        latestGap(latest, version) === "newer"
          ? drift("version-not-latest", text, detail)
          : lag("version-not-latest", text, detail),
      );
    }
  }

  const integrity = doc?.integrity ?? null;
  const sha512 = sriSha512(integrity);
  if (!sha512) {
    out.push(
      info(
        "digest-unavailable",
        `${name}@${version} has no sha512 dist.integrity; only dist.shasum (sha1) can be checked`,
        {
          subject: version,
          expected: "sha512-<base64>",
          actual: integrity ?? "none",
        },
      ),
    );
  }

  const dl = obs.download;
  if (dl) {
    const tarball = `${name}-${version}.tgz`;
    const shasum = doc?.shasum?.trim().toLowerCase() ?? null;
    if (sha512 && sha512 !== dl.sha512_base64) {
      out.push(
        drift(
          "sha-mismatch",
          `${tarball}: dist.integrity says sha512-${sha512} but downloaded tarball says sha512-${dl.sha512_base64}`,
          {
            subject: tarball,
            expected: `dist.integrity: sha512-${sha512}`,
            actual: `downloaded tarball: sha512-${dl.sha512_base64}`,
          },
        ),
      );
    } else if (shasum && shasum !== dl.sha1_hex.toLowerCase()) {
      out.push(
        drift("sha-mismatch", `${tarball}: dist.shasum says ${shasum} but downloaded tarball says ${dl.sha1_hex}`, {
          subject: tarball,
          expected: `dist.shasum: ${shasum}`,
          actual: `downloaded tarball: ${dl.sha1_hex}`,
        }),
      );
    }
  }

  return out;
}

/** Not there: unpublished (permanent drift, the cause named), or not (yet) visible (lag). */
function missing(name: string, version: string, obs: NpmObservation): Draft {
  const u = obs.unpublished;
  if (u) {
    const what = u.scope === "package" ? `the package ${name} was unpublished` : `${name}@${version} was unpublished`;
    return drift("version-unpublished", `npm has no ${name}@${version}: ${what}${u.at ? ` (${u.at})` : ""}`, {
      subject: version,
      expected: version,
      actual: "unpublished",
    });
  }
  const where =
    obs.packument_found === false
      ? "the package itself is not found (or not visible with the configured credentials)"
      : "not found (or not visible with the configured credentials)";
  return lag("version-missing", `npm has no ${name}@${version}: ${where}`, {
    subject: version,
    expected: version,
    actual: "not found",
  });
}

function packumentDeprecation(obs: NpmObservation, version: string): string | null {
  for (const [v, message] of Object.entries(obs.deprecated)) if (sameVersion(v, version)) return message;
  return null;
}

/** A prerelease is never `latest` while `latest` is a release: that is how npm publishes prereleases. */
function prereleaseBehindRelease(version: string, latest: string | null): boolean {
  const v = parseVersion(version);
  const l = latest === null ? null : parseVersion(latest);
  return v !== null && l !== null && v.prerelease.length > 0 && l.prerelease.length === 0;
}
