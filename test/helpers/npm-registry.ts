import { createHash } from "node:crypto";
import type { FixtureHandler } from "./fixture-server.ts";

/** The bytes of the package tarball every helper registry serves (content is irrelevant, the hashes are not). */
export const TARBALL = Buffer.from("release-monitor test tarball\n");

export interface NpmPackageOptions {
  version?: string;
  /** dist-tags.latest (default: `version`). */
  latest?: string;
  /** Absolute URL of the tarball in `dist.tarball`; "" leaves a host that is never asked (.invalid). */
  tarballBase: string;
  /** Versions the packument lists (default: [version]). */
  packumentVersions?: string[];
  /** Deprecation message in the packument entry / in the version document. */
  packumentDeprecated?: string;
  docDeprecated?: string;
  /** false: `/{name}/{version}` answers 404. */
  versionDoc?: boolean;
  /** The packument's `time` map (full packuments only). */
  time?: Record<string, unknown>;
  /** Pads the packument with this many bytes (a packument over the size cap). */
  packumentPadding?: number;
}

/** Routes of a minimal npm registry holding one package, for startFixtureServer. */
export function npmPackage(name: string, o: NpmPackageOptions): Record<string, FixtureHandler> {
  const version = o.version ?? "0.8.0";
  const unscoped = name.replace(/^@[^/]+\//, "");
  const base = o.tarballBase || "http://tarballs.invalid";
  const doc = (v: string, deprecated?: string) => ({
    name,
    version: v,
    ...(deprecated !== undefined ? { deprecated } : {}),
    dist: {
      integrity: `sha512-${createHash("sha512").update(TARBALL).digest("base64")}`,
      shasum: createHash("sha1").update(TARBALL).digest("hex"),
      tarball: `${base}/${name}/-/${unscoped}-${v}.tgz`,
    },
  });
  const versions: Record<string, unknown> = {};
  for (const v of o.packumentVersions ?? [version])
    versions[v] = doc(v, v === version ? o.packumentDeprecated : undefined);
  const distTags = { latest: o.latest ?? version };
  const packument = {
    name,
    "dist-tags": distTags,
    versions,
    ...(o.time ? { time: o.time } : {}),
    ...(o.packumentPadding ? { readme: "x".repeat(o.packumentPadding) } : {}),
  };
  return {
    [`GET /${name}`]: { status: 200, body: packument },
    [`GET /${name}/${version}`]:
      o.versionDoc === false
        ? { status: 404, body: { error: "Not found" } }
        : { status: 200, body: doc(version, o.docDeprecated) },
    [`GET /-/package/${name}/dist-tags`]: { status: 200, body: distTags },
    [`GET /${name}/-/${unscoped}-${version}.tgz`]: { status: 200, body: TARBALL },
  };
}
