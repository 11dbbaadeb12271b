import { Agent, ProxyAgent, request as undiciRequest, type Dispatcher } from "undici";
import pLimit, { type LimitFunction } from "p-limit";
import pRetry, { AbortError } from "p-retry";
import { AppError, errorMessage } from "../errors.ts";
import type { Evidence } from "./evidence.ts";
import type { SecretRegistry } from "../secrets.ts";

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

export interface CachedEntry {
  etag: string | null;
  last_modified: string | null;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  stored_at: number;
}

/** Conditional-request validator store. The daemon persists it; `verify` keeps it in memory. */
export interface ValidatorCache {
  get(key: string): CachedEntry | undefined;
  set(key: string, entry: CachedEntry): void;
}

export class MemoryValidatorCache implements ValidatorCache {
  readonly #map = new Map<string, CachedEntry>();
  get(key: string): CachedEntry | undefined {
    return this.#map.get(key);
  }
  set(key: string, entry: CachedEntry): void {
    this.#map.set(key, entry);
  }
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
  /** A fetch-compatible function over this client (for Octokit's `request.fetch`). */
  readonly fetch: typeof globalThis.fetch;
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

const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** Added to a host's min_interval (at most 5% of it), so jitter cannot bring two requests closer at its end. */
const SPACING_MARGIN_MS = 50;
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
/** Certificate verification failures (OpenSSL's codes as Node reports them): asking again gives the same answer. */
const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

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
      return fn();
    });
  }
}

class Client implements HttpClient {
  readonly #s: SharedState;
  readonly #evidence: Evidence[] | null;
  readonly #deadline: number | null;
  readonly fetch: typeof globalThis.fetch;

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
    let url = req.url;
    const allowed = new Set([new URL(url).host, ...(req.redirectHosts ?? [])]);
    let headers = { ...this.#baseHeaders(), ...(req.headers ?? {}) };
    for (let hop = 0; hop < 6; hop++) {
      const started = Date.now();
      const at = this.#s.now().toISOString();
      const host = new URL(url).host;
      const signal = req.signal ? AbortSignal.any([req.signal]) : undefined;
      let res: Dispatcher.ResponseData;
      try {
        res = await this.#s.throttled(
          host,
          () =>
            undiciRequest(url, {
              method: "GET",
              headers,
              dispatcher: req.dispatcher ?? this.#s.dispatcher,
              ...(signal ? { signal } : {}),
            }),
          req.signal,
        );
      } catch (err) {
        const app = toAppError(err, url, this.#s.secrets);
        this.#record(
          { url, status: null, method: "GET", at, duration_ms: Date.now() - started, error: app.code },
          host,
          false,
          hop > 0,
        );
        throw app;
      }
      const location = headerValue(res.headers, "location");
      if (REDIRECT.has(res.statusCode) && location) {
        await res.body.dump();
        this.#record(
          { url, status: res.statusCode, method: "GET", at, duration_ms: Date.now() - started },
          host,
          false,
          hop > 0,
        );
        const next = new URL(location, url);
        if (!allowed.has(next.host)) throw redirectError(url, next, this.#s.secrets);
        if (next.host !== host) headers = withoutAuth(headers);
        url = next.toString();
        continue;
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
        this.#record(
          { url, status: res.statusCode, method: "GET", at, duration_ms: Date.now() - started, error: app.code },
          host,
          false,
          hop > 0,
        );
        throw app;
      }
      this.#record(
        { url, status: res.statusCode, method: "GET", at, duration_ms: Date.now() - started },
        host,
        false,
        hop > 0,
      );
      return { url, status: res.statusCode, bytes };
    }
    throw new AppError("E_HTTP_REDIRECT", `too many redirects for ${this.#s.secrets.redact(req.url)}`);
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

  /** One attempt: send, follow redirects, buffer the body under the size cap, use/refresh the validator cache. */
  async #follow(req: HttpRequest, method: string, conditional: boolean): Promise<HttpResponse> {
    let url = req.url;
    const allowed = new Set([new URL(url).host, ...(req.redirectHosts ?? [])]);
    let headers: Record<string, string> = { ...this.#baseHeaders(), ...lowerKeys(req.headers ?? {}) };
    const maxBytes = req.maxBytes ?? this.#s.settings.max_body_bytes;
    const ttl = method === "GET" && req.cacheTtlMs !== undefined && req.cacheTtlMs > 0 ? req.cacheTtlMs : 0;
    const pinnedKey = ttl > 0 && req.cacheKey && conditional && this.#s.cache ? `${method} key=${req.cacheKey}` : null;
    for (let hop = 0; hop < 6; hop++) {
      const cacheKey =
        conditional && this.#s.cache ? cacheKeyFor(method, this.#s.secrets.redactUrl(url), headers) : null;
      const cached = cacheKey ? this.#s.cache?.get(cacheKey) : undefined;
      const fresh = hop === 0 && ttl > 0 ? (pinnedKey ? this.#s.cache?.get(pinnedKey) : cached) : undefined;
      if (fresh && fresh.status === 200) {
        const age = Date.now() - fresh.stored_at;
        if (age >= 0 && age < ttl) {
          // No exchange happened: evidence says where the body came from, metrics see nothing.
          this.#evidence?.push({
            url: evidenceUrl(url, false, this.#s.secrets),
            status: fresh.status,
            method,
            at: this.#s.now().toISOString(),
            duration_ms: 0,
            cache_age_ms: age,
          });
          return makeResponse(url, fresh.status, fresh.headers, fresh.body, false, true);
        }
      }
      const sendHeaders = { ...headers };
      if (cached?.etag) sendHeaders["if-none-match"] = cached.etag;
      if (cached?.last_modified) sendHeaders["if-modified-since"] = cached.last_modified;
      const host = new URL(url).host;
      let at = this.#s.now().toISOString();
      let started = Date.now();
      // The attempt's deadline starts when the request leaves the host's queue, not while it waits for its turn.
      let signal: AbortSignal | null = null;
      let status: number;
      let resHeaders: Record<string, string>;
      let body: Buffer;
      try {
        ({
          status,
          headers: resHeaders,
          body,
        } = await this.#s.throttled(
          host,
          async () => {
            at = this.#s.now().toISOString();
            started = Date.now();
            // A timer we clear when the attempt ends: AbortSignal.timeout() would keep every request's signal and
            // timer alive for the whole request_timeout after it finished (memory grows with the request rate).
            const limitMs = this.#s.settings.request_timeout_ms;
            const deadline = new AbortController();
            const timer = setTimeout(
              () => deadline.abort(new DOMException(`timed out after ${limitMs} ms`, "TimeoutError")),
              limitMs,
            );
            signal = req.signal ? AbortSignal.any([req.signal, deadline.signal]) : deadline.signal;
            try {
              const res = await undiciRequest(url, {
                method: method,
                headers: sendHeaders,
                body: req.body ?? null,
                dispatcher: req.dispatcher ?? this.#s.dispatcher,
                signal,
              });
              const h = flattenHeaders(res.headers);
              const declared = Number(h["content-length"] ?? NaN);
              res.body.on("error", () => {});
              if (Number.isFinite(declared) && declared > maxBytes) {
                res.body.destroy();
                throw new AppError(
                  "E_HTTP_TOO_LARGE",
                  `response from ${this.#s.secrets.redact(url)} is ${declared} bytes, over the ${maxBytes}-byte cap`,
                );
              }
              const chunks: Buffer[] = [];
              let size = 0;
              for await (const chunk of res.body as AsyncIterable<Buffer>) {
                size += chunk.byteLength;
                if (size > maxBytes) {
                  res.body.destroy();
                  throw new AppError(
                    "E_HTTP_TOO_LARGE",
                    `response from ${this.#s.secrets.redact(url)} exceeded the ${maxBytes}-byte cap`,
                  );
                }
                chunks.push(chunk);
              }
              return { status: res.statusCode, headers: h, body: Buffer.concat(chunks) };
            } finally {
              clearTimeout(timer);
            }
          },
          req.signal,
        ));
      } catch (err) {
        const app =
          (signal as AbortSignal | null)?.aborted && !req.signal?.aborted
            ? new AppError(
                "E_HTTP_TIMEOUT",
                `request to ${this.#s.secrets.redact(url)} timed out after ${this.#s.settings.request_timeout_ms} ms`,
                { cause: err },
              )
            : toAppError(err, url, this.#s.secrets);
        this.#record(
          { url, status: null, method, at, duration_ms: Date.now() - started, error: app.code },
          host,
          false,
          hop > 0,
        );
        throw app;
      }
      const duration = Date.now() - started;
      if (status === 304 && cached) {
        this.#record({ url, status: 304, method, at, duration_ms: duration, revalidated: true }, host, true, hop > 0);
        // Revalidated: the copy is as good as new, so a time-to-live starts again.
        if (ttl > 0 && !pinnedKey && cacheKey) this.#s.cache?.set(cacheKey, { ...cached, stored_at: Date.now() });
        return makeResponse(
          url,
          cached.status,
          { ...cached.headers, ...pickRateHeaders(resHeaders) },
          cached.body,
          true,
        );
      }
      this.#record({ url, status, method, at, duration_ms: duration }, host, false, hop > 0);
      const location = resHeaders["location"];
      if (REDIRECT.has(status) && location && req.followRedirects !== false) {
        const next = new URL(location, url);
        if (!allowed.has(next.host)) throw redirectError(url, next, this.#s.secrets);
        if (next.host !== host) headers = withoutAuth(headers);
        url = next.toString();
        continue;
      }
      const storeKey = pinnedKey ?? (ttl > 0 || resHeaders["etag"] || resHeaders["last-modified"] ? cacheKey : null);
      if (storeKey && status === 200) {
        this.#s.cache?.set(storeKey, {
          etag: resHeaders["etag"] ?? null,
          last_modified: resHeaders["last-modified"] ?? null,
          status,
          headers: resHeaders,
          body,
          stored_at: Date.now(),
        });
      }
      return makeResponse(url, status, resHeaders, body, false);
    }
    throw new AppError("E_HTTP_REDIRECT", `too many redirects for ${this.#s.secrets.redact(req.url)}`);
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

  async #fetch(input: Parameters<typeof globalThis.fetch>[0], init?: RequestInit): Promise<Response> {
    const url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    const headers: Record<string, string> = {};
    new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((v, k) => {
      headers[k] = v;
    });
    const method = (
      init?.method ?? (input instanceof Request ? input.method : "GET")
    ).toUpperCase() as HttpRequest["method"] & string;
    const body = init?.body;
    const res = await this.request({
      url,
      method,
      headers,
      ...(typeof body === "string" ? { body } : body instanceof Uint8Array ? { body } : {}),
      ...(init?.signal ? { signal: init.signal } : {}),
      followRedirects: init?.redirect !== "manual",
    });
    const nullBody = res.status === 204 || res.status === 205 || res.status === 304 || method === "HEAD";
    const response = new Response(nullBody ? null : new Uint8Array(res.body), {
      status: res.status,
      headers: res.headers,
    });
    Object.defineProperty(response, "url", { value: res.url });
    return response;
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

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
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

function withoutAuth(h: Record<string, string>): Record<string, string> {
  const { authorization: _drop, ...rest } = h;
  return rest;
}

function pickRateHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith("x-ratelimit-")) out[k] = v;
  return out;
}

function cacheKeyFor(method: string, url: string, headers: Record<string, string>): string {
  return `${method} ${url} accept=${headers["accept"] ?? ""} auth=${headers["authorization"] ? "1" : "0"}`;
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

function toAppError(err: unknown, url: string, secrets: SecretRegistry): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown }).code;
  const where = secrets.redact(url);
  if (typeof code === "string" && TIMEOUT_CODES.has(code)) {
    return new AppError("E_HTTP_TIMEOUT", `${where}: ${code}`, { cause: err });
  }
  if (typeof code === "string" && TLS_CODES.has(code)) {
    return new AppError("E_HTTP_TLS", `${where}: TLS: ${secrets.redact(errorMessage(err))} (${code})`, { cause: err });
  }
  if ((err as { name?: string }).name === "AbortError" || (err as { name?: string }).name === "TimeoutError") {
    return new AppError("E_HTTP_TIMEOUT", `${where}: aborted (${secrets.redact(errorMessage(err))})`, { cause: err });
  }
  return new AppError(
    "E_HTTP_NETWORK",
    `${where}: ${secrets.redact(errorMessage(err))}${typeof code === "string" ? ` (${code})` : ""}`,
    {
      cause: err,
    },
  );
}

function redirectError(from: string, to: URL, secrets: SecretRegistry): AppError {
  return new AppError(
    "E_HTTP_REDIRECT",
    `${secrets.redact(from)} redirected to ${to.host}, which is not an allowed host`,
    { details: { host: to.host } },
  );
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
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
