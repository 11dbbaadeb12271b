/**
 * A host's min_interval (crates.io's API: one request per second) holds where the server sees the requests, not
 * only at our end. Fault injection: a dispatcher in front of the real one holds the first request back before it
 * reaches the socket, as a busy event loop or a slow connect does after the client has taken its turn. The server
 * (real, loopback) records when each request arrives.
 */
import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Agent, Dispatcher } from "undici";
import { createHttpClient, DEFAULT_HTTP_SETTINGS } from "../../src/http/client.ts";
import { SecretRegistry } from "../../src/secrets.ts";

const INTERVAL_MS = 300;
const HOLD_MS = 120;

/** Holds the first dispatched request back for HOLD_MS, then hands every request to the real agent. */
class HoldFirst extends Dispatcher {
  readonly #inner = new Agent();
  #first = true;
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#first) {
      this.#first = false;
      setTimeout(() => this.#inner.dispatch(options, handler), HOLD_MS);
      return true;
    }
    return this.#inner.dispatch(options, handler);
  }
  override close(): Promise<void> {
    return this.#inner.close();
  }
  override destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

describe("http client: minimum spacing between requests to a host", () => {
  const arrivals: number[] = [];
  let url = "";
  let host = "";
  const server = createServer((_req, res) => {
    arrivals.push(performance.now());
    res.end("{}");
  });

  before(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    host = `127.0.0.1:${port}`;
    url = `http://${host}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("a request held back on its way out does not bring the next one closer than min_interval at the server", async () => {
    const dispatcher = new HoldFirst();
    const http = createHttpClient({
      settings: {
        ...DEFAULT_HTTP_SETTINGS,
        retries: 0,
        host_limits: { [host]: { concurrency: 1, min_interval_ms: INTERVAL_MS } },
      },
      secrets: new SecretRegistry(),
      dispatcher,
    });
    try {
      const answers = await Promise.all(
        ["/a", "/b", "/c"].map((p) => http.request({ url: `${url}${p}`, conditional: false })),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200],
      );
      assert.equal(arrivals.length, 3);
      const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] as number));
      for (const gap of gaps)
        assert.ok(gap >= INTERVAL_MS, `gap at the server ${gap.toFixed(1)} ms < ${INTERVAL_MS} ms`);
    } finally {
      await http.close();
    }
  });
});
