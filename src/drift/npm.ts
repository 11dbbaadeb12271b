import { drift, info, lag, type CheckInput, type Draft } from "./findings.ts";
import { latestGap } from "./versions.ts";

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
export function checkNpm(input: CheckInput<"npm">): Draft[] {
  const { plan, expected, observation: obs } = input;
  const out: Draft[] = [];
  const version = plan.version;
  const name = expected.package;
  const doc = obs.version_doc;

  if (!doc && !obs.versions.includes(version)) {
    const where = obs.packument_found ? "" : " (the package itself is not found)";
    out.push(
      lag("version-missing", `npm has no ${name}@${version}${where}`, {
        subject: version,
        expected: version,
        actual: "not found",
      }),
    );
    return out;
  }

  const deprecated = doc?.deprecated ?? obs.deprecated[version] ?? null;
  if (deprecated !== null) {
    out.push(
      drift("deprecated", `${name}@${version} is deprecated on npm: ${deprecated}`, {
        subject: version,
        expected: "not deprecated",
        actual: deprecated,
      }),
    );
  }

  if (input.expectLatest) {
    const latest = obs.dist_tags["latest"] ?? null;
    if (latest !== version) {
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
