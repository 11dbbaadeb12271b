/**
 * GitHub answers go through Octokit over our HttpClient. Octokit parses JSON with a reviver that turns integers past
 * 2^53 into BigInt (json-with-bigint) and visits every value; every caller here validates with zod against
 * `number` and serialises reports with JSON.stringify, which throws on a BigInt. The factory's client parses with
 * JSON.parse: numbers stay numbers, text and raw bodies stay as Octokit gives them.
 */
import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { createHttpClient, DEFAULT_HTTP_SETTINGS } from "../../src/http/client.ts";
import { githubClientFactory } from "../../src/http/github.ts";
import { SecretRegistry } from "../../src/secrets.ts";

let url = "";
const server = createServer((req, res) => {
  if (req.url?.startsWith("/repos/o/r/releases/latest")) {
    res
      .writeHead(200, { "content-type": "application/json; charset=utf-8" })
      .end('{"id":9007199254740993,"tag_name":"v1"}');
  } else if (req.url?.startsWith("/repos/o/r/contents/")) {
    res.writeHead(200, { "content-type": "application/vnd.github.raw; charset=utf-8" }).end("class Foo < Formula\n");
  } else if (req.url?.startsWith("/repos/o/r/broken")) {
    res.writeHead(200, { "content-type": "application/json" }).end("{not json");
  } else res.writeHead(404, { "content-type": "application/json" }).end('{"message":"Not Found"}');
});
before(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function octokit() {
  const http = createHttpClient({ settings: { ...DEFAULT_HTTP_SETTINGS, retries: 0 }, secrets: new SecretRegistry() });
  after(() => http.close());
  return githubClientFactory({ api_url: url, token: null, user_agent: "test" })(http);
}

test("GitHub JSON is parsed with JSON.parse: a large id is a number, not a BigInt", async () => {
  const { data } = await octokit().rest.repos.getLatestRelease({ owner: "o", repo: "r" });
  assert.equal(typeof data.id, "number");
  assert.equal(data.tag_name, "v1");
  assert.doesNotThrow(() => JSON.stringify(data));
});

test("raw media stays text, malformed JSON stays the text Octokit would give, 404 still rejects", async () => {
  const o = octokit();
  const raw = await o.rest.repos.getContent({ owner: "o", repo: "r", path: "f.rb", mediaType: { format: "raw" } });
  assert.equal(raw.data, "class Foo < Formula\n");
  const broken = await o.request("GET /repos/o/r/broken");
  assert.equal(broken.data, "{not json");
  await assert.rejects(o.request("GET /repos/o/r/nothing"), (err: { status?: number }) => err.status === 404);
});
