import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError, errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { authorized } from "./auth.ts";
import { sendHtmlError, sendJsonError, type ErrorCode } from "./respond.ts";
import type { Kind, Route, RouteContext } from "./routes.ts";

export const MAX_URL_BYTES = 2048;
export const MAX_BODY_BYTES = 4096;

const REALM = 'realm="release-monitor"';

export interface DispatchOptions {
  /** settings.server.token, or null when none is set. */
  token: string | null;
  /** Host allow-list (DNS rebinding): false answers 421. */
  hostAllowed(host: string | undefined): boolean;
  log: Logger;
}

type Fail = (status: number, code: ErrorCode, message: string) => void;

/**
 * The request handler over a route table. In order: Host allow-list (421), URL length (414), path (400), route
 * (404), method (405 with Allow), declared body size (413), the route's auth policy (401), and for every POST,
 * whatever its route declares, the Origin check (403) and the body size as read (413). Then the handler; its
 * errors go through the route's rate-limit policy (429 with Retry-After) and `failure`, else 500.
 */
export function createDispatcher(
  routes: readonly Route[],
  o: DispatchOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const compiled = routes.map((route) => ({ route, pattern: segments(route.path) }));
  return async (req, res) => {
    const t0 = performance.now();
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    let kind: Kind = rawUrl.startsWith("/projects") || rawUrl === "/" ? "html" : "json";
    const fail: Fail = (status, code, message) =>
      kind === "json" ? sendJsonError(res, status, code, message) : sendHtmlError(res, status, message);
    try {
      if (!o.hostAllowed(req.headers.host)) {
        return fail(421, "misdirected", "this server does not answer for that Host (settings.server.allowed_hosts)");
      }
      if (Buffer.byteLength(rawUrl) > MAX_URL_BYTES) return fail(414, "uri_too_long", "the URL is too long");
      const path = parsePath(rawUrl);
      if (path === null) return fail(400, "bad_request", "malformed URL");
      kind = isHtmlPath(path) ? "html" : "json";
      const matches = compiled.flatMap(({ route, pattern }) => {
        const params = matchPattern(pattern, path);
        return params ? [{ route, params }] : [];
      });
      const first = matches[0];
      if (!first) return fail(404, "not_found", "no such page");
      kind = first.route.kind;
      const found = matches.find(({ route }) => accepts(route, method));
      if (!found) {
        const allow = matches.flatMap(({ route }) => (route.method === "GET" ? ["GET", "HEAD"] : [route.method]));
        res.setHeader("Allow", allow.join(", "));
        return fail(405, "method_not_allowed", `${method} is not allowed here (allowed: ${allow.join(", ")})`);
      }
      kind = found.route.kind;
      if (!(await admitted(req, res, found.route, method, o.token, fail))) return;
      await run(found.route, { req, res, params: found.params }, fail);
    } catch (err) {
      o.log.error({ err: errorMessage(err), method, path: rawUrl.slice(0, 200) }, "request failed");
      fail(500, "internal", "internal error");
    } finally {
      o.log.debug(
        { method, path: rawUrl.slice(0, 200), status: res.statusCode, ms: Math.round(performance.now() - t0) },
        "request",
      );
    }
  };
}

function accepts(route: Route, method: string): boolean {
  return route.method === method || (route.method === "GET" && method === "HEAD");
}

/** Body size, token, Origin: false when the request was refused (the answer is sent). */
async function admitted(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  method: string,
  token: string | null,
  fail: Fail,
): Promise<boolean> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    res.setHeader("Connection", "close");
    fail(413, "payload_too_large", `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
    return false;
  }
  if (route.policy.auth === "token" && !authorized(token, req, method !== "POST")) {
    res.setHeader(
      "WWW-Authenticate",
      route.kind === "html" ? [`Bearer ${REALM}`, `Basic ${REALM}, charset="UTF-8"`] : `Bearer ${REALM}`,
    );
    fail(401, "unauthorized", "a valid bearer token is required");
    return false;
  }
  if (method === "POST") {
    if (foreignOrigin(req)) {
      fail(403, "forbidden", "cross-origin requests are not accepted");
      return false;
    }
    if (!(await readBody(req, MAX_BODY_BYTES))) {
      res.setHeader("Connection", "close");
      fail(413, "payload_too_large", `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
      return false;
    }
  }
  return true;
}

/** The handler, with the route's rate-limit policy and failure mapping over what it throws. */
async function run(route: Route, ctx: RouteContext, fail: Fail): Promise<void> {
  try {
    await route.handler(ctx);
  } catch (err) {
    if (route.policy.rateLimit && err instanceof AppError && err.code === "E_RATE_LIMITED") {
      const retry = err.details?.["retry_after_s"];
      ctx.res.setHeader("Retry-After", typeof retry === "number" ? String(retry) : "60");
      return fail(429, "rate_limited", errorMessage(err));
    }
    if (!route.failure) throw err;
    const [status, code] = route.failure(ctx, err);
    fail(status, code, errorMessage(err));
  }
}

/** Decoded path segments ("/" → []), or null when the URL cannot be decoded. A trailing slash is ignored. */
export function parsePath(rawUrl: string): string[] | null {
  if (!rawUrl.startsWith("/")) return null;
  const pathname = rawUrl.split(/[?#]/, 1)[0] ?? "/";
  const trimmed = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
  if (trimmed === "/") return [];
  try {
    return trimmed
      .slice(1)
      .split("/")
      .map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

function isHtmlPath(path: readonly string[]): boolean {
  const first = path[0];
  return first === undefined || !["api", "badge", "metrics", "healthz", "readyz"].includes(first);
}

/** A route path as segments: "/" → [], "/badge/:file" → ["badge", ":"]. */
function segments(path: string): string[] {
  return path === "/"
    ? []
    : path
        .slice(1)
        .split("/")
        .map((s) => (s.startsWith(":") ? ":" : s));
}

/** The parameters when `path` matches `pattern`, else null. */
function matchPattern(pattern: readonly string[], path: readonly string[]): string[] | null {
  if (pattern.length !== path.length) return null;
  const params: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const want = pattern[i];
    const got = path[i] ?? "";
    if (want === ":") {
      if (got === "") return null;
      params.push(got);
    } else if (want !== got) return null;
  }
  return params;
}

/** Reads and discards a request body; false when it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        req.off("data", onData);
        req.pause();
        resolve(false);
      }
    };
    req.on("data", onData);
    req.once("end", () => resolve(true));
    req.once("error", reject);
  });
}

/** A browser request from another site (or an opaque "null" one): its Origin differs from the Host it was sent to. */
function foreignOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    const u = new URL(origin);
    return (u.protocol !== "http:" && u.protocol !== "https:") || u.host !== req.headers.host?.toLowerCase();
  } catch {
    return true;
  }
}
