import { createHash } from "node:crypto";
import { z } from "zod";
import { AppError, errorMessage } from "../../errors.ts";
import { cratesApiQueue } from "./api-queue.ts";
import type { HttpResponse } from "../../http/client.ts";
import type { DownloadedAsset, PlanWith, Probe, ProbeContext } from "../../probes/types.ts";
import type { CratesIndexEntry, CratesObservation, CratesPlan } from "./types.ts";
import { describeIssues, excerpt } from "../../probes/upstream.ts";
import { cratesEndpoints } from "./settings.ts";

/**
 * crates.io, index first: the sparse index file (every published version with cksum and yanked flag; no rate limit)
 * is read fresh and carries the verdict. The API version document (checksum, yank message, created_at) comes
 * through the process-wide queue (api-queue.ts, one request per second across the process) and is kept for the life
 * of the process; it is asked again only when its yank state matters (the index says yanked, or does not list the
 * version). An API answer that does not arrive before the run's deadline leaves `api_pending` with the reason.
 * Under a caller that defers (`ctx.defer`, the daemon) a request that has to wait behind others in the queue is not
 * waited for: the observation comes back with `api_pending.queued` and the completed one is handed to `ctx.defer`.
 * `--deep` downloads the .crate and hashes it. Contract: registry-contracts.md §2.
 */
export const cratesProbe: Probe<"crates", CratesPlan, CratesObservation> = {
  channel: "crates",
  async observe(plan: PlanWith<"crates", CratesPlan>, ctx: ProbeContext): Promise<CratesObservation> {
    if (!plan.crates) throw new AppError("E_PROBE_FAILED", `project ${plan.project} has no crates channel`);
    const crate = plan.crates.crate;
    const url = apiVersionUrl(ctx, crate, plan.version);
    // The daemon does not wait behind other requests in the queue: it completes the report when the answer comes.
    let ahead = 0;
    const deferring = () => {
      ahead = cratesApiQueue.backlog;
      return ctx.defer !== undefined && !ctx.deep && ahead > 0;
    };
    let deferred = false;
    // Not in the process cache: the request is needed whatever the index says, so it goes out alongside the index.
    let early: Promise<Settled<ApiVersion>> | null = null;
    if (!cratesApiQueue.peek(url)) {
      deferred = deferring();
      early = settle(fetchApiVersion(ctx, crate, plan.version, true, deferred ? undefined : ctx.signal));
    }
    const index = await fetchIndex(ctx, crate);
    const entry = index.entries.find((e) => sameVersion(e.vers, plan.version));
    // The yank state (and message) of a cached document may be stale: ask again when the index makes it matter.
    const fresh = ctx.deep || entry === undefined || entry.yanked;
    if (!early && fresh && deferring()) {
      deferred = true;
      early = settle(fetchApiVersion(ctx, crate, plan.version, true, undefined));
    }
    const finish = async (answer: Promise<ApiVersion>): Promise<CratesObservation> => {
      let api_version: CratesObservation["api_version"] = null;
      let api_cached = false;
      let api_pending: CratesObservation["api_pending"] = null;
      try {
        const api = await answer;
        api_version = api.value;
        api_cached = api.cached;
      } catch (err) {
        // The index verdict stands without the API; the check marks what only the API could add as pending.
        api_pending =
          ctx.signal.aborted && !deferred
            ? {
                reason: `the crates.io API answer did not arrive before the deadline (${errorMessage(err)})`,
                deadline: true,
              }
            : { reason: errorMessage(err), deadline: false };
      }
      // The download endpoint needs the version as published (it may carry build metadata the plan lacks).
      const published = entry?.vers ?? api_version?.num ?? null;
      const download = ctx.deep && published !== null ? await downloadCrate(ctx, crate, published) : null;
      return { channel: "crates", crate, api_version, api_cached, api_pending, index, download };
    };
    if (deferred && early && ctx.defer) {
      const queuedAnswer = early;
      ctx.defer(
        finish(queuedAnswer.then(unsettle)).catch((err: unknown): CratesObservation => ({
          channel: "crates",
          crate,
          api_version: null,
          api_cached: false,
          api_pending: { reason: errorMessage(err), deadline: false },
          index,
          download: null,
        })),
      );
      const reason =
        `the crates.io API answer (trusted-publishing data, created_at, the API cross-check) is queued behind ` +
        `${ahead} other request${ahead === 1 ? "" : "s"} (one per second across the process); the report is completed when it arrives`;
      return {
        channel: "crates",
        crate,
        api_version: null,
        api_cached: false,
        api_pending: { reason, deadline: true, queued: true },
        index,
        download: null,
      };
    }
    return finish(early ? early.then(unsettle) : fetchApiVersion(ctx, crate, plan.version, fresh, ctx.signal));
  },
};

type ApiVersion = { value: CratesObservation["api_version"]; cached: boolean };

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A promise that never rejects (so an early request's failure is not unhandled while the index is read). */
function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function unsettle<T>(s: Settled<T>): T {
  if (s.ok) return s.value;
  throw s.error instanceof Error ? s.error : new Error(String(s.error));
}

// ---------------------------------------------------------------- paths

/** Sparse index path of a crate: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…` (lower-cased). */
export function cratesIndexPath(name: string): string {
  const n = name.toLowerCase();
  const seg = encodeURIComponent;
  switch (n.length) {
    case 0:
      throw new AppError("E_PROBE_FAILED", "empty crate name");
    case 1:
      return `1/${seg(n)}`;
    case 2:
      return `2/${seg(n)}`;
    case 3:
      return `3/${seg(n.slice(0, 1))}/${seg(n)}`;
    default:
      return `${seg(n.slice(0, 2))}/${seg(n.slice(2, 4))}/${seg(n)}`;
  }
}

function apiVersionUrl(ctx: ProbeContext, crate: string, version: string): string {
  return `${cratesEndpoints(ctx.endpoints).api}/api/v1/crates/${encodeURIComponent(crate)}/${encodeURIComponent(version)}`;
}

/** Build metadata (`+…`) does not distinguish crates.io versions: `1.0.0+a` and `1.0.0` cannot both exist. */
function sameVersion(a: string, b: string): boolean {
  return a === b || a.split("+")[0] === b.split("+")[0];
}

// ---------------------------------------------------------------- API

const ApiVersionBody = z.object({
  version: z.object({
    num: z.string(),
    checksum: z.string(),
    yanked: z.boolean(),
    yank_message: z.string().nullish(),
    created_at: z.string().nullish(),
  }),
});

/** The API version document through the process-wide queue; null when crates.io answers 404. */
async function fetchApiVersion(
  ctx: ProbeContext,
  crate: string,
  version: string,
  fresh: boolean,
  signal: AbortSignal | undefined,
): Promise<ApiVersion> {
  const url = apiVersionUrl(ctx, crate, version);
  const res = await cratesApiQueue.get(
    url,
    async (u) => {
      const r = await ctx.http.request({ url: u, headers: { accept: "application/json" }, conditional: false });
      // Both "crate `x` does not exist" and "crate `x` does not have a version `v`" are 404.
      if (r.status !== 200 && r.status !== 404) throw unexpectedStatus(r);
      return { status: r.status, body: r.text() };
    },
    signal ? { fresh, signal } : { fresh },
  );
  if (res.status === 404) return { value: null, cached: res.cached };
  let raw: unknown;
  try {
    raw = JSON.parse(res.body);
  } catch (err) {
    throw new AppError("E_UPSTREAM_MALFORMED", `${url}: body is not JSON (${excerpt(res.body)})`, { cause: err });
  }
  const parsed = ApiVersionBody.safeParse(raw);
  if (!parsed.success) throw new AppError("E_UPSTREAM_MALFORMED", `${url}: ${describeIssues(parsed.error)}`);
  const v = parsed.data.version;
  return {
    value: {
      num: v.num,
      checksum: v.checksum,
      yanked: v.yanked,
      yank_message: v.yank_message ?? null,
      created_at: v.created_at ?? null,
    },
    cached: res.cached,
  };
}

// ---------------------------------------------------------------- sparse index

/** One index record (cargo's `IndexPackage`); only the fields we report are checked. */
const IndexLine = z.object({
  name: z.string(),
  vers: z.string(),
  cksum: z.string(),
  yanked: z.boolean().nullish(),
  pubtime: z.string().nullish(),
});

/** Cargo treats these as "the crate is not in the index". */
const INDEX_NOT_FOUND = new Set([404, 410, 451]);

async function fetchIndex(ctx: ProbeContext, crate: string): Promise<CratesObservation["index"]> {
  const url = `${cratesEndpoints(ctx.endpoints).index}/${cratesIndexPath(crate)}`;
  const res = await ctx.http.request({ url, signal: ctx.signal });
  if (INDEX_NOT_FOUND.has(res.status)) return { found: false, entries: [] };
  if (res.status !== 200) throw unexpectedStatus(res);
  return { found: true, entries: parseIndexFile(res.text(), res.url) };
}

/** Newline-delimited JSON, one record per published version in publish order. Blank lines are skipped. */
export function parseIndexFile(text: string, url: string): CratesIndexEntry[] {
  const entries: CratesIndexEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "") continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new AppError("E_UPSTREAM_MALFORMED", `${url}: line ${i + 1} is not JSON (${excerpt(line)})`, {
        cause: err,
        details: { url, line: i + 1 },
      });
    }
    const parsed = IndexLine.safeParse(raw);
    if (!parsed.success) {
      throw new AppError("E_UPSTREAM_MALFORMED", `${url}: line ${i + 1}: ${describeIssues(parsed.error)}`, {
        details: { url, line: i + 1 },
      });
    }
    const r = parsed.data;
    entries.push({ vers: r.vers, cksum: r.cksum, yanked: r.yanked ?? false, pubtime: r.pubtime ?? null });
  }
  return entries;
}

// ---------------------------------------------------------------- download (--deep)

const REDIRECT = new Set([301, 302, 303, 307, 308]);

/**
 * `/api/v1/crates/{name}/{version}/download` answers 302 to the static host. We ask without following, then
 * stream the Location we were given (so the one allowed redirect host is the one crates.io named).
 */
async function downloadCrate(ctx: ProbeContext, crate: string, version: string): Promise<DownloadedAsset> {
  const url = `${apiVersionUrl(ctx, crate, version)}/download`;
  const first = await ctx.http.request({ url, followRedirects: false, conditional: false, signal: ctx.signal });
  if (first.status === 200) {
    return { sha256: createHash("sha256").update(first.body).digest("hex"), bytes: first.body.byteLength };
  }
  if (!REDIRECT.has(first.status)) throw unexpectedStatus(first);
  const location = first.headers["location"];
  if (!location) throw new AppError("E_UPSTREAM_MALFORMED", `${url} answered HTTP ${first.status} without a Location`);
  const target = new URL(location, url).toString();
  const hash = createHash("sha256");
  const res = await ctx.http.stream({ url: target, signal: ctx.signal }, (chunk) => hash.update(chunk));
  if (res.status !== 200) {
    throw new AppError("E_HTTP_STATUS", `${res.url} answered HTTP ${res.status} for the .crate download`, {
      details: { status: res.status, url: res.url },
    });
  }
  return { sha256: hash.digest("hex"), bytes: res.bytes };
}

// ---------------------------------------------------------------- errors and parsing

const CratesErrorBody = z.object({ errors: z.array(z.object({ detail: z.string() })).min(1) });

function errorDetail(res: HttpResponse): string | null {
  try {
    const parsed = CratesErrorBody.safeParse(res.json());
    return parsed.success ? parsed.data.errors.map((e) => e.detail).join("; ") : null;
  } catch {
    return null;
  }
}

/** Anything but 200/404: crates.io refused or failed, so we cannot tell. 403s name their reason. */
function unexpectedStatus(res: HttpResponse): AppError {
  const detail = errorDetail(res);
  const details = { status: res.status, url: res.url };
  if (res.status === 403 && detail && /user-agent/i.test(detail)) {
    return new AppError(
      "E_HTTP_STATUS",
      `crates.io refused ${res.url} (HTTP 403): it requires a User-Agent that names the app and a contact; ` +
        `set settings.http.user_agent (crates.io said: ${firstLine(detail)})`,
      { details },
    );
  }
  if (res.status === 403) {
    return new AppError(
      "E_HTTP_STATUS",
      `crates.io refused ${res.url} (HTTP 403)${detail ? `: ${firstLine(detail)}` : ""}`,
      { details },
    );
  }
  return new AppError(
    "E_HTTP_STATUS",
    `${res.url} answered HTTP ${res.status}${detail ? `: ${firstLine(detail)}` : ""}`,
    { details },
  );
}

function firstLine(text: string): string {
  return text.split("\n")[0]?.trim() ?? "";
}
