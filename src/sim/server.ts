import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ActiveFault } from "./faults.ts";
import { faultReply } from "./fault-replies.ts";
import type { ServiceName } from "./services.ts";
import { credentialFingerprint, type SimStats } from "./stats.ts";
import { httpDate } from "./time.ts";
import type { World } from "./world.ts";

/** A body generated on demand (large release assets): never buffered. */
export interface StreamBody {
  size: number;
  open(): Readable;
}
export type Body = Buffer | StreamBody;

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Body | null;
  /** Add a strong ETag (hash of Accept + body) and answer If-None-Match / If-Modified-Since with 304. */
  cache?: { lastModified?: number };
  /** Service-private notes between handle() and finish(). */
  note?: string;
}

export interface SimRequest {
  service: ServiceName;
  method: string;
  url: URL;
  /** Path segments, percent-decoded one by one (so `%2f` stays inside its segment). */
  segments: string[];
  rawSegments: string[];
  query: URLSearchParams;
  header(name: string): string | undefined;
  /** An Authorization header is present. */
  authenticated: boolean;
  /** Request body (read for methods other than GET/HEAD, capped at 1 MiB); empty otherwise. */
  body: Buffer;
}

export interface ServiceDef {
  service: ServiceName;
  handle(req: SimRequest): Reply | Promise<Reply>;
  /** Runs after conditional evaluation, before writing (GitHub rate-limit accounting). */
  finish?(req: SimRequest, reply: Reply): void;
}

export interface ServiceRuntime {
  world: World;
  stats: SimStats;
  latency(): number;
  /** Unexpected handler exceptions (answered 500), for debugging. */
  errors: unknown[];
}

export interface RunningService {
  service: ServiceName;
  url: string;
  host: string;
  close(): Promise<void>;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: Buffer.from(JSON.stringify(value)),
  };
}

export function text(
  status: number,
  body: string | Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): Reply {
  return {
    status,
    headers: { "content-type": contentType, ...headers },
    body: typeof body === "string" ? Buffer.from(body) : body,
  };
}

export function redirect(status: 301 | 302, location: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { location, ...headers }, body: Buffer.alloc(0) };
}

export function strongEtag(accept: string, body: Buffer): string {
  return `"${createHash("sha256").update(accept).update("\n").update(body).digest("hex").slice(0, 40)}"`;
}

function applyConditional(req: SimRequest, reply: Reply): Reply {
  if (!reply.cache || reply.status !== 200 || !Buffer.isBuffer(reply.body)) return reply;
  const etag = strongEtag(req.header("accept") ?? "", reply.body);
  reply.headers["etag"] = etag;
  const lm = reply.cache.lastModified;
  if (lm !== undefined) reply.headers["last-modified"] = httpDate(lm);
  const inm = req.header("if-none-match");
  const ims = req.header("if-modified-since");
  let notModified = false;
  if (inm !== undefined) {
    notModified = inm.trim() === "*" || inm.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
  } else if (ims !== undefined && lm !== undefined) {
    const since = Date.parse(ims);
    notModified = !Number.isNaN(since) && Math.floor(lm / 1000) * 1000 <= since;
  }
  if (!notModified) return reply;
  const headers = { ...reply.headers };
  delete headers["content-type"];
  return { ...reply, status: 304, headers, body: null };
}

function toSimRequest(service: ServiceName, req: IncomingMessage, base: string): SimRequest {
  const url = new URL(req.url ?? "/", base);
  const rawSegments = url.pathname.split("/").slice(1);
  if (rawSegments.length > 0 && rawSegments[rawSegments.length - 1] === "") rawSegments.pop();
  const segments = rawSegments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return {
    service,
    method: req.method ?? "GET",
    url,
    segments,
    rawSegments,
    query: url.searchParams,
    header: (name) => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(", ") : v;
    },
    authenticated: req.headers.authorization !== undefined,
    body: Buffer.alloc(0),
  };
}

const MAX_REQUEST_BODY = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BODY) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function writeReply(res: ServerResponse, reply: Reply, head: boolean): Promise<void> {
  const headers: Record<string, string> = { ...reply.headers };
  const body = reply.body;
  if (reply.status !== 304 && reply.status !== 204) {
    headers["content-length"] = String(body === null ? 0 : Buffer.isBuffer(body) ? body.length : body.size);
  }
  res.writeHead(reply.status, headers);
  if (head || body === null || reply.status === 304) {
    res.end();
    return;
  }
  if (Buffer.isBuffer(body)) {
    res.end(body);
    return;
  }
  try {
    await pipeline(body.open(), res);
  } catch {
    res.destroy();
  }
}

/** Answer with the real response's headers but fewer bytes than Content-Length, then drop the connection. */
async function writeTruncated(res: ServerResponse, reply: Reply): Promise<void> {
  const body = reply.body;
  const size = body === null ? 0 : Buffer.isBuffer(body) ? body.length : body.size;
  const claimed = Math.max(size, 1024);
  const headers = { ...reply.headers, "content-length": String(claimed) };
  res.writeHead(reply.status === 304 ? 200 : reply.status, headers);
  let part: Buffer = Buffer.alloc(0);
  if (Buffer.isBuffer(body)) part = body.subarray(0, Math.floor(body.length / 2));
  else if (body !== null) {
    const want = Math.min(Math.floor(body.size / 2), 1024 * 1024);
    const chunks: Buffer[] = [];
    let got = 0;
    for await (const chunk of body.open()) {
      chunks.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      if (got >= want) break;
    }
    part = Buffer.concat(chunks).subarray(0, want);
  }
  await new Promise<void>((resolve) => {
    if (part.length === 0) resolve();
    else res.write(part, () => resolve());
  });
  res.socket?.destroySoon();
  setTimeout(() => res.destroy(), 20).unref();
}

/** JSON content type with a body that no parser accepts (a cut real body plus an unterminated string). */
function malformed(reply: Reply): Reply {
  const body =
    Buffer.isBuffer(reply.body) && reply.body.length > 0 ? reply.body : Buffer.from('{"id": 1, "name": "x"}');
  return {
    status: 200,
    headers: { ...reply.headers, "content-type": "application/json; charset=utf-8" },
    body: Buffer.concat([body.subarray(0, Math.floor(body.length / 2)), Buffer.from('{"')]),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function onRequest(
  def: ServiceDef,
  rt: ServiceRuntime,
  base: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = Date.now();
  const sreq = toSimRequest(def.service, req, base);
  const auth = sreq.header("authorization");
  let fault: ActiveFault | null = null;
  rt.stats.begin(def.service);
  res.on("close", () => {
    rt.stats.end({
      at: started,
      method: sreq.method,
      service: def.service,
      path: req.url ?? "/",
      status: res.headersSent ? res.statusCode : null,
      authenticated: sreq.authenticated,
      credential: auth === undefined ? null : credentialFingerprint(auth),
      userAgent: sreq.header("user-agent") ?? null,
      durationMs: Date.now() - started,
      fault: fault?.kind ?? null,
    });
  });
  try {
    if (sreq.method !== "GET" && sreq.method !== "HEAD") sreq.body = await readBody(req);
    const latency = rt.latency();
    if (latency > 0) await sleep(latency);
    if (res.destroyed) return;
    fault = rt.world.faults.take(def.service, sreq.url.pathname, sreq.url.search);
    if (fault) {
      switch (fault.kind) {
        case "timeout":
          return;
        case "reset":
          req.socket.resetAndDestroy();
          return;
        case "truncated":
          await writeTruncated(res, await def.handle(sreq));
          return;
        case "malformed-json":
          await writeReply(res, malformed(await def.handle(sreq)), false);
          return;
        default:
          await writeReply(res, faultReply(fault, sreq, rt.world), sreq.method === "HEAD");
          return;
      }
    }
    let reply = await def.handle(sreq);
    reply = applyConditional(sreq, reply);
    def.finish?.(sreq, reply);
    if (res.destroyed) return;
    await writeReply(res, reply, sreq.method === "HEAD");
  } catch (err) {
    rt.errors.push(err);
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end(`simulator error: ${(err as Error).message}\n`);
    } else {
      res.destroy();
    }
  }
}

/** Start one service on 127.0.0.1, port 0. */
export async function startService(def: ServiceDef, rt: ServiceRuntime): Promise<RunningService> {
  let base = "http://127.0.0.1";
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    void onRequest(def, rt, base, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return {
    service: def.service,
    url: base,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
