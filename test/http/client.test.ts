import { strict as assert } from "node:assert";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { AppError } from "../../src/errors.ts";
import {
  createHttpClient,
  DEFAULT_HTTP_SETTINGS,
  MemoryValidatorCache,
  type HttpSettings,
} from "../../src/http/client.ts";
import type { Evidence } from "../../src/http/evidence.ts";
import { SecretRegistry } from "../../src/secrets.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; host: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, server };
}

const fast: HttpSettings = {
  ...DEFAULT_HTTP_SETTINGS,
  retries: 2,
  retry_base_ms: 5,
  max_retry_wait_ms: 2_000,
  request_timeout_ms: 500,
  headers_timeout_ms: 400,
  body_timeout_ms: 400,
};

describe("http client", () => {
  const hits = new Map<string, number>();
  const seenAuth: (string | undefined)[] = [];
  let api: Awaited<ReturnType<typeof serve>>;
  let other: Awaited<ReturnType<typeof serve>>;
  const count = (k: string) => {
    const n = (hits.get(k) ?? 0) + 1;
    hits.set(k, n);
    return n;
  };

  before(async () => {
    other = await serve((req, res) => {
      seenAuth.push(req.headers.authorization);
      res.end("bytes-from-download-host");
    });
    api = await serve((req, res) => {
      const path = req.url ?? "";
      if (path === "/flaky") {
        if (count(path) < 3) {
          res.writeHead(503).end("busy");
          return;
        }
        res.end("finally");
      } else if (path === "/retry-after") {
        if (count(path) < 2) {
          res.writeHead(429, { "retry-after": "0" }).end();
          return;
        }
        res.end("ok after 429");
      } else if (path === "/long-retry-after") {
        res.writeHead(429, { "retry-after": "3600" }).end();
      } else if (path === "/gh-ratelimit") {
        res
          .writeHead(403, {
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 7200),
          })
          .end('{"message":"API rate limit exceeded"}');
      } else if (path === "/always-500") {
        count(path);
        res.writeHead(500).end("<html>oops</html>");
      } else if (path === "/hang") {
        // never answer
      } else if (path === "/big") {
        res.writeHead(200, { "content-length": String(5000) }).end("x".repeat(5000));
      } else if (path === "/truncated") {
        res.writeHead(200, { "content-length": "100" });
        res.write("short");
        res.socket?.destroy();
      } else if (path === "/redirect-other") {
        res.writeHead(302, { location: `${other.url}/asset?sig=SECRETSIG` }).end();
      } else if (path === "/etag") {
        count(path);
        if (req.headers["if-none-match"] === '"v1"') {
          res.writeHead(304, { etag: '"v1"', "x-ratelimit-remaining": "4999" }).end();
          return;
        }
        res.writeHead(200, { etag: '"v1"', "content-type": "application/json" }).end('{"a":1}');
      } else if (path === "/404") {
        res.writeHead(404, { "content-type": "application/json" }).end('{"message":"Not Found"}');
      } else {
        res.writeHead(200).end("hello");
      }
    });
  });
  after(() => {
    api.server.closeAllConnections();
    other.server.closeAllConnections();
    api.server.close();
    other.server.close();
  });

  const client = (over: Partial<HttpSettings> = {}, secrets = new SecretRegistry()) =>
    createHttpClient({ settings: { ...fast, ...over }, secrets, cache: new MemoryValidatorCache() });

  it("retries transient 5xx and returns the eventual answer", async () => {
    const res = await client().request({ url: `${api.url}/flaky` });
    assert.equal(res.status, 200);
    assert.equal(res.text(), "finally");
  });

  it("honours Retry-After on 429", async () => {
    const res = await client().request({ url: `${api.url}/retry-after` });
    assert.equal(res.text(), "ok after 429");
  });

  it("gives up with E_HTTP_RATE_LIMITED when the requested wait is too long", async () => {
    await assert.rejects(
      client().request({ url: `${api.url}/long-retry-after` }),
      (e: AppError) => e.code === "E_HTTP_RATE_LIMITED",
    );
    await assert.rejects(
      client().request({ url: `${api.url}/gh-ratelimit` }),
      (e: AppError) => e.code === "E_HTTP_RATE_LIMITED",
    );
  });

  it("fails with E_HTTP_STATUS after exhausting retries on 500", async () => {
    const before = hits.get("/always-500") ?? 0;
    await assert.rejects(
      client().request({ url: `${api.url}/always-500` }),
      (e: AppError) => e.code === "E_HTTP_STATUS",
    );
    assert.equal((hits.get("/always-500") ?? 0) - before, 3);
  });

  it("times out a silent server with E_HTTP_TIMEOUT", async () => {
    await assert.rejects(
      client({ retries: 0 }).request({ url: `${api.url}/hang` }),
      (e: AppError) => e.code === "E_HTTP_TIMEOUT",
    );
  });

  it("caps the response size", async () => {
    await assert.rejects(
      client({ max_body_bytes: 1024 }).request({ url: `${api.url}/big` }),
      (e: AppError) => e.code === "E_HTTP_TOO_LARGE",
    );
  });

  it("reports a truncated body as a network failure, never as data", async () => {
    await assert.rejects(
      client({ retries: 0 }).request({ url: `${api.url}/truncated` }),
      (e: AppError) => e.code === "E_HTTP_NETWORK",
    );
  });

  it("follows redirects only to allowed hosts and drops Authorization across hosts", async () => {
    const c = client();
    await assert.rejects(
      c.request({ url: `${api.url}/redirect-other` }),
      (e: AppError) => e.code === "E_HTTP_REDIRECT",
    );
    const evidence: Evidence[] = [];
    const res = await c.recording(evidence).request({
      url: `${api.url}/redirect-other`,
      headers: { authorization: "Bearer abcdef123456" },
      redirectHosts: [other.host],
    });
    assert.equal(res.text(), "bytes-from-download-host");
    assert.equal(seenAuth.at(-1), undefined);
    assert.deepEqual(
      evidence.map((e) => e.status),
      [302, 200],
    );
    assert.ok(!evidence.some((e) => e.url.includes("SECRETSIG")), "signed query strings stay out of evidence");
  });

  it("revalidates with If-None-Match and reuses the cached body on 304", async () => {
    const c = client();
    const evidence: Evidence[] = [];
    const first = await c.recording(evidence).request({ url: `${api.url}/etag` });
    const second = await c.recording(evidence).request({ url: `${api.url}/etag` });
    assert.deepEqual(first.json(), { a: 1 });
    assert.deepEqual(second.json(), { a: 1 });
    assert.equal(second.revalidated, true);
    assert.equal(second.status, 200);
    assert.deepEqual(
      evidence.map((e) => e.status),
      [200, 304],
    );
  });

  it("returns 404 as data", async () => {
    const res = await client().request({ url: `${api.url}/404` });
    assert.equal(res.status, 404);
  });

  it("never puts a registered secret into an error message", async () => {
    const secrets = new SecretRegistry();
    secrets.add("supersecret-token-value");
    await assert.rejects(
      client({ retries: 0 }, secrets).request({ url: "http://127.0.0.1:1/x?token=supersecret-token-value" }),
      (e: AppError) =>
        e.code === "E_HTTP_NETWORK" &&
        !e.message.includes("supersecret-token-value") &&
        e.message.includes("[REDACTED]"),
    );
  });

  it("works as Octokit's fetch", async () => {
    const res = await client().fetch(`${api.url}/etag`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { a: 1 });
  });
});
