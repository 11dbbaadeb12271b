import { strict as assert } from "node:assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { AppError } from "../../src/errors.ts";
import { createHttpClient, DEFAULT_HTTP_SETTINGS, type HttpSettings } from "../../src/http/client.ts";
import { SecretRegistry } from "../../src/secrets.ts";

const settings: HttpSettings = {
  ...DEFAULT_HTTP_SETTINGS,
  retries: 2,
  retry_base_ms: 1,
  max_retry_wait_ms: 60_000,
  request_timeout_ms: 2_000,
};

describe("http client: waiting out Retry-After", () => {
  let server: Server;
  let url = "";
  let requests = 0;
  before(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(503, { "retry-after": "30" }).end("busy");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => server.close());

  it("sleeps between attempts only, never after the last one", async () => {
    const sleeps: number[] = [];
    const client = createHttpClient({
      settings,
      secrets: new SecretRegistry(),
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    requests = 0;
    await assert.rejects(client.request({ url }), (err: AppError) => err.code === "E_HTTP_STATUS");
    await client.close();
    assert.equal(requests, 3, "1 + 2 retries");
    assert.equal(sleeps.length, 2, `one wait per retry, none after the last attempt: ${sleeps.join(", ")}`);
  });

  it("a Retry-After that would end past the deadline fails at once, without waiting", async () => {
    const sleeps: number[] = [];
    const client = createHttpClient({
      settings,
      secrets: new SecretRegistry(),
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    requests = 0;
    const http = client.recording([], Date.now() + 10_000);
    await assert.rejects(http.request({ url }), (err: AppError) => {
      assert.equal(err.code, "E_HTTP_RATE_LIMITED");
      assert.match(err.message, /asks to wait 30 s, more than the \d+ s left before the deadline/);
      return true;
    });
    await client.close();
    assert.equal(requests, 1);
    assert.deepEqual(sleeps, []);
  });
});
