import { createHash } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../errors.ts";
import type { HttpResponse } from "../../http/client.ts";
import type { ReleasePlan } from "../../plan/types.ts";
import type { NpmObservation, NpmVersionDoc, Probe, ProbeContext } from "../types.ts";
import { parseJsonBody, unexpectedStatus } from "../upstream.ts";

/**
 * npm: the abbreviated packument (dist-tags, versions, deprecations; CDN-cached for up to 5 minutes and not purged
 * on publish) and the per-version document (served fresh), fetched concurrently. `--deep` streams the tarball and
 * hashes it the way `dist` states it (sha512 base64 for `integrity`, sha1 hex for `shasum`).
 * Contract: /work/shared/reference/registry-contracts.md §3.
 */
export const npmProbe: Probe<NpmObservation> = {
  channel: "npm",
  async observe(plan: ReleasePlan, ctx: ProbeContext): Promise<NpmObservation> {
    if (!plan.npm) throw new AppError("E_PROBE_FAILED", `project ${plan.project} has no npm channel`);
    const name = plan.npm.package;
    const registry = ctx.endpoints.npmRegistry;
    const [packument, fresh] = await Promise.all([fetchPackument(ctx, name), fetchVersionDoc(ctx, name, plan.version)]);
    const fromPackument = packument.docs.get(plan.version) ?? null;
    const version_doc = fresh ?? fromPackument;
    const download = ctx.deep && version_doc?.tarball ? await downloadTarball(ctx, version_doc.tarball) : null;
    return {
      channel: "npm",
      package: name,
      registry,
      packument_found: packument.found,
      dist_tags: packument.dist_tags,
      versions: [...packument.docs.keys()],
      deprecated: packument.deprecated,
      version_doc,
      download,
    };
  },
};

/** Abbreviated ("corgi") packument, falling back to the full document for registries that ignore it. */
export const ABBREVIATED_ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

/** Path segment of a package name: `@scope/name` becomes `@scope%2fname` (the npm CLI's form). */
export function encodePackageName(name: string): string {
  if (name.startsWith("@")) {
    const slash = name.indexOf("/");
    if (slash > 1) {
      return `@${encodeURIComponent(name.slice(1, slash))}%2f${encodeURIComponent(name.slice(slash + 1))}`;
    }
  }
  return encodeURIComponent(name);
}

// ---------------------------------------------------------------- documents

const Deprecated = z.union([z.string(), z.boolean()]).nullish();
const Dist = z.object({
  integrity: z.string().nullish(),
  shasum: z.string().nullish(),
  tarball: z.string().nullish(),
});
/** A version document as found in the full packument, the abbreviated one, or `/{name}/{version}`. */
const VersionDocBody = z.object({
  version: z.string(),
  deprecated: Deprecated,
  dist: Dist.nullish(),
});
const PackumentVersion = VersionDocBody.extend({ version: z.string().nullish() });
const PackumentBody = z.object({
  "dist-tags": z.record(z.string(), z.string()).nullish(),
  versions: z.record(z.string(), PackumentVersion).nullish(),
  time: z.object({ unpublished: z.unknown().optional() }).nullish(),
});

interface PackumentView {
  found: boolean;
  dist_tags: Record<string, string>;
  docs: Map<string, NpmVersionDoc>;
  deprecated: Record<string, string>;
}

function notFound(): PackumentView {
  return { found: false, dist_tags: {}, docs: new Map(), deprecated: {} };
}

async function fetchPackument(ctx: ProbeContext, name: string): Promise<PackumentView> {
  const url = `${ctx.endpoints.npmRegistry}${encodePackageName(name)}`;
  const res = await ctx.http.request({ url, headers: { accept: ABBREVIATED_ACCEPT }, signal: ctx.signal });
  // 404 bodies have varied ({}, {"error":"Not found"}, an unpublished stub): the status alone decides.
  if (res.status === 404) return notFound();
  if (res.status !== 200) throw refused(res);
  const body = parseJsonBody(res, PackumentBody);
  const entries = Object.entries(body.versions ?? {});
  // A fully unpublished package keeps a stub with time.unpublished and no versions.
  if (body.time?.unpublished !== undefined && entries.length === 0) return notFound();
  const docs = new Map<string, NpmVersionDoc>();
  const deprecated: Record<string, string> = {};
  for (const [key, v] of entries) {
    const doc = toVersionDoc({ ...v, version: v.version ?? key });
    docs.set(key, doc);
    if (doc.deprecated !== null) deprecated[key] = doc.deprecated;
  }
  return { found: true, dist_tags: body["dist-tags"] ?? {}, docs, deprecated };
}

async function fetchVersionDoc(ctx: ProbeContext, name: string, version: string): Promise<NpmVersionDoc | null> {
  const url = `${ctx.endpoints.npmRegistry}${encodePackageName(name)}/${encodeURIComponent(version)}`;
  const res = await ctx.http.request({ url, headers: { accept: "application/json" }, signal: ctx.signal });
  if (res.status === 404) return null;
  if (res.status !== 200) throw refused(res);
  return toVersionDoc(parseJsonBody(res, VersionDocBody));
}

function toVersionDoc(v: z.infer<typeof VersionDocBody>): NpmVersionDoc {
  return {
    version: v.version,
    // `npm deprecate pkg@v ""` clears a deprecation by writing an empty string.
    deprecated: typeof v.deprecated === "string" && v.deprecated !== "" ? v.deprecated : null,
    integrity: v.dist?.integrity ?? null,
    shasum: v.dist?.shasum ?? null,
    tarball: v.dist?.tarball ?? null,
  };
}

// ---------------------------------------------------------------- download (--deep)

async function downloadTarball(ctx: ProbeContext, tarball: string): Promise<NonNullable<NpmObservation["download"]>> {
  const sha512 = createHash("sha512");
  const sha1 = createHash("sha1");
  const res = await ctx.http.stream({ url: tarball, signal: ctx.signal }, (chunk) => {
    sha512.update(chunk);
    sha1.update(chunk);
  });
  if (res.status !== 200) {
    throw new AppError("E_HTTP_STATUS", `${res.url} answered HTTP ${res.status} for the tarball download`, {
      details: { status: res.status, url: res.url },
    });
  }
  return { sha512_base64: sha512.digest("base64"), sha1_hex: sha1.digest("hex"), bytes: res.bytes };
}

// ---------------------------------------------------------------- errors and parsing

function refused(res: HttpResponse): AppError {
  return unexpectedStatus(
    res,
    res.status === 401 || res.status === 403
      ? " (the registry wants authentication or refuses access to this package)"
      : "",
  );
}
