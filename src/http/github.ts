import { Octokit } from "@octokit/rest";
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
