import { AppError } from "../errors.ts";
import type { SecretRegistry } from "../secrets.ts";

/** Statuses that carry a Location to follow. */
export const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** The first request plus five redirects. */
const MAX_HOPS = 6;

/** One request of a redirect chain. */
export interface Hop {
  readonly url: string;
  readonly host: string;
  readonly headers: Record<string, string>;
  /** 0 for the request itself, 1.. for redirect targets. */
  readonly index: number;
}

/** What one hop ended with: a final value, or a Location to go to next. */
export type HopOutcome<T> = { done: T } | { redirect: string };

/**
 * Run `exchange` for the request and each redirect it answers with. A redirect may only lead to the request's own
 * host or one of `redirectHosts`; the Authorization header stays behind when the host changes.
 */
export async function followRedirects<T>(
  start: { url: string; headers: Record<string, string>; redirectHosts?: readonly string[] | undefined },
  secrets: SecretRegistry,
  exchange: (hop: Hop) => Promise<HopOutcome<T>>,
): Promise<T> {
  let url = start.url;
  let headers = start.headers;
  const allowed = new Set([new URL(url).host, ...(start.redirectHosts ?? [])]);
  for (let index = 0; index < MAX_HOPS; index++) {
    const host = new URL(url).host;
    const outcome = await exchange({ url, host, headers, index });
    if ("done" in outcome) return outcome.done;
    const next = new URL(outcome.redirect, url);
    if (!allowed.has(next.host)) throw redirectError(url, next, secrets);
    if (next.host !== host) headers = withoutAuth(headers);
    url = next.toString();
  }
  throw new AppError("E_HTTP_REDIRECT", `too many redirects for ${secrets.redact(start.url)}`);
}

function withoutAuth(h: Record<string, string>): Record<string, string> {
  const { authorization: _drop, ...rest } = h;
  return rest;
}

function redirectError(from: string, to: URL, secrets: SecretRegistry): AppError {
  return new AppError(
    "E_HTTP_REDIRECT",
    `${secrets.redact(from)} redirected to ${to.host}, which is not an allowed host`,
    { details: { host: to.host } },
  );
}
