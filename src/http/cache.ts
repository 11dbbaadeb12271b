import type { SecretRegistry } from "../secrets.ts";

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
  get(key: string): Promise<CachedEntry | undefined>;
  set(key: string, entry: CachedEntry): Promise<void>;
}

export class MemoryValidatorCache implements ValidatorCache {
  readonly #map = new Map<string, CachedEntry>();
  get(key: string): Promise<CachedEntry | undefined> {
    return Promise.resolve(this.#map.get(key));
  }
  set(key: string, entry: CachedEntry): Promise<void> {
    this.#map.set(key, entry);
    return Promise.resolve();
  }
}

/** What the cache holds for one hop of one request. */
export interface CacheSlot {
  /** Key of this hop's URL (null when the request is not conditional or there is no cache). */
  readonly key: string | null;
  /** The stored entry whose validators are sent (If-None-Match / If-Modified-Since). */
  readonly cached: CachedEntry | undefined;
  /** A 200 young enough to serve without any request (`cacheTtlMs`), with its age. */
  readonly fresh: { entry: CachedEntry; age: number } | null;
}

export interface CacheRequest {
  readonly method: string;
  /** Revalidate against the cache at all (GET/HEAD with `conditional` not false). */
  readonly conditional: boolean;
  readonly cacheTtlMs?: number | undefined;
  readonly cacheKey?: string | undefined;
}

/**
 * The validator cache as one request sees it: validators (ETag / Last-Modified), the time-to-live and the pinned
 * key. All reads and writes of the `ValidatorCache` happen here: `lookup`, `revalidated`, `store`.
 */
export class RequestCache {
  readonly #cache: ValidatorCache | undefined;
  readonly #secrets: SecretRegistry;
  readonly #method: string;
  readonly #conditional: boolean;
  readonly #ttl: number;
  readonly #pinnedKey: string | null;

  constructor(cache: ValidatorCache | undefined, secrets: SecretRegistry, req: CacheRequest) {
    this.#cache = cache;
    this.#secrets = secrets;
    this.#method = req.method;
    this.#conditional = req.conditional;
    this.#ttl = req.method === "GET" && req.cacheTtlMs !== undefined && req.cacheTtlMs > 0 ? req.cacheTtlMs : 0;
    this.#pinnedKey =
      this.#ttl > 0 && req.cacheKey && req.conditional && cache ? `${req.method} key=${req.cacheKey}` : null;
  }

  /** The entry for this hop, and on the first hop a fresh 200 within the time-to-live. */
  async lookup(url: string, headers: Record<string, string>, firstHop: boolean): Promise<CacheSlot> {
    const key =
      this.#conditional && this.#cache ? cacheKeyFor(this.#method, this.#secrets.redactUrl(url), headers) : null;
    const cached = key ? await this.#cache?.get(key) : undefined;
    const candidate =
      firstHop && this.#ttl > 0 ? (this.#pinnedKey ? await this.#cache?.get(this.#pinnedKey) : cached) : undefined;
    let fresh: CacheSlot["fresh"] = null;
    if (candidate && candidate.status === 200) {
      const age = Date.now() - candidate.stored_at;
      if (age >= 0 && age < this.#ttl) fresh = { entry: candidate, age };
    }
    return { key, cached, fresh };
  }

  /** The server answered 304: the copy is as good as new, so a time-to-live starts again. */
  async revalidated(slot: CacheSlot): Promise<void> {
    if (this.#ttl > 0 && !this.#pinnedKey && slot.key && slot.cached) {
      await this.#cache?.set(slot.key, { ...slot.cached, stored_at: Date.now() });
    }
  }

  /** Keep a final 200: under the pinned key, or under its URL when it has validators or a time-to-live. */
  async store(slot: CacheSlot, status: number, headers: Record<string, string>, body: Buffer): Promise<void> {
    const storeKey =
      this.#pinnedKey ?? (this.#ttl > 0 || headers["etag"] || headers["last-modified"] ? slot.key : null);
    if (!storeKey || status !== 200) return;
    await this.#cache?.set(storeKey, {
      etag: headers["etag"] ?? null,
      last_modified: headers["last-modified"] ?? null,
      status,
      headers,
      body,
      stored_at: Date.now(),
    });
  }
}

/** The request headers plus the validators of a cached entry. */
export function withValidators(
  headers: Record<string, string>,
  cached: CachedEntry | undefined,
): Record<string, string> {
  const out = { ...headers };
  if (cached?.etag) out["if-none-match"] = cached.etag;
  if (cached?.last_modified) out["if-modified-since"] = cached.last_modified;
  return out;
}

function cacheKeyFor(method: string, url: string, headers: Record<string, string>): string {
  return `${method} ${url} accept=${headers["accept"] ?? ""} auth=${headers["authorization"] ? "1" : "0"}`;
}
