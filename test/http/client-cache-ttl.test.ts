import { strict as assert } from "node:assert";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { AppError } from "../../src/errors.ts";
import {
  CACHE_TTL_HEADER,
  createHttpClient,
  DEFAULT_HTTP_SETTINGS,
  MemoryValidatorCache,
  type CachedEntry,
  type HttpClient,
  type HttpSettings,
  type ValidatorCache,
} from "../../src/http/client.ts";
import type { Evidence } from "../../src/http/evidence.ts";
import { SecretRegistry } from "../../src/secrets.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

async function serve(handler: Handler): Promise<{ url: string; host: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? "/");
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, paths };
}

const settings: HttpSettings = { ...DEFAULT_HTTP_SETTINGS, retries: 0, request_timeout_ms: 2_000 };

function client(extra: Partial<HttpSettings> = {}, cache: ValidatorCache = new MemoryValidatorCache()): HttpClient {
  const c = createHttpClient({ settings: { ...settings, ...extra }, secrets: new SecretRegistry(), cache });
  closers.push(() => c.close());
  return c;
}

describe("http client: cacheTtlMs", () => {
  it("serves a stored 200 without a request while it is younger than the TTL, even without validators", async () => {
    let n = 0;
    const srv = await serve((_req, res) => {
      n++;
      res.writeHead(200, { "content-type": "application/json" }).end(`{"n":${n}}`);
    });
    const evidence: Evidence[] = [];
    const http = client().recording(evidence);
    const first = await http.request({ url: `${srv.url}/doc`, cacheTtlMs: 60_000 });
    const second = await http.request({ url: `${srv.url}/doc`, cacheTtlMs: 60_000 });
    assert.equal(srv.paths.length, 1);
    assert.equal(first.fromCache, undefined);
    assert.equal(second.fromCache, true);
    assert.equal(second.revalidated, false);
    assert.deepEqual(second.json(), { n: 1 });
    assert.equal(evidence.length, 2);
    assert.equal(evidence[1]?.status, 200);
    assert.equal(evidence[1]?.duration_ms, 0);
    assert.equal(typeof evidence[1]?.cache_age_ms, "number");
    assert.equal(evidence[0]?.cache_age_ms, undefined);
  });

  it("asks again once the copy is older than the TTL, and without cacheTtlMs", async () => {
    const srv = await serve((_req, res) => res.writeHead(200).end("body"));
    const cache = new AgingCache();
    const http = client({}, cache);
    await http.request({ url: `${srv.url}/a`, cacheTtlMs: 60_000 });
    await http.request({ url: `${srv.url}/a` });
    assert.equal(srv.paths.length, 2, "a request without cacheTtlMs always goes out");
    cache.age(120_000);
    const stale = await http.request({ url: `${srv.url}/a`, cacheTtlMs: 60_000 });
    assert.equal(srv.paths.length, 3);
    assert.equal(stale.fromCache, undefined);
  });

  it("restarts the TTL when the server confirms the copy with 304", async () => {
    const srv = await serve((req, res) => {
      if (req.headers["if-none-match"] === '"v1"') res.writeHead(304, { etag: '"v1"' }).end();
      else res.writeHead(200, { etag: '"v1"' }).end("versioned");
    });
    const cache = new AgingCache();
    const http = client({}, cache);
    await http.request({ url: `${srv.url}/v`, cacheTtlMs: 60_000 });
    cache.age(120_000);
    const revalidated = await http.request({ url: `${srv.url}/v`, cacheTtlMs: 60_000 });
    assert.equal(revalidated.revalidated, true);
    const hit = await http.request({ url: `${srv.url}/v`, cacheTtlMs: 60_000 });
    assert.equal(hit.fromCache, true);
    assert.equal(srv.paths.length, 2);
  });

  it("never serves a cached non-200 and never stores one", async () => {
    const srv = await serve((_req, res) => res.writeHead(404).end("missing"));
    const http = client();
    await http.request({ url: `${srv.url}/gone`, cacheTtlMs: 60_000 });
    const again = await http.request({ url: `${srv.url}/gone`, cacheTtlMs: 60_000 });
    assert.equal(again.status, 404);
    assert.equal(srv.paths.length, 2);
  });
});

describe("http client: host queue", () => {
  it("a request aborted while it waits for its turn leaves the queue and never reaches the host", async () => {
    const srv = await serve((_req, res) => res.writeHead(200).end("ok"));
    const http = client({ host_limits: { [srv.host]: { concurrency: 1, min_interval_ms: 300 } } });
    await http.request({ url: `${srv.url}/1` });
    const gone = new AbortController();
    const waiting = http.request({ url: `${srv.url}/2`, signal: gone.signal });
    const next = http.request({ url: `${srv.url}/3` });
    gone.abort(new AppError("E_ABORTED", "cycle timed out"));
    await assert.rejects(waiting, (err: unknown) => err instanceof AppError && err.code === "E_ABORTED");
    assert.equal((await next).status, 200);
    assert.deepEqual(srv.paths, ["/1", "/3"]);
  });

  it("the per-attempt timeout starts when the request leaves the queue, not while it waits", async () => {
    const srv = await serve((_req, res) => setTimeout(() => res.writeHead(200).end("slow"), 300));
    const http = client({
      request_timeout_ms: 1_000,
      host_limits: { [srv.host]: { concurrency: 1, min_interval_ms: 0 } },
    });
    // Four requests of 300 ms in one lane: the last one waits 900 ms and ends 1.2 s after it was asked for, past the
    // 1 s attempt deadline, which only counts from when it is sent.
    const all = await Promise.all([1, 2, 3, 4].map((i) => http.request({ url: `${srv.url}/${i}` })));
    assert.deepEqual(
      all.map((r) => r.status),
      [200, 200, 200, 200],
    );
  });
});

/** A validator cache the test can age. */
class AgingCache implements ValidatorCache {
  readonly map = new Map<string, CachedEntry>();
  get(key: string): Promise<CachedEntry | undefined> {
    return Promise.resolve(this.map.get(key));
  }
  set(key: string, entry: CachedEntry): Promise<void> {
    this.map.set(key, entry);
    return Promise.resolve();
  }
  age(ms: number): void {
    for (const [k, e] of this.map) this.map.set(k, { ...e, stored_at: e.stored_at - ms });
  }
}

describe("http client: cacheTtlMs through the fetch adapter (Octokit)", () => {
  it("takes the TTL from CACHE_TTL_HEADER and never sends that header", async () => {
    const seen: (string | undefined)[] = [];
    const srv = await serve((req, res) => {
      seen.push(req.headers[CACHE_TTL_HEADER] as string | undefined);
      res.writeHead(200, { "content-type": "application/json" }).end(`{"sha":"abc"}`);
    });
    const http = client();
    const headers = { [CACHE_TTL_HEADER]: "60000" };
    const first = await http.fetch(`${srv.url}/git/tags/abc`, { headers });
    const second = await http.fetch(`${srv.url}/git/tags/abc`, { headers });
    assert.deepEqual(await second.json(), await first.json());
    assert.equal(srv.paths.length, 1, "the second call is served from the cache");
    assert.deepEqual(seen, [undefined], "the hint stays on this side");
    await http.fetch(`${srv.url}/git/tags/abc`);
    assert.equal(srv.paths.length, 2, "without the header every call asks");
  });

  it("refuses a TTL that is not a whole number of milliseconds", async () => {
    const srv = await serve((_req, res) => res.writeHead(200).end("x"));
    await assert.rejects(
      client().fetch(`${srv.url}/x`, { headers: { [CACHE_TTL_HEADER]: "soon" } }),
      (err: unknown) => err instanceof AppError && /x-release-monitor-cache-ttl/.test(err.message),
    );
    assert.equal(srv.paths.length, 0);
  });
});
