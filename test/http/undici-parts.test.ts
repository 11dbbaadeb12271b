/**
 * src/http/undici.ts loads undici's dispatcher and request API from undici's own files instead of its index (which
 * loads fetch, WebSocket, the cache stores, ... on import). Its classes must be undici's, and its request must
 * behave as undici's, whatever undici's next release moves: a moved file fails here (and in the build).
 */
import { strict as assert } from "node:assert";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import * as undici from "undici";
import { Agent, ProxyAgent, request } from "../../src/http/undici.ts";

describe("undici's parts (src/http/undici.ts)", () => {
  const seen: { method: string; url: string; body: string }[] = [];
  let base = "";
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(201, { "x-echo": req.url ?? "" });
      res.end(`${req.method} ${req.url}`);
    });
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("are undici's own classes", () => {
    assert.equal(Agent, undici.Agent);
    assert.equal(ProxyAgent, undici.ProxyAgent);
    assert.ok(new Agent() instanceof undici.Dispatcher);
  });

  it("request() sends what undici's request() sends and gives back the same answer", async () => {
    const dispatcher = new Agent();
    try {
      const answers = [];
      for (const send of [request, undici.request]) {
        for (const [url, options] of [
          [`${base}/a/b?q=1&r=%20x`, { method: "GET" }],
          [new URL(`${base}/post`), { method: "POST", body: "payload", headers: { "content-type": "text/plain" } }],
        ] as const) {
          const res = await send(url, { ...options, dispatcher });
          answers.push({ status: res.statusCode, echo: res.headers["x-echo"], body: await res.body.text() });
        }
      }
      assert.deepEqual(answers.slice(0, 2), answers.slice(2));
      assert.deepEqual(answers[0], { status: 201, echo: "/a/b?q=1&r=%20x", body: "GET /a/b?q=1&r=%20x" });
      assert.deepEqual(seen.slice(0, 2), seen.slice(2));
      assert.equal(seen[1]?.body, "payload");
    } finally {
      await dispatcher.close();
    }
  });

  it("request() rejects a URL undici would not send, as undici does", async () => {
    const dispatcher = new Agent();
    try {
      for (const send of [request, undici.request])
        await assert.rejects(async () => send("ftp://127.0.0.1/x", { method: "GET", dispatcher }), {
          code: "UND_ERR_INVALID_ARG",
        });
    } finally {
      await dispatcher.close();
    }
  });
});
