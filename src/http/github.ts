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
  return (http) =>
    new Octokit({
      baseUrl: settings.api_url.replace(/\/+$/, ""),
      userAgent: settings.user_agent,
      ...(settings.token ? { auth: settings.token } : {}),
      request: { fetch: http.fetch, retries: 0 },
      headers: { "x-github-api-version": GITHUB_API_VERSION },
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
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
