import { npmAuthorization } from "../../config/npm-auth.ts";
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Dispatcher } from "undici";
import { sameVersion, parseVersion } from "../../drift/versions.ts";
import { AppError, errorMessage } from "../../errors.ts";
import type { HttpResponse } from "../../http/client.ts";
import type { PlanWith, Probe, ProbeContext } from "../../probes/types.ts";
import type { NpmObservation, NpmPlan, NpmVersionDoc } from "./types.ts";
import { parseJsonBody, unexpectedStatus } from "../../probes/upstream.ts";
import { npmEndpoints } from "./settings.ts";

/**
 * npm: the abbreviated packument (dist-tags, versions, deprecations; CDN-cached for up to 5 minutes and not purged
 * on publish) and the per-version document (served fresh), fetched concurrently; either can answer alone. The
 * registry, its credentials, TLS trust and proxy are npm's own (src/config/npmrc.ts). `--deep` streams the tarball
 * and hashes it the way `dist` states it (sha512 base64 for `integrity`, sha1 hex for `shasum`).
 * Contract: /work/shared/reference/registry-contracts.md §3.
 */
export const npmProbe: Probe<"npm", NpmPlan, NpmObservation> = {
  channel: "npm",
  async observe(plan: PlanWith<"npm", NpmPlan>, ctx: ProbeContext): Promise<NpmObservation> {
    if (!plan.npm) throw new AppError("E_PROBE_FAILED", `project ${plan.project} has no npm channel`);
    const name = plan.npm.package;
    const reg = await resolveRegistry(ctx, name);
    const version = plan.version;
    const [packumentRes, docRes] = await Promise.allSettled([
      fetchPackument(reg, name),
      fetchVersionDoc(reg, name, version),
    ]);
    const authFailure = [packumentRes, docRes].find(
      (r): r is PromiseRejectedResult => r.status === "rejected" && isAuthError(r.reason),
    );
    if (authFailure) throw authFailure.reason;
    if (packumentRes.status === "rejected" && docRes.status === "rejected") throw docRes.reason;
    const packument = packumentRes.status === "fulfilled" ? packumentRes.value : null;
    const fresh = docRes.status === "fulfilled" ? docRes.value : undefined;
    const fromPackument = packument ? findDoc(packument.docs, version) : null;
    const version_doc = fresh ?? fromPackument;
    const dist_tags = packument ? packument.dist_tags : await fetchDistTags(reg, name);
    const unpublished = version_doc ? null : await findUnpublished(reg, name, version, packument);
    const download = ctx.deep && version_doc?.tarball ? await downloadTarball(reg, version_doc.tarball) : null;
    return {
      channel: "npm",
      package: name,
      registry: displayRegistry(reg.base),
      packument_found: packument ? packument.found : null,
      dist_tags,
      versions: packument ? [...packument.docs.keys()] : [],
      deprecated: packument?.deprecated ?? {},
      version_doc,
      version_doc_source: fresh ? "version-endpoint" : fromPackument ? "packument" : null,
      unpublished,
      packument_error: packumentRes.status === "rejected" ? errorMessage(packumentRes.reason) : null,
      download,
    };
  },
};

// ---------------------------------------------------------------- registry, auth, TLS

/** One package's registry as npm would use it: base URL, credentials, and the dispatcher carrying TLS/proxy. */
interface Registry {
  base: string;
  ctx: ProbeContext;
  headersFor(url: string): Record<string, string>;
  dispatcherFor(url: string): Dispatcher | undefined;
}

/**
 * `settings.npm.registry` wins for unscoped packages, a `@scope:registry` entry wins for its scope, else npm's
 * `registry`. Credentials go to URLs under that registry only: `settings.npm.token`, else the `.npmrc` credential
 * npm would send to that URL (`//host/path/:_authToken`, ...). Another host never gets them.
 */
async function resolveRegistry(ctx: ProbeContext, name: string): Promise<Registry> {
  const e = npmEndpoints(ctx.endpoints);
  const npmrc = e.npmrc ? await e.npmrc() : null;
  const configured = e.registry;
  const base =
    npmrc && (npmrc.hasScopedRegistry(name) || configured === null) ? npmrc.registryFor(name) : (configured ?? "");
  if (!base) throw new AppError("E_CONFIG_INVALID", "settings.npm.registry: no npm registry is configured");
  const token = e.token ?? null;
  return {
    base,
    ctx,
    headersFor(url) {
      const authorization = npmAuthorization(npmrc, token, base, url);
      return authorization ? { authorization } : {};
    },
    dispatcherFor(url) {
      if (!npmrc) return undefined;
      const { ca, strictSSL } = npmrc.tls;
      return ctx.http.agent({ ca, rejectUnauthorized: strictSSL, proxy: npmrc.proxyFor(url) });
    },
  };
}

function get(reg: Registry, url: string, accept: string, maxBytes?: number): Promise<HttpResponse> {
  const dispatcher = reg.dispatcherFor(url);
  return reg.ctx.http.request({
    url,
    headers: { accept, ...reg.headersFor(url) },
    signal: reg.ctx.signal,
    ...(maxBytes !== undefined ? { maxBytes } : {}),
    ...(dispatcher ? { dispatcher } : {}),
  });
}

/** The registry as the report shows it: no credentials, no query. */
export function displayRegistry(base: string): string {
  const u = new URL(base);
  return `${u.origin}${u.pathname}`;
}

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
/** `/{name}/{version}`: also what provenance reads (so the gatherer need not ask again). */
const FreshVersionDocBody = VersionDocBody.extend({
  dist: Dist.extend({ attestations: z.looseObject({ url: z.string() }).nullish() }).nullish(),
  _npmUser: z
    .looseObject({ name: z.string().nullish(), trustedPublisher: z.looseObject({ id: z.string() }).nullish() })
    .nullish(),
});
const PackumentVersion = VersionDocBody.extend({ version: z.string().nullish() });
const PackumentBody = z.object({
  "dist-tags": z.record(z.string(), z.string()).nullish(),
  versions: z.record(z.string(), PackumentVersion).nullish(),
  time: z.record(z.string(), z.unknown()).nullish(),
});
const DistTags = z.record(z.string(), z.string());

interface PackumentView {
  found: boolean;
  dist_tags: Record<string, string>;
  docs: Map<string, NpmVersionDoc>;
  deprecated: Record<string, string>;
  /** Only in full packuments (a registry that ignores the abbreviated Accept). */
  time: Record<string, unknown> | null;
  unpublished?: NpmObservation["unpublished"];
}

function notFound(unpublished: NpmObservation["unpublished"] = null): PackumentView {
  return { found: false, dist_tags: {}, docs: new Map(), deprecated: {}, time: null, unpublished };
}

async function fetchPackument(reg: Registry, name: string): Promise<PackumentView> {
  const res = await get(reg, `${reg.base}${encodePackageName(name)}`, ABBREVIATED_ACCEPT);
  // 404 bodies have varied ({}, {"error":"Not found"}, an unpublished stub): the status decides, the stub adds why.
  if (res.status === 404) return notFound(unpublishedAt(res));
  if (res.status !== 200) throw refused(res, reg);
  const body = parseJsonBody(res, PackumentBody);
  const entries = Object.entries(body.versions ?? {});
  // A fully unpublished package keeps a stub with time.unpublished and no versions.
  if (body.time?.unpublished !== undefined && entries.length === 0) return notFound(unpublishedTime(body.time));
  const docs = new Map<string, NpmVersionDoc>();
  const deprecated: Record<string, string> = {};
  for (const [key, v] of entries) {
    const doc = toVersionDoc({ ...v, version: v.version ?? key });
    docs.set(key, doc);
    if (doc.deprecated !== null) deprecated[key] = doc.deprecated;
  }
  return { found: true, dist_tags: body["dist-tags"] ?? {}, docs, deprecated, time: body.time ?? null };
}

/** The fresh version document; null on 404. npm strips build metadata, so `0.8.0+build.1` is asked as `0.8.0`. */
async function fetchVersionDoc(reg: Registry, name: string, version: string): Promise<NpmVersionDoc | null> {
  const bare = parseVersion(version)?.version ?? version;
  const url = `${reg.base}${encodePackageName(name)}/${encodeURIComponent(bare)}`;
  const res = await get(reg, url, "application/json");
  if (res.status === 404) return null;
  if (res.status !== 200) throw refused(res, reg);
  const body = parseJsonBody(res, FreshVersionDocBody);
  const user = body._npmUser;
  return {
    ...toVersionDoc(body),
    attestations_url: body.dist?.attestations?.url ?? null,
    npm_user: user ? { name: user.name ?? null, trusted_publisher: user.trustedPublisher != null } : null,
  };
}

/** `/-/package/{name}/dist-tags`: `latest` when the packument could not be read. Empty when this fails too. */
async function fetchDistTags(reg: Registry, name: string): Promise<Record<string, string>> {
  try {
    const res = await get(reg, `${reg.base}-/package/${encodePackageName(name)}/dist-tags`, "application/json");
    if (res.status === 401 || res.status === 403) throw refused(res, reg);
    return res.status === 200 ? parseJsonBody(res, DistTags) : {};
  } catch (err) {
    if (isAuthError(err)) throw err;
    reg.ctx.log.debug({ err: errorMessage(err) }, "npm dist-tags unavailable");
    return {};
  }
}

/**
 * Was the version (or the package) unpublished? The abbreviated packument has no `time` map, so the full one is
 * asked only when the version is missing. A full packument that cannot be read leaves the question open (null).
 */
async function findUnpublished(
  reg: Registry,
  name: string,
  version: string,
  packument: PackumentView | null,
): Promise<NpmObservation["unpublished"]> {
  if (packument?.unpublished) return packument.unpublished;
  if (packument && !packument.found) return null;
  let time = packument?.time ?? null;
  if (time === null) {
    try {
      const res = await get(reg, `${reg.base}${encodePackageName(name)}`, "application/json");
      if (res.status === 404) return unpublishedAt(res);
      if (res.status !== 200) return null;
      const full = parseJsonBody(res, PackumentBody);
      // Asked after the other two: a version published meanwhile (or past a stale CDN copy of those) is in this
      // document's `versions` too. That is a version not yet visible everywhere, not one that was unpublished.
      if (Object.keys(full.versions ?? {}).some((k) => sameVersion(k, version))) return null;
      time = full.time ?? null;
    } catch (err) {
      reg.ctx.log.debug({ err: errorMessage(err) }, "npm full packument unavailable");
      return null;
    }
  }
  if (!time) return null;
  if (time.unpublished !== undefined) return unpublishedTime(time);
  const listed = Object.entries(time).find(([k]) => k !== "created" && k !== "modified" && sameVersion(k, version));
  return listed ? { scope: "version", at: typeof listed[1] === "string" ? listed[1] : null } : null;
}

function unpublishedAt(res: HttpResponse): NpmObservation["unpublished"] {
  try {
    const body = PackumentBody.safeParse(res.json());
    return body.success && body.data.time?.unpublished !== undefined ? unpublishedTime(body.data.time) : null;
  } catch {
    return null;
  }
}

function unpublishedTime(time: Record<string, unknown>): NpmObservation["unpublished"] {
  const u = time["unpublished"];
  const at = u && typeof u === "object" && "time" in u && typeof u.time === "string" ? u.time : null;
  return { scope: "package", at };
}

function findDoc(docs: Map<string, NpmVersionDoc>, version: string): NpmVersionDoc | null {
  const exact = docs.get(version);
  if (exact) return exact;
  for (const [key, doc] of docs) if (sameVersion(key, version)) return doc;
  return null;
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

async function downloadTarball(reg: Registry, tarball: string): Promise<NonNullable<NpmObservation["download"]>> {
  const sha512 = createHash("sha512");
  const sha1 = createHash("sha1");
  const dispatcher = reg.dispatcherFor(tarball);
  const req = {
    url: tarball,
    headers: reg.headersFor(tarball),
    signal: reg.ctx.signal,
    ...(dispatcher ? { dispatcher } : {}),
  };
  const res = await reg.ctx.http.stream(req, (chunk) => {
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

/** 401/403: the registry wants (other) credentials. Unknown, never "not found". */
function refused(res: HttpResponse, reg: Registry): AppError {
  if (res.status === 401 || res.status === 403) {
    const sent = reg.headersFor(res.url)["authorization"] !== undefined;
    return new AppError(
      "E_HTTP_AUTH",
      `npm registry ${displayRegistry(reg.base)} refused the request with HTTP ${res.status}: authentication ${sent ? "failed with the configured credentials" : "required and no credentials are configured for it"} (settings.npm.token or a //host/:_authToken line in .npmrc)`,
      { details: { status: res.status, url: displayRegistry(res.url) } },
    );
  }
  return unexpectedStatus(res, "");
}

function isAuthError(err: unknown): boolean {
  return err instanceof AppError && err.code === "E_HTTP_AUTH";
}
