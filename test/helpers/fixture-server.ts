import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A loopback HTTP server (127.0.0.1, port 0) that answers from a route table of recorded responses.
 * Routes are keyed `"<METHOD> <path>"`. A key without `?` matches the decoded path whatever the query string;
 * a key with `?` matches path and query exactly. Unmatched requests answer 404 and are listed in `unmatched`,
 * so a test can assert that the code under test asked only for what it should.
 *
 *   const api = await startFixtureServer({
 *     "GET /repos/o/r/releases/latest": { status: 200, body: recordedJson },
 *     "GET /flaky": [{ status: 500 }, { status: 200, body: "ok" }],   // a sequence: the last one repeats
 *     "GET /echo": (req) => ({ status: 200, body: { auth: req.headers.authorization ?? null } }),
 *   });
 */

export interface FixtureResponse {
  status: number;
  headers?: Record<string, string>;
  /**
   * A string or bytes are sent as is; any other value is sent as JSON with
   * `content-type: application/json; charset=utf-8` (unless `headers` sets one).
   */
  body?: unknown;
  /** Send the body in chunks of this many bytes (exercises streaming consumers). */
  chunkBytes?: number;
}

export interface ReceivedRequest {
  method: string;
  /** Path and query as sent (still percent-encoded). */
  rawPath: string;
  /** Decoded path without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type FixtureHandler =
  FixtureResponse | readonly FixtureResponse[] | ((req: ReceivedRequest) => FixtureResponse | Promise<FixtureResponse>);

export interface FixtureServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** `127.0.0.1:<port>`, as URL.host reports it (for redirect allow-lists). */
  readonly host: string;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Requests no route matched (answered 404). */
  readonly unmatched: ReceivedRequest[];
  /** Adds or replaces a route. */
  route(key: string, handler: FixtureHandler): void;
  /** Requests received for one route key (same matching rules as routing). */
  requestsFor(key: string): ReceivedRequest[];
  close(): Promise<void>;
}

export async function startFixtureServer(routes: Record<string, FixtureHandler> = {}): Promise<FixtureServer> {
  const table = new Map<string, FixtureHandler>(Object.entries(routes));
  const served = new Map<string, number>();
  const requests: ReceivedRequest[] = [];
  const unmatched: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received = toReceived(req.method ?? "GET", req.url ?? "/", req.headers, Buffer.concat(chunks));
      requests.push(received);
      const key = findRoute(table, received);
      const handler = key === undefined ? undefined : table.get(key);
      if (key === undefined || handler === undefined) {
        unmatched.push(received);
        send(res, { status: 404, body: { message: "Not Found", documentation_url: "fixture-server: no route" } });
        return;
      }
      const n = served.get(key) ?? 0;
      served.set(key, n + 1);
      Promise.resolve(pick(handler, n, received)).then(
        (response) => send(res, response),
        (err: unknown) => send(res, { status: 500, body: { message: `fixture handler failed: ${String(err)}` } }),
      );
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    unmatched,
    route(key, handler) {
      table.set(key, handler);
    },
    requestsFor(key) {
      return requests.filter((r) => matches(key, r));
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function toReceived(method: string, rawPath: string, headers: IncomingHttpHeaders, body: Buffer): ReceivedRequest {
  const u = new URL(rawPath, "http://fixture.invalid");
  let path = u.pathname;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    // keep the encoded form when it is not valid percent-encoding
  }
  return { method: method.toUpperCase(), rawPath, path, query: u.searchParams, headers, body };
}

function matches(key: string, r: ReceivedRequest): boolean {
  const space = key.indexOf(" ");
  const method = key.slice(0, space).toUpperCase();
  const target = key.slice(space + 1);
  if (method !== r.method) return false;
  if (target.includes("?")) {
    const q = target.indexOf("?");
    return target.slice(0, q) === r.path && new URLSearchParams(target.slice(q + 1)).toString() === r.query.toString();
  }
  return target === r.path;
}

function findRoute(table: Map<string, FixtureHandler>, r: ReceivedRequest): string | undefined {
  let loose: string | undefined;
  for (const key of table.keys()) {
    if (!matches(key, r)) continue;
    if (key.includes("?")) return key; // exact query match wins
    loose ??= key;
  }
  return loose;
}

function pick(handler: FixtureHandler, n: number, req: ReceivedRequest): FixtureResponse | Promise<FixtureResponse> {
  if (typeof handler === "function") return handler(req);
  if (isSequence(handler)) {
    const last = handler[handler.length - 1];
    return handler[Math.min(n, handler.length - 1)] ?? last ?? { status: 500, body: { message: "empty sequence" } };
  }
  return handler;
}

function isSequence(h: FixtureHandler): h is readonly FixtureResponse[] {
  return Array.isArray(h);
}

function send(res: ServerResponse, r: FixtureResponse): void {
  const raw = typeof r.body === "string" || r.body instanceof Uint8Array;
  const bytes =
    r.body === undefined
      ? Buffer.alloc(0)
      : raw
        ? Buffer.from(r.body as string | Uint8Array)
        : Buffer.from(JSON.stringify(r.body), "utf8");
  const headers: Record<string, string> = {};
  if (r.body !== undefined && !raw) headers["content-type"] = "application/json; charset=utf-8";
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  if (r.chunkBytes === undefined) headers["content-length"] = String(bytes.length);
  res.writeHead(r.status, headers);
  if (r.chunkBytes === undefined || r.chunkBytes <= 0) {
    res.end(bytes);
    return;
  }
  const size = r.chunkBytes;
  let offset = 0;
  const writeMore = (): void => {
    while (offset < bytes.length) {
      const chunk = bytes.subarray(offset, offset + size);
      offset += chunk.length;
      if (!res.write(chunk)) {
        res.once("drain", writeMore);
        return;
      }
    }
    res.end();
  };
  writeMore();
}
