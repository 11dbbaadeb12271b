import { onAbort } from "../abort-fanout.ts";
import { Agent, ProxyAgent, request as undiciRequest, type Dispatcher } from "./undici.ts";
import pLimit, { type LimitFunction } from "p-limit";
import pRetry, { AbortError } from "p-retry";
import { AppError } from "../errors.ts";
import type { Evidence } from "./evidence.ts";
import type { SecretRegistry } from "../secrets.ts";
import { RequestCache, withValidators, type ValidatorCache } from "./cache.ts";
import { FetchResponse, type ClientFetch, type FetchInit } from "./fetch-response.ts";
import { followRedirects, REDIRECT, type Hop, type HopOutcome } from "./redirects.ts";
import { sendOnce, toAppError } from "./send.ts";

export { MemoryValidatorCache, type CachedEntry, type ValidatorCache } from "./cache.ts";

export interface HttpSettings {
  user_agent: string;
  connect_timeout_ms: number;
  headers_timeout_ms: number;
  body_timeout_ms: number;
  /** Deadline for one attempt, headers and body together. */
  request_timeout_ms: number;
  max_body_bytes: number;
  /** Cap on one streamed download (`stream()`, the `--deep` hashes). */
  max_download_bytes: number;
  retries: number;
  /** Longest Retry-After / rate-limit reset we are willing to sit out; longer ones fail as unknown. */
  max_retry_wait_ms: number;
  /** Base delay of the jittered exponential backoff. */
  retry_base_ms: number;
  default_host_concurrency: number;
  host_limits: Record<string, { concurrency: number; min_interval_ms: number }>;
}

export const DEFAULT_HTTP_SETTINGS: HttpSettings = {
  user_agent: "release-monitor/0.1 (+https://github.com/release-monitor/release-monitor)",
  connect_timeout_ms: 10_000,
  headers_timeout_ms: 15_000,
  body_timeout_ms: 30_000,
  request_timeout_ms: 60_000,
  max_body_bytes: 20 * 1024 * 1024,
  max_download_bytes: 4 * 1024 ** 3,
  retries: 3,
  max_retry_wait_ms: 60_000,
  retry_base_ms: 500,
  default_host_concurrency: 8,
  host_limits: {},
};

export interface HttpRequest {
  url: string;
  method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Response size cap for this request (defaults to settings.max_body_bytes). */
  maxBytes?: number;
  /** Follow 301/302/303/307/308 (default true). */
  followRedirects?: boolean;
  /** Hosts a redirect may lead to besides the request's own host. */
  redirectHosts?: readonly string[];
  /** Revalidate with If-None-Match / If-Modified-Since against the validator cache (default true for GET). */
  conditional?: boolean;
  /** Retry transient failures (default true for GET/HEAD, false otherwise). */
  retry?: boolean;
  /**
   * Serve a cached 200 for this GET without any request while it is younger than this (ms), counted from when it
   * was stored or last revalidated. The response is stored even without validators. Only for documents that do
   * not change (or whose changes the caller detects otherwise); default: always ask the server.
   */
  cacheTtlMs?: number;
  /**
   * With `cacheTtlMs`: keep the final 200 under this key instead of its URL, for content identified by something
   * other than where it is served (a release asset behind short-lived signed redirects: id, size, digest).
   */
  cacheKey?: string;
  signal?: AbortSignal;
  /** Send through this dispatcher (a registry's own TLS or proxy, from `HttpClient.agent`) instead of the shared one. */
  dispatcher?: Dispatcher;
}

/**
 * `cacheTtlMs` for a call made through the fetch adapter (Octokit has no per-call option that reaches `fetch`):
 * set as a request header, read and removed by the adapter, never sent.
 */
export const CACHE_TTL_HEADER = "x-release-monitor-cache-ttl";

/** TLS trust and proxy of one registry (npm's `ca`/`cafile`, `strict-ssl`, `proxy`/`https-proxy`). */
export interface AgentOptions {
  /** PEM certificates to trust instead of the system store; null keeps the system store. */
  ca: readonly string[] | null;
  rejectUnauthorized: boolean;
  /** Proxy URL, or null to connect directly. */
  proxy: string | null;
}

export interface HttpResponse {
  /** Final URL after redirects. */
  url: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** True when the server answered 304 and the cached body was reused. */
  revalidated: boolean;
  /** True when the cached body was served without any request (`cacheTtlMs`). */
  fromCache?: boolean;
  text(): string;
  json(): unknown;
}

/** One completed exchange, for metrics. */
export interface ExchangeEvent {
  host: string;
  method: string;
  status: number | null;
  duration_ms: number;
  revalidated: boolean;
  error_code: string | null;
}

export interface HttpClientOptions {
  settings: HttpSettings;
  secrets: SecretRegistry;
  /** Inject a dispatcher (tests); by default one undici Agent is built from the timeouts. */
  dispatcher?: Dispatcher;
  cache?: ValidatorCache;
  onExchange?: (event: ExchangeEvent) => void;
  /** Clock for evidence timestamps. */
  now?: () => Date;
  /** Waits out a server's Retry-After between attempts (tests inject one that records). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  /** GET a body as a stream (not buffered, not cached): `onChunk` sees every byte. For hashing large assets. */
  stream(
    req: HttpRequest,
    onChunk: (chunk: Uint8Array) => void,
  ): Promise<{ url: string; status: number; bytes: number }>;
  /** A fetch-shaped function over this client, for Octokit's `request.fetch` (src/http/fetch-response.ts). */
  readonly fetch: ClientFetch;
  /**
   * A client sharing agent, limits and cache that also appends each exchange to `evidence`. With `deadline`
   * (epoch ms), a Retry-After that would end past it fails at once instead of being sat out.
   */
  recording(evidence: Evidence[], deadline?: number): HttpClient;
  readonly dispatcher: Dispatcher;
  /** A dispatcher with this TLS trust / proxy and the client's timeouts (one per distinct options; closed with it). */
  agent(options: AgentOptions): Dispatcher;
  close(): Promise<void>;
}

/** Added to a host's min_interval (at most 5% of it), so jitter cannot bring two requests closer at its end. */
const SPACING_MARGIN_MS = 50;
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** An HTTP status that should be retried, carrying how long the server asked us to wait. */
class RetryableStatus extends Error {
  readonly status: number;
  readonly waitMs: number | null;
  constructor(status: number, waitMs: number | null) {
    super(`HTTP ${status}`);
    this.status = status;
    this.waitMs = waitMs;
  }
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const shared = new SharedState(options);
  return new Client(shared, null);
}

class SharedState {
  readonly settings: HttpSettings;
  readonly secrets: SecretRegistry;
  readonly dispatcher: Dispatcher;
  readonly ownsDispatcher: boolean;
  readonly cache: ValidatorCache | undefined;
  readonly onExchange: ((e: ExchangeEvent) => void) | undefined;
  readonly now: () => Date;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #limits = new Map<string, { limit: LimitFunction; minInterval: number; next: number }>();
  readonly agents = new Map<string, Dispatcher>();

  constructor(o: HttpClientOptions) {
    this.settings = o.settings;
    this.secrets = o.secrets;
    this.cache = o.cache;
    this.onExchange = o.onExchange;
    this.now = o.now ?? (() => new Date());
    this.sleep = o.sleep ?? sleep;
    this.ownsDispatcher = o.dispatcher === undefined;
    this.dispatcher =
      o.dispatcher ??
      new Agent({
        connect: { timeout: o.settings.connect_timeout_ms },
        headersTimeout: o.settings.headers_timeout_ms,
        bodyTimeout: o.settings.body_timeout_ms,
        keepAliveTimeout: 4_000,
        connections: 64,
      });
  }

  /**
   * Run `fn` under the host's concurrency limit and minimum spacing between request starts. A request whose signal
   * aborts while it waits for its turn leaves the queue without using a slot (a timed-out cycle must not spend the
   * crates.io API's one request per second).
   */
  async throttled<T>(host: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let slot = this.#limits.get(host);
    if (!slot) {
      const cfg = this.settings.host_limits[host];
      slot = {
        limit: pLimit(cfg?.concurrency ?? this.settings.default_host_concurrency),
        minInterval: cfg?.min_interval_ms ?? 0,
        next: 0,
      };
      this.#limits.set(host, slot);
    }
    const s = slot;
    return s.limit(async () => {
      // Claim the spacing only once it is due: an abort while waiting leaves `next` untouched for the others.
      for (;;) {
        signal?.throwIfAborted();
        const wait = s.next - Date.now();
        if (wait <= 0) break;
        await sleep(wait, signal);
      }
      // A small margin: the host sees our requests through network and event-loop jitter, never closer than this.
      if (s.minInterval > 0) s.next = Date.now() + s.minInterval + Math.min(SPACING_MARGIN_MS, s.minInterval * 0.05);
      if (s.minInterval === 0) return fn();
      try {
        return await fn();
      } finally {
        // The answer (or the failure) is the one moment at our end that provably follows the request's arrival at
        // the host: spacing the next request from it holds the interval at the host's end even when this request
        // left late (a busy event loop, a slow connect) after taking its turn.
        s.next = Math.max(s.next, Date.now() + s.minInterval);
      }
    });
  }
}

class Client implements HttpClient {
  readonly #s: SharedState;
  readonly #evidence: Evidence[] | null;
  readonly #deadline: number | null;
  readonly fetch: ClientFetch;

  constructor(shared: SharedState, evidence: Evidence[] | null, deadline: number | null = null) {
    this.#s = shared;
    this.#evidence = evidence;
    this.#deadline = deadline;
    this.fetch = (input, init) => this.#fetch(input, init);
  }

  get dispatcher(): Dispatcher {
    return this.#s.dispatcher;
  }

  recording(evidence: Evidence[], deadline?: number): HttpClient {
    return new Client(this.#s, evidence, deadline ?? this.#deadline);
  }

  agent(options: AgentOptions): Dispatcher {
    const key = JSON.stringify(options);
    let agent = this.#s.agents.get(key);
    if (!agent) {
      const st = this.#s.settings;
      const tls = { ...(options.ca ? { ca: [...options.ca] } : {}), rejectUnauthorized: options.rejectUnauthorized };
      const common = {
        headersTimeout: st.headers_timeout_ms,
        bodyTimeout: st.body_timeout_ms,
        keepAliveTimeout: 4_000,
        connections: 64,
      };
      agent = options.proxy
        ? new ProxyAgent({
            ...common,
            uri: options.proxy,
            requestTls: tls,
            connect: { timeout: st.connect_timeout_ms },
          })
        : new Agent({ ...common, connect: { timeout: st.connect_timeout_ms, ...tls } });
      this.#s.agents.set(key, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    for (const agent of this.#s.agents.values()) await agent.close();
    this.#s.agents.clear();
    if (this.#s.ownsDispatcher) await this.#s.dispatcher.close();
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const method = req.method ?? "GET";
    const idempotent = method === "GET" || method === "HEAD";
    const retry = req.retry ?? idempotent;
    const settings = this.#s.settings;
    let attempts = 0;
    const attempt = async (): Promise<HttpResponse> => {
      attempts++;
      try {
        const res = await this.#follow(req, method, idempotent && req.conditional !== false);
        if (RETRY_STATUS.has(res.status) || isGithubRateLimit(res)) {
          throw new RetryableStatus(res.status, waitFromHeaders(res.headers, this.#s.now()));
        }
        return res;
      } catch (err) {
        if (err instanceof RetryableStatus) {
          const tooLong = this.#waitTooLong(err.waitMs);
          if (tooLong !== null) throw new AbortError(rateLimitError(err, req.url, this.#s.secrets, tooLong));
          throw err;
        }
        const app = toAppError(err, req.url, this.#s.secrets);
        if (app.code === "E_HTTP_TIMEOUT" || app.code === "E_HTTP_NETWORK") throw app;
        throw new AbortError(app);
      }
    };
    if (!retry) {
      try {
        return await attempt();
      } catch (err) {
        throw finalError(err, req.url, this.#s.secrets, attempts);
      }
    }
    try {
      return await pRetry(attempt, {
        retries: settings.retries,
        minTimeout: settings.retry_base_ms,
        factor: 2,
        randomize: true,
        maxTimeout: settings.max_retry_wait_ms,
        ...(req.signal ? { signal: req.signal } : {}),
        onFailedAttempt: async ({ error, retryDelay, retriesLeft }) => {
          // After the last attempt there is nothing to wait for.
          if (retriesLeft === 0) return;
          if (error instanceof RetryableStatus && error.waitMs !== null && error.waitMs > retryDelay) {
            await this.#s.sleep(error.waitMs - retryDelay, req.signal);
          }
        },
      });
    } catch (err) {
      throw finalError(err, req.url, this.#s.secrets, attempts);
    }
  }

  /** Why a server-requested wait is not sat out (past max_retry_wait or the deadline), or null to wait. */
  #waitTooLong(waitMs: number | null): string | null {
    if (waitMs === null) return null;
    if (waitMs > this.#s.settings.max_retry_wait_ms) return "";
    if (this.#deadline === null) return null;
    const left = this.#deadline - Date.now();
    return waitMs > left ? `, more than the ${Math.max(0, Math.ceil(left / 1000))} s left before the deadline` : null;
  }

  async stream(
    req: HttpRequest,
    onChunk: (chunk: Uint8Array) => void,
  ): Promise<{ url: string; status: number; bytes: number }> {
    const start = { url: req.url, headers: { ...this.#baseHeaders(), ...(req.headers ?? {}) } };
    return followRedirects({ ...start, redirectHosts: req.redirectHosts }, this.#s.secrets, async (hop) => {
      const { url, host } = hop;
      const started = Date.now();
      const at = this.#s.now().toISOString();
      const record = (status: number | null, error?: string) =>
        this.#record(
          { url, status, method: "GET", at, duration_ms: Date.now() - started, ...(error ? { error } : {}) },
          host,
          false,
          hop.index > 0,
        );
      const signal = req.signal ? AbortSignal.any([req.signal]) : undefined;
      let res: Dispatcher.ResponseData;
      try {
        res = await this.#s.throttled(
          host,
          () =>
            undiciRequest(url, {
              method: "GET",
              headers: hop.headers,
              dispatcher: req.dispatcher ?? this.#s.dispatcher,
              ...(signal ? { signal } : {}),
            }),
          req.signal,
        );
      } catch (err) {
        const app = toAppError(err, url, this.#s.secrets);
        record(null, app.code);
        throw app;
      }
      const location = headerValue(res.headers, "location");
      if (REDIRECT.has(res.statusCode) && location) {
        await res.body.dump();
        record(res.statusCode);
        return { redirect: location };
      }
      let bytes = 0;
      const cap = this.#s.settings.max_download_bytes;
      try {
        const declared = Number(headerValue(res.headers, "content-length") ?? NaN);
        if (Number.isFinite(declared) && declared > cap)
          throw this.#tooLarge(url, `declares ${declared} bytes`, res.body);
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          bytes += chunk.byteLength;
          if (bytes > cap) throw this.#tooLarge(url, `went on past ${cap} bytes`, res.body);
          onChunk(chunk);
        }
      } catch (err) {
        const app = toAppError(err, url, this.#s.secrets);
        record(res.statusCode, app.code);
        throw app;
      }
      record(res.statusCode);
      return { done: { url, status: res.statusCode, bytes } };
    });
  }

  #tooLarge(url: string, what: string, body: Dispatcher.ResponseData["body"]): AppError {
    body.destroy();
    const cap = this.#s.settings.max_download_bytes;
    return new AppError(
      "E_HTTP_TOO_LARGE",
      `download from ${this.#s.secrets.redact(url)} ${what}: over the ${cap}-byte cap (settings.http.max_download_bytes), so it was not hashed`,
      { details: { max_download_bytes: cap } },
    );
  }

  #baseHeaders(): Record<string, string> {
    return { "user-agent": this.#s.settings.user_agent };
  }

  /** One attempt: redirect loop (redirects.ts) over cache lookup (cache.ts) and a single send (send.ts). */
  async #follow(req: HttpRequest, method: string, conditional: boolean): Promise<HttpResponse> {
    const cache = new RequestCache(this.#s.cache, this.#s.secrets, {
      method,
      conditional,
      cacheTtlMs: req.cacheTtlMs,
      cacheKey: req.cacheKey,
    });
    const start = { url: req.url, headers: { ...this.#baseHeaders(), ...lowerKeys(req.headers ?? {}) } };
    return followRedirects({ ...start, redirectHosts: req.redirectHosts }, this.#s.secrets, (hop) =>
      this.#hop(req, method, cache, hop),
    );
  }

  /** One hop of an attempt: served fresh from the cache, revalidated (304), a redirect to follow, or final. */
  async #hop(req: HttpRequest, method: string, cache: RequestCache, hop: Hop): Promise<HopOutcome<HttpResponse>> {
    const { url, host } = hop;
    const viaRedirect = hop.index > 0;
    const slot = await cache.lookup(url, hop.headers, hop.index === 0);
    if (slot.fresh) {
      const { entry, age } = slot.fresh;
      // No exchange happened: evidence says where the body came from, metrics see nothing.
      this.#evidence?.push({
        url: evidenceUrl(url, false, this.#s.secrets),
        status: entry.status,
        method,
        at: this.#s.now().toISOString(),
        duration_ms: 0,
        cache_age_ms: age,
      });
      return { done: makeResponse(url, entry.status, entry.headers, entry.body, false, true) };
    }
    const sent = await sendOnce(this.#s, {
      url,
      host,
      method,
      headers: withValidators(hop.headers, slot.cached),
      body: req.body ?? null,
      maxBytes: req.maxBytes ?? this.#s.settings.max_body_bytes,
      dispatcher: req.dispatcher,
      signal: req.signal,
    });
    const duration_ms = Date.now() - sent.started;
    if (!sent.ok) {
      const e = { url, status: null, method, at: sent.at, duration_ms, error: sent.error.code };
      this.#record(e, host, false, viaRedirect);
      throw sent.error;
    }
    const { status, headers, body } = sent;
    if (status === 304 && slot.cached) {
      this.#record({ url, status: 304, method, at: sent.at, duration_ms, revalidated: true }, host, true, viaRedirect);
      await cache.revalidated(slot);
      const cached = slot.cached;
      const merged = { ...cached.headers, ...pickRateHeaders(headers) };
      return { done: makeResponse(url, cached.status, merged, cached.body, true) };
    }
    this.#record({ url, status, method, at: sent.at, duration_ms }, host, false, viaRedirect);
    const location = headers["location"];
    if (REDIRECT.has(status) && location && req.followRedirects !== false) return { redirect: location };
    await cache.store(slot, status, headers, body);
    return { done: makeResponse(url, status, headers, body, false) };
  }

  #record(e: Evidence, host: string, revalidated: boolean, viaRedirect: boolean): void {
    const entry: Evidence = { ...e, url: evidenceUrl(e.url, viaRedirect, this.#s.secrets) };
    this.#evidence?.push(entry);
    this.#s.onExchange?.({
      host,
      method: e.method,
      status: e.status,
      duration_ms: e.duration_ms,
      revalidated,
      error_code: e.error ?? null,
    });
  }

  async #fetch(input: string | URL, init?: FetchInit): Promise<FetchResponse> {
    const url = typeof input === "string" ? input : input.toString();
    const headers = lowerKeys(init?.headers ?? {});
    const ttl = headers[CACHE_TTL_HEADER];
    delete headers[CACHE_TTL_HEADER];
    if (ttl !== undefined && !/^\d{1,12}$/.test(ttl)) {
      throw new AppError("E_INTERNAL", `${CACHE_TTL_HEADER}: ${JSON.stringify(ttl)} is not a whole number of ms`);
    }
    const method = (init?.method ?? "GET").toUpperCase() as HttpRequest["method"] & string;
    const body = init?.body;
    const res = await this.request({
      url,
      method,
      headers,
      ...(typeof body === "string" || body instanceof Uint8Array ? { body } : {}),
      ...(init?.signal ? { signal: init.signal } : {}),
      ...(ttl !== undefined ? { cacheTtlMs: Number(ttl) } : {}),
      followRedirects: init?.redirect !== "manual",
    });
    const nullBody = res.status === 204 || res.status === 205 || res.status === 304 || method === "HEAD";
    return new FetchResponse(res.url, res.status, res.headers, nullBody ? null : res.body);
  }
}

function makeResponse(
  url: string,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  revalidated: boolean,
  fromCache = false,
): HttpResponse {
  return {
    url,
    status,
    headers,
    body,
    revalidated,
    ...(fromCache ? { fromCache } : {}),
    text: () => body.toString("utf8"),
    json: () => JSON.parse(body.toString("utf8")) as unknown,
  };
}

function headerValue(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

function pickRateHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith("x-ratelimit-")) out[k] = v;
  return out;
}

/** GitHub signals primary/secondary rate limits with 403 (or 429) plus headers or a message. */
function isGithubRateLimit(res: HttpResponse): boolean {
  if (res.status !== 403) return false;
  if (res.headers["x-ratelimit-remaining"] === "0") return true;
  if (res.headers["retry-after"]) return true;
  return /rate limit|abuse detection/i.test(res.body.subarray(0, 2048).toString("utf8"));
}

/** How long the server asked us to wait: Retry-After (seconds or date), else GitHub's reset when exhausted. */
export function waitFromHeaders(h: Record<string, string>, now: Date): number | null {
  const ra = h["retry-after"];
  if (ra !== undefined) {
    const secs = Number(ra);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const date = Date.parse(ra);
    if (!Number.isNaN(date)) return Math.max(0, date - now.getTime());
  }
  if (h["x-ratelimit-remaining"] === "0" && h["x-ratelimit-reset"]) {
    const reset = Number(h["x-ratelimit-reset"]) * 1000;
    if (Number.isFinite(reset)) return Math.max(0, reset - now.getTime()) + 1000;
  }
  return null;
}

function rateLimitError(err: RetryableStatus, url: string, secrets: SecretRegistry, why = ""): AppError {
  return new AppError(
    "E_HTTP_RATE_LIMITED",
    `${secrets.redact(url)} is ${err.status === 503 ? "unavailable" : "rate limited"} (HTTP ${err.status}); the server asks to wait ${Math.ceil((err.waitMs ?? 0) / 1000)} s${why}`,
    { details: { status: err.status, wait_ms: err.waitMs } },
  );
}

/** The error a request ends with, saying how many attempts were made (one when retries are off). */
function finalError(err: unknown, url: string, secrets: SecretRegistry, attempts: number): AppError {
  const tried = attempts > 1 ? ` (${attempts} attempts)` : "";
  if (err instanceof RetryableStatus) {
    if (err.status === 429 || err.status === 403) return rateLimitError(err, url, secrets);
    const what = attempts > 1 ? `on all ${attempts} attempts` : "(not retried)";
    return new AppError("E_HTTP_STATUS", `${secrets.redact(url)} answered HTTP ${err.status} ${what}`, {
      details: { status: err.status, attempts },
    });
  }
  const app = err instanceof AppError ? err : toAppError(err, url, secrets);
  if (!tried || (app.code !== "E_HTTP_TIMEOUT" && app.code !== "E_HTTP_NETWORK")) return app;
  return new AppError(app.code, `${app.message}${tried}`, {
    cause: app.cause ?? app,
    details: { ...app.details, attempts },
  });
}

/**
 * The URL recorded in evidence (reports, the state database, the API): through `redactUrl` (no userinfo, no
 * registered secret), and for redirect targets without their short-lived signed query strings.
 */
function evidenceUrl(url: string, viaRedirect: boolean, secrets: SecretRegistry): string {
  if (!viaRedirect) return secrets.redactUrl(url);
  const u = new URL(url);
  if (u.search) u.search = "?signed";
  return secrets.redactUrl(u.toString());
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    // onAbort, not a listener per sleep: many sleeps share the daemon's stop signal (every cycle's jitter).
    const off = onAbort(signal, () => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    });
    const t = setTimeout(() => {
      off();
      resolve();
    }, ms);
  });
}
