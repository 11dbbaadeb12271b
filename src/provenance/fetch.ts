/**
 * The fetch edge: one function per registry endpoint, each taking an injected HTTP function (no global client).
 * "None" (404, 422, an empty list, PyPI's "No provenance available") is `none`; anything that could not be read
 * (a thrown transport error, 5xx, 401, a malformed body) is `unknown`, never `none`.
 */
import {
  ActionsRunResponse,
  CratesVersionProvenance,
  GithubAttestationsResponse,
  NpmAttestationsResponse,
  PypiNoProvenance,
  PypiProvenance,
  SigstoreBundle,
  type CratesTrustpubData,
  type PypiPublisher,
} from "./schemas.ts";
import { pep740ToBundle } from "./pypi.ts";

export interface ProvenanceHttpRequest {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Other hosts a redirect may lead to (Authorization is dropped when the host changes); default none. */
  readonly redirectHosts?: readonly string[];
}
export interface ProvenanceHttpResponse {
  readonly status: number;
  readonly body: Uint8Array;
  /** Response headers, lower-case names (GitHub's `link` for pagination). */
  readonly headers?: Readonly<Record<string, string>>;
}
/** Throws on transport failure (that is `unknown`). */
export type ProvenanceHttp = (req: ProvenanceHttpRequest) => Promise<ProvenanceHttpResponse>;

export type Fetched<T> =
  | { readonly kind: "found"; readonly value: T }
  | { readonly kind: "none" }
  | { readonly kind: "unknown"; readonly reason: string };

/** A bundle's decompressed size is capped (a GitHub bundle is a few KB). */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

async function get(http: ProvenanceHttp, req: ProvenanceHttpRequest): Promise<ProvenanceHttpResponse | string> {
  try {
    return await http(req);
  } catch (err) {
    // bundle_url is pre-signed (its query is a credential): no URL query ever reaches a reason.
    const message = (err instanceof Error ? err.message : String(err)).replace(/\?\S*/g, "?…");
    return `${new URL(req.url).host}: ${message}`;
  }
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return undefined;
  }
}

function unknownStatus(url: string, status: number): { kind: "unknown"; reason: string } {
  return { kind: "unknown", reason: `${new URL(url).host} answered HTTP ${status}` };
}

export interface GithubAttestation {
  readonly bundle: SigstoreBundle;
  readonly initiator: string | undefined;
}

export interface GithubAttestationsQuery {
  /** e.g. `https://api.github.com` (or the sim's). */
  readonly apiBase: string;
  readonly repository: string;
  readonly sha256: string;
  /** Authorization etc. for the API; never sent to the bundle host. */
  readonly apiHeaders?: Readonly<Record<string, string>>;
  /** Hosts `bundle_url` may point to (the allowed download hosts). */
  readonly bundleHosts: readonly string[];
}

/** GitHub's page size cap for the attestations list (docs: `per_page`, "max 100", default 30). */
export const ATTESTATIONS_PER_PAGE = 100;
/** At most this many pages are read (1,000 attestations for one digest); beyond that the answer is unknown. */
export const MAX_ATTESTATION_PAGES = 10;

/** The `rel="next"` target of an RFC 8288 `Link` header, as GitHub sends it for cursor pagination. */
export function nextLink(link: string | undefined): string | undefined {
  for (const part of (link ?? "").split(",")) {
    const m = /^<([^>]+)>(.*)$/.exec(part.trim());
    const rel = m ? /;\s*rel="?([^";]*)"?/.exec(m[2] ?? "") : null;
    if (m && rel?.[1]?.split(/\s+/).includes("next")) return m[1];
  }
  return undefined;
}

/**
 * `GET /repos/{o}/{r}/attestations/sha256:<hex>`, every page (`Link: rel="next"`, at most MAX_ATTESTATION_PAGES),
 * resolving `bundle: null` through `bundle_url` (Snappy JSON).
 */
export async function fetchGithubAttestations(
  http: ProvenanceHttp,
  q: GithubAttestationsQuery,
): Promise<Fetched<GithubAttestation[]>> {
  const first = `${q.apiBase.replace(/\/$/, "")}/repos/${q.repository}/attestations/sha256:${q.sha256}?per_page=${ATTESTATIONS_PER_PAGE}`;
  const origin = new URL(first).origin;
  const listed: GithubAttestationsResponse["attestations"] = [];
  let url: string | undefined = first;
  for (let page = 1; url !== undefined; page++) {
    if (page > MAX_ATTESTATION_PAGES) {
      return {
        kind: "unknown",
        reason: `more than ${MAX_ATTESTATION_PAGES * ATTESTATIONS_PER_PAGE} attestations for sha256:${q.sha256} (stopped after ${MAX_ATTESTATION_PAGES} pages)`,
      };
    }
    const res = await get(http, { url, headers: { accept: "application/vnd.github+json", ...q.apiHeaders } });
    if (typeof res === "string") return { kind: "unknown", reason: res };
    if (page === 1 && (res.status === 404 || res.status === 422)) return { kind: "none" };
    if (res.status !== 200) return unknownStatus(url, res.status);
    const parsed = GithubAttestationsResponse.safeParse(parseJson(res.body));
    if (!parsed.success) return { kind: "unknown", reason: `${new URL(url).host}: malformed attestations response` };
    listed.push(...parsed.data.attestations);
    const next = nextLink(res.headers?.["link"]);
    // The API token goes with every page: a next page must stay on the API's origin.
    if (next !== undefined && safeOrigin(next) !== origin) {
      return { kind: "unknown", reason: `the attestations list's next page leaves ${new URL(origin).host}` };
    }
    url = next;
  }
  if (listed.length === 0) return { kind: "none" };
  const out: GithubAttestation[] = [];
  for (const a of listed) {
    const bundle = a.bundle ?? (await fetchBundleUrl(http, a.bundle_url ?? undefined, q.bundleHosts));
    if (typeof bundle === "string") return { kind: "unknown", reason: bundle };
    out.push({ bundle, initiator: a.initiator });
  }
  return { kind: "found", value: out };
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Fetch a `bundle_url` blob without any credentials; its host must be allowed. */
export async function fetchBundleUrl(
  http: ProvenanceHttp,
  bundleUrl: string | undefined,
  allowedHosts: readonly string[],
): Promise<SigstoreBundle | string> {
  if (bundleUrl === undefined) return "the attestation has neither bundle nor bundle_url";
  let host: string;
  try {
    host = new URL(bundleUrl).host;
  } catch {
    return "bundle_url is not a URL";
  }
  if (!allowedHosts.includes(host)) return `bundle_url host ${host} is not an allowed download host`;
  const res = await get(http, { url: bundleUrl, headers: { accept: "application/x-snappy" } });
  if (typeof res === "string") return res;
  if (res.status !== 200) return `${host} answered HTTP ${res.status} for bundle_url`;
  const json = await decodeSnappyJson(res.body);
  return json ?? `${host}: bundle_url is not Snappy-compressed JSON`;
}

/** Decompress a raw Snappy block holding a Sigstore bundle; undefined when it is not one. */
export async function decodeSnappyJson(body: Uint8Array): Promise<SigstoreBundle | undefined> {
  const { uncompress } = (await import("snappyjs")).default; // CommonJS: module.exports (verify.ts, loadSigstore)
  let raw: Uint8Array;
  try {
    raw = uncompress(Buffer.from(body), MAX_BUNDLE_BYTES);
  } catch {
    return undefined;
  }
  const parsed = SigstoreBundle.safeParse(parseJson(raw));
  return parsed.success ? parsed.data : undefined;
}

/**
 * Re-base npm's `dist.attestations.url` onto the registry in use: mirrors serve the attestations endpoint at their
 * own origin. Only the path from `/-/npm/v1/attestations/` on is kept.
 */
export function rebaseNpmAttestationUrl(url: string, registry: string): string | undefined {
  const at = url.indexOf("/-/npm/v1/attestations/");
  if (at < 0) return undefined;
  return `${registry.replace(/\/$/, "")}${url.slice(at)}`;
}

export async function fetchNpmAttestations(
  http: ProvenanceHttp,
  url: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<Fetched<NpmAttestationsResponse["attestations"]>> {
  const res = await get(http, { url, headers: { accept: "application/json", ...headers } });
  if (typeof res === "string") return { kind: "unknown", reason: res };
  if (res.status === 404) return { kind: "none" };
  if (res.status !== 200) return unknownStatus(url, res.status);
  const parsed = NpmAttestationsResponse.safeParse(parseJson(res.body));
  if (!parsed.success) return { kind: "unknown", reason: `${new URL(url).host}: malformed attestations response` };
  return parsed.data.attestations.length === 0 ? { kind: "none" } : { kind: "found", value: parsed.data.attestations };
}

export interface PypiBundle {
  readonly publisher: PypiPublisher;
  /** Each PEP 740 attestation converted to a Sigstore bundle. */
  readonly bundles: readonly Record<string, unknown>[];
}

/** `GET /integrity/<project>/<version>/<file>/provenance`. */
export async function fetchPypiProvenance(
  http: ProvenanceHttp,
  q: { readonly base: string; readonly project: string; readonly version: string; readonly filename: string },
): Promise<Fetched<PypiBundle[]>> {
  const path = [q.project, q.version, q.filename].map(encodeURIComponent).join("/");
  const url = `${q.base.replace(/\/$/, "")}/integrity/${path}/provenance`;
  const res = await get(http, { url, headers: { accept: "application/vnd.pypi.integrity.v1+json" } });
  if (typeof res === "string") return { kind: "unknown", reason: res };
  // PyPI answers a file without provenance with 404 {"message":"No provenance available for <file>"}.
  if (res.status === 404) return { kind: "none" };
  if (res.status !== 200) return unknownStatus(url, res.status);
  return parsePypiProvenance(parseJson(res.body), new URL(url).host);
}

export function parsePypiProvenance(json: unknown, host: string): Fetched<PypiBundle[]> {
  if (PypiNoProvenance.safeParse(json).success) return { kind: "none" };
  const parsed = PypiProvenance.safeParse(json);
  if (!parsed.success) return { kind: "unknown", reason: `${host}: malformed provenance object` };
  const value = parsed.data.attestation_bundles.map((b) => ({
    publisher: b.publisher,
    bundles: b.attestations.map(pep740ToBundle),
  }));
  return value.length === 0 ? { kind: "none" } : { kind: "found", value };
}

export interface CratesPublish {
  readonly trustpub: CratesTrustpubData | null;
  /** The publishing user's login, or null for a trusted publish. */
  readonly publishedBy: string | null;
}

/** Read `version.trustpub_data` / `published_by` from `GET /api/v1/crates/{name}/{version}`. */
export function parseCratesPublish(json: unknown): CratesPublish | undefined {
  const parsed = CratesVersionProvenance.safeParse(json);
  if (!parsed.success) return undefined;
  return {
    trustpub: parsed.data.version.trustpub_data ?? null,
    publishedBy: parsed.data.version.published_by?.login ?? null,
  };
}

/** `GET /repos/{o}/{r}/actions/runs/{run_id}`: the run's workflow path and head_sha. */
export async function fetchActionsRun(
  http: ProvenanceHttp,
  q: {
    readonly apiBase: string;
    readonly repository: string;
    readonly runId: string;
    readonly apiHeaders?: Readonly<Record<string, string>>;
  },
): Promise<Fetched<{ readonly path: string; readonly headSha: string }>> {
  if (!/^\d+$/.test(q.runId)) return { kind: "unknown", reason: `run_id ${q.runId} is not an Actions run id` };
  const url = `${q.apiBase.replace(/\/$/, "")}/repos/${q.repository}/actions/runs/${q.runId}`;
  const res = await get(http, { url, headers: { accept: "application/vnd.github+json", ...q.apiHeaders } });
  if (typeof res === "string") return { kind: "unknown", reason: res };
  // A run GitHub does not show (deleted, private, expired) proves nothing either way: could not tell.
  if (res.status !== 200) return unknownStatus(url, res.status);
  const parsed = ActionsRunResponse.safeParse(parseJson(res.body));
  if (!parsed.success) return { kind: "unknown", reason: `${new URL(url).host}: malformed workflow run` };
  return { kind: "found", value: { path: parsed.data.path, headSha: parsed.data.head_sha } };
}
