import { Octokit } from "@octokit/rest";
import { AppError } from "../errors.ts";
import type { HttpClient } from "./client.ts";
import type { ClientFetch } from "./fetch-response.ts";

export interface GithubSettings {
  api_url: string;
  token: string | null;
  user_agent: string;
}

/** Octokit over a given HttpClient, so GitHub calls share the one agent, retries and evidence. */
export type GithubClientFactory = (http: HttpClient) => Octokit;

export const GITHUB_API_VERSION = "2022-11-28";

/**
 * One Octokit per factory (per process), viewed over each HttpClient by `overFetch`. Building one per probe was ~5 %
 * of a steady daemon cycle's allocations and 1.7 % of its CPU: Octokit's endpoint-method table, then a
 * `request.defaults` (a deep merge) for every method a fresh instance touches (docs/benchmarks.md).
 */
export function githubClientFactory(settings: GithubSettings): GithubClientFactory {
  let shared: Octokit | undefined;
  return (http) => overFetch((shared ??= buildOctokit(settings)), http.fetch);
}

function buildOctokit(settings: GithubSettings): Octokit {
  const octokit = new Octokit({
    baseUrl: settings.api_url.replace(/\/+$/, ""),
    userAgent: settings.user_agent,
    ...(settings.token ? { auth: settings.token } : {}),
    request: { retries: 0 },
    headers: { "x-github-api-version": GITHUB_API_VERSION },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  octokit.hook.wrap("request", async (request, options) => {
    if (options.request?.fetch === undefined) throw new Error("Octokit call without the client's fetch (overFetch)");
    if (options.request.parseSuccessResponseBody === false) return request(options); // the caller streams
    // In place: before-after-hook binds every inner hook to this same options object and ignores arguments.
    options.request = { ...options.request, parseSuccessResponseBody: false };
    const res = await request(options);
    return { ...res, data: successData(res.headers["content-type"], res.data) };
  });
  return octokit;
}

type Call = (...args: unknown[]) => Promise<unknown>;
interface Params {
  request?: Record<string, unknown>;
}

/**
 * `octokit` with every call sent through `fetch`: `request(route, params)`, `request(options)` and each
 * `rest.<scope>.<method>(params)` add `request.fetch` to the call's own options, which Octokit merges over its
 * defaults; the method's `endpoint` and `defaults` stay attached, so `paginate` (which reads `endpoint` and calls the
 * method again for each page) goes through `fetch` too. Everything else (`hook`, `auth`, `paginate`, `log`) is the
 * shared instance's. A call without `fetch` is refused by the shared instance's hook rather than sent past the
 * client, so a path this view does not cover (the legacy scopes outside `rest`, `graphql`) fails loudly.
 */
function overFetch(octokit: Octokit, fetch: ClientFetch): Octokit {
  const withFetch = (p: unknown): Params => {
    const params = (p ?? {}) as Params;
    return { ...params, request: { ...params.request, fetch } };
  };
  const wrap = (call: Call): Call =>
    Object.assign((...args: unknown[]) => {
      // request(route, params) or request(options) / method(params)
      if (typeof args[0] === "string") return call(args[0], withFetch(args[1]));
      return call(withFetch(args[0]));
    }, call);
  const request = wrap(octokit.request);
  const rest = memoView(octokit.rest, (methods) =>
    memoView(methods as object, (method) => (typeof method === "function" ? wrap(method as Call) : method)),
  );
  return new Proxy(octokit, {
    get(target, key) {
      if (key === "rest") return rest;
      if (key === "request") return request;
      return Reflect.get(target, key) as unknown;
    },
  });
}

/** `target` seen through `make`: each member read is `make(member)`, made once per view. */
function memoView<T extends object>(target: T, make: (member: unknown) => unknown): T {
  const made = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, key) {
      if (!made.has(key)) made.set(key, make(Reflect.get(t, key)));
      return made.get(key);
    },
  });
}

/**
 * A success body as Octokit's own parser returns it (text without a content type, JSON parsed, falling back to the
 * text; text/* and utf-8 as text; anything else as an ArrayBuffer), except that JSON goes through JSON.parse.
 * Octokit's parser (json-with-bigint) runs a reviver over every value to turn integers past 2^53 into BigInt,
 * which no caller here accepts (zod wants numbers, reports are JSON.stringify'd); in a steady daemon cycle it was
 * the largest single cost of a GitHub answer (docs/benchmarks.md). `body` is the client's buffered bytes
 * (src/http/fetch-response.ts), null for 204/205 and HEAD.
 */
function successData(contentType: string | undefined, body: unknown): unknown {
  if (!(body instanceof Uint8Array)) return body;
  const text = () => Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  if (!contentType) return text();
  const [type = "", ...params] = contentType
    .toLowerCase()
    .split(";")
    .map((p) => p.trim());
  if (type === "application/json" || type === "application/scim+json") {
    const t = text();
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return t;
    }
  }
  const utf8 = params.some((p) => /^charset="?utf-8"?$/.test(p));
  if (type.startsWith("text/") || (utf8 && type !== "application/octet-stream")) return text();
  return new Uint8Array(body).buffer;
}

/**
 * Runs one Octokit call and sorts the outcome: the data, `null` for 404 ("not found" is a finding),
 * or an AppError for everything we cannot interpret (transport failures unwrapped from Octokit's RequestError,
 * unexpected statuses), so the channel becomes `unknown`.
 */
export async function githubGet<T>(what: string, call: () => Promise<{ data: T }>): Promise<T | null> {
  try {
    const res = await call();
    return res.data;
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof AppError) throw cause;
    if (err instanceof AppError) throw err;
    if (status === 404) return null;
    throw new AppError(
      typeof status === "number" && status >= 500 ? "E_HTTP_STATUS" : "E_PROBE_FAILED",
      `${what}: ${typeof status === "number" ? `HTTP ${status}` : "request failed"}: ${(err as Error).message}`,
      { cause: err, details: { status } },
    );
  }
}
