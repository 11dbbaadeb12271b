import { createHash } from "node:crypto";
import type { NpmPackage, NpmVersionRecord, NpmView } from "../model-npm.ts";
import { json, type Reply, type ServiceDef, type ServiceRuntime, type SimRequest } from "../server.ts";
import type { World } from "../world.ts";
import { npmAttestationsReply } from "./provenance.ts";
import { isoMillis } from "../time.ts";

const CACHE = "public, max-age=300";
const ABBREVIATED = "application/vnd.npm.install-v1+json";

function registryBase(url: string): string {
  return url.replace(/\/+$/, "");
}

/** Provenance fields: `dist.attestations` and a trusted publisher's `_npmUser` (provenance.md §3.2). */
function publishFields(world: World, base: string, pkg: NpmPackage, v: NpmVersionRecord) {
  const found = world.findVersion("npm", pkg.name, v.version);
  const prov = found ? world.provenanceOf(found.project.name, found.art.version).npm : null;
  const attestations =
    prov && !prov.stripped
      ? {
          url: `${base}/-/npm/v1/attestations/${pkg.name}@${v.version}`,
          provenance: { predicateType: "https://slsa.dev/provenance/v1" },
        }
      : undefined;
  const npmUser = prov?.trustedPublisher
    ? {
        name: "GitHub Actions",
        email: "npm-oidc-no-reply@github.com",
        trustedPublisher: { id: "github", oidcConfigId: `oidc:${hashUuid(pkg.name)}` },
      }
    : undefined;
  return { attestations, npmUser };
}

function hashUuid(name: string): string {
  const h = createHash("sha1").update(`oidc\0${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function versionDoc(
  world: World,
  base: string,
  pkg: NpmPackage,
  v: NpmVersionRecord,
  deprecated: string | undefined,
): Record<string, unknown> {
  const tarball = `${base}/${pkg.name}/-/${pkg.unscoped}-${v.version}.tgz`;
  const maintainers = pkg.meta["maintainers"];
  const publish = publishFields(world, base, pkg, v);
  return {
    name: pkg.name,
    version: v.version,
    ...v.manifest,
    _id: `${pkg.name}@${v.version}`,
    _nodeVersion: "24.11.0",
    _npmVersion: "11.6.1",
    _npmUser: publish.npmUser ?? (Array.isArray(maintainers) ? maintainers[0] : undefined),
    maintainers,
    directories: {},
    _hasShrinkwrap: false,
    dist: {
      integrity: v.integrity,
      shasum: v.shasum,
      tarball,
      fileCount: v.fileCount,
      unpackedSize: v.unpackedSize,
      signatures: [v.signature],
      ...(publish.attestations ? { attestations: publish.attestations } : {}),
    },
    ...(deprecated !== undefined ? { deprecated } : {}),
  };
}

function abbreviatedDoc(
  world: World,
  base: string,
  pkg: NpmPackage,
  v: NpmVersionRecord,
  deprecated: string | undefined,
): Record<string, unknown> {
  const full = versionDoc(world, base, pkg, v, deprecated);
  return {
    name: pkg.name,
    version: v.version,
    bin: v.manifest["bin"],
    engines: v.manifest["engines"],
    directories: {},
    _hasShrinkwrap: false,
    dist: full["dist"],
    ...(deprecated !== undefined ? { deprecated } : {}),
  };
}

function packument(
  world: World,
  base: string,
  pkg: NpmPackage,
  view: NpmView,
  abbreviated: boolean,
): Record<string, unknown> {
  if (abbreviated) {
    return {
      name: pkg.name,
      modified: isoMillis(view.modified),
      "dist-tags": view.distTags,
      versions: Object.fromEntries(
        view.versions.map((v) => [v.version, abbreviatedDoc(world, base, pkg, v, view.deprecated.get(v.version))]),
      ),
    };
  }
  const time: Record<string, string> = { created: isoMillis(view.created), modified: isoMillis(view.modified) };
  for (const v of view.versions) time[v.version] = isoMillis(v.publishedAt);
  return {
    _id: pkg.name,
    _rev: `${view.revision}-${createHash("md5").update(`${pkg.name}:${view.revision}`).digest("hex")}`,
    name: pkg.name,
    "dist-tags": view.distTags,
    versions: Object.fromEntries(
      view.versions.map((v) => [v.version, versionDoc(world, base, pkg, v, view.deprecated.get(v.version))]),
    ),
    time,
    ...pkg.meta,
  };
}

/** `@scope%2fname`, `@scope%2Fname` and `@scope/name` all name a scoped package. */
function parsePath(req: SimRequest): { name: string; rest: string[] } | null {
  const s = req.segments;
  const first = s[0];
  if (!first) return null;
  if (first.startsWith("@") && !first.includes("/")) {
    const second = s[1];
    if (!second) return null;
    return { name: `${first}/${second}`, rest: s.slice(2) };
  }
  return { name: first, rest: s.slice(1) };
}

function notFound(): Reply {
  return json(404, { error: "Not found" });
}

/** The npm registry: packument (full / abbreviated), version docs, dist-tags, tarballs, signing keys. */
export function npmService(rt: ServiceRuntime): ServiceDef {
  const world = rt.world;
  return {
    service: "npm",
    handle(req) {
      const base = registryBase(world.urls.npm);
      if (req.segments[0] === "-") {
        const path = req.segments.join("/");
        if (path === "-/npm/v1/keys") {
          const s = world.npm.signer;
          return json(200, {
            keys: [
              {
                expires: null,
                keyid: s.keyid,
                keytype: "ecdsa-sha2-nistp256",
                scheme: "ecdsa-sha2-nistp256",
                key: s.publicKeyBase64,
              },
            ],
          });
        }
        if (path === "-/ping") return json(200, {});
        if (path.startsWith("-/npm/v1/attestations/"))
          return npmAttestationsReply(world, req.segments.slice(4).join("/"), `${base}/`);
        return notFound();
      }
      const parsed = parsePath(req);
      const pkg = parsed ? world.npm.get(parsed.name) : null;
      if (!parsed || !pkg) return notFound();
      const fresh = pkg.view(null);
      if (parsed.rest.length === 0) {
        const stale = world.npmPackumentStaleMs;
        const view = stale > 0 ? pkg.view(world.now() - stale) : fresh;
        if (!view) return notFound();
        const abbreviated = (req.header("accept") ?? "").toLowerCase().includes(ABBREVIATED);
        const reply = json(200, packument(world, base, pkg, view, abbreviated), {
          "content-type": abbreviated ? ABBREVIATED : "application/json",
          "cache-control": CACHE,
          vary: "Accept, Accept-Encoding",
        });
        reply.cache = { lastModified: view.modified };
        return reply;
      }
      if (!fresh) return notFound();
      if (parsed.rest.length === 1) {
        const spec = parsed.rest[0] as string;
        const version = fresh.distTags[spec] ?? spec;
        const record = fresh.versions.find((v) => v.version === version);
        if (!record) return json(404, `version not found: ${spec}`);
        const reply = json(200, versionDoc(world, base, pkg, record, fresh.deprecated.get(record.version)), {
          "cache-control": CACHE,
        });
        reply.cache = { lastModified: record.publishedAt };
        return reply;
      }
      if (parsed.rest.length === 2 && parsed.rest[0] === "-") {
        const file = parsed.rest[1] as string;
        const record = fresh.versions.find((v) => `${pkg.unscoped}-${v.version}.tgz` === file);
        if (!record) return notFound();
        const content = record.content;
        return {
          status: 200,
          headers: {
            "content-type": "application/octet-stream",
            "cache-control": "public, immutable, max-age=31557600",
            etag: `"${record.shasum}"`,
          },
          body: { size: content.size, open: () => content.stream() },
        };
      }
      return notFound();
    },
  };
}
