/**
 * Octokit over the HTTP client's fetch (a buffered FetchResponse, src/http/fetch-response.ts) answers as Octokit
 * over Node's own fetch does: the same data for JSON, text and binary bodies, the same status and headers, the same
 * RequestError for an error status.
 */
import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Octokit } from "@octokit/rest";
import { createHttpClient, DEFAULT_HTTP_SETTINGS } from "../../src/http/client.ts";
import { FetchHeaders } from "../../src/http/fetch-response.ts";
import { githubClientFactory } from "../../src/http/github.ts";
import { SecretRegistry } from "../../src/secrets.ts";

/** An integer past 2^53, as GitHub never sends but Octokit's parser would turn into a BigInt. */
const BIG_JSON = '{"n":9007199254740993,"s":"é","list":[1,2]}';

describe("Octokit over the client's fetch", () => {
  let base = "";
  const server = createServer((req, res) => {
    const url = req.url ?? "";
    if (url.startsWith("/json")) {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", etag: '"e1"', "X-Custom": "A" });
      res.end(BIG_JSON);
    } else if (url.startsWith("/text")) {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("plain é");
    } else if (url.startsWith("/bin")) {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(Buffer.from([0, 1, 2, 255]));
    } else if (url.startsWith("/none")) {
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Not Found", documentation_url: "https://docs.example/x" }));
    }
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const ours = () => {
    const http = createHttpClient({
      settings: { ...DEFAULT_HTTP_SETTINGS, retries: 0 },
      secrets: new SecretRegistry(),
    });
    return githubClientFactory({ api_url: base, token: null, user_agent: "t" })(http);
  };
  const nodes = () => new Octokit({ baseUrl: base, userAgent: "t", request: { retries: 0 } });

  const outcome = async (octokit: Octokit, route: string) => {
    try {
      const r = await octokit.request(`GET ${route}`);
      const data = r.data instanceof ArrayBuffer ? [...new Uint8Array(r.data)] : (r.data as unknown);
      const { date: _date, ...headers } = r.headers as Record<string, unknown>;
      return { status: r.status, data, headers };
    } catch (err) {
      const e = err as { status?: number; message?: string; response?: { data?: unknown } };
      return { error: e.status, message: e.message, data: e.response?.data };
    }
  };

  for (const route of ["/text", "/bin", "/none", "/missing"]) {
    it(`GET ${route}: the same outcome as over Node's fetch`, async () => {
      assert.deepEqual(await outcome(ours(), route), await outcome(nodes(), route));
    });
  }

  it("GET /json: the same headers; numbers as JSON.parse reads them (no BigInt)", async () => {
    const [a, b] = [await outcome(ours(), "/json"), await outcome(nodes(), "/json")];
    assert.deepEqual(a.headers, b.headers);
    assert.deepEqual(a.data, JSON.parse(BIG_JSON));
    assert.equal(typeof (b.data as { n: unknown }).n, "bigint", "Octokit's own parser, for contrast");
  });

  it("headers: case-insensitive get, iterated sorted by lower-case name", () => {
    const h = new FetchHeaders({ "X-B": "2", a: "1", etag: '"e"' });
    assert.equal(h.get("x-b"), "2");
    assert.equal(h.get("ETag"), '"e"');
    assert.equal(h.get("missing"), null);
    assert.deepEqual([...h], [...new Headers({ "X-B": "2", a: "1", etag: '"e"' })]);
  });
});
