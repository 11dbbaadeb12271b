import { Octokit } from "@octokit/rest";
import { AppError } from "../errors.ts";
import type { HttpClient } from "./client.ts";

export interface GithubSettings {
  api_url: string;
  token: string | null;
  user_agent: string;
}

/** Builds Octokit instances over a given HttpClient, so GitHub calls share the one agent, retries and evidence. */
export type GithubClientFactory = (http: HttpClient) => Octokit;

export const GITHUB_API_VERSION = "2022-11-28";

export function githubClientFactory(settings: GithubSettings): GithubClientFactory {
  return (http) => {
    const octokit = new Octokit({
      baseUrl: settings.api_url.replace(/\/+$/, ""),
      userAgent: settings.user_agent,
      ...(settings.token ? { auth: settings.token } : {}),
      request: { fetch: http.fetch, retries: 0 },
      headers: { "x-github-api-version": GITHUB_API_VERSION },
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
    octokit.hook.wrap("request", async (request, options) => {
      if (options.request?.parseSuccessResponseBody === false) return request(options); // the caller streams
      // In place: before-after-hook binds every inner hook to this same options object and ignores arguments.
      options.request = { ...options.request, parseSuccessResponseBody: false };
      const res = await request(options);
      return { ...res, data: successData(res.headers["content-type"], res.data) };
    });
    return octokit;
  };
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
