import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { formatDuration, parseDuration } from "../config/duration.ts";
import { AppError, errorMessage } from "../errors.ts";
import { createMetrics } from "../metrics/index.ts";
import { isLoopbackHost, tokenRuleIssue } from "../config/listen.ts";
import { authorized } from "./auth.ts";
import { badgeContent, renderBadge } from "./badge.ts";
import { projectPage, statusPage } from "./pages.ts";
import { send, sendHtml, sendHtmlError, sendJson, sendJsonError } from "./respond.ts";
import type { RunningServer, ServerOptions } from "./types.ts";
import { projectDetail, projectNames, statusSnapshot, type ViewDeps } from "./view.ts";
import { quote } from "../quote.ts";

export type { DaemonView, RunningServer, ServerOptions } from "./types.ts";

/**
 * The HTTP face of `monitor watch` (node:http, no framework, no static files: request paths are only matched
 * against the route table below and never reach the filesystem).
 *
 *   GET  /                                  status page (HTML)
 *   GET  /projects/<name>                   one project (HTML)
 *   GET  /api/v1/status                     the same as JSON (report@1 objects embedded as they are)
 *   GET  /api/v1/projects/<name>            one project as JSON
 *   POST /api/v1/projects/<name>/check      run a cycle now; answers with the resulting report@1. When a cycle of
 *                                           the project is already running, waits for it and returns its report
 *                                           (never 409); a cycle is bounded by cycle_timeout.
 *   GET  /metrics                           Prometheus text exposition
 *   GET  /healthz                           the process is up (never needs the token)
 *   GET  /readyz                            state readable, scheduler running, last successful cycle younger than
 *                                           settings.server.stale_after (0 disables the age check); else 503
 *   GET  /badge/<name>.svg                  shields-style SVG badge
 *
 * HEAD is accepted wherever GET is. Other methods: 405 with Allow. Unknown project: 404, JSON
 * `{"error":{"code":"not_found",…}}` on /api, /badge, /metrics, /healthz, /readyz; an HTML page elsewhere.
 *
 * Token rule: when settings.server.token is set, every route except /healthz needs
 * `Authorization: Bearer <token>` (401 with `WWW-Authenticate: Bearer` otherwise); Prometheus sends it with
 * `authorization: { credentials: <token> }`. GET/HEAD also accept HTTP Basic with the token as password, so a
 * browser can open the pages; POST accepts only Bearer. Without a token (loopback only, enforced by config
 * validation and for --listen) only Hosts naming loopback, localhost or settings.server.allowed_hosts are answered
 * (421 otherwise: DNS rebinding); with a token any Host is. A POST carrying a foreign Origin header is refused (403).
 * Manual checks: concurrent requests share one cycle; a project gets settings.server.manual_checks_per_minute
 * cycles a minute from this route, then 429 with Retry-After.
 *
 * Limits: URL ≤ 2 KiB (414), headers ≤ 16 KiB (431, by Node), request body ≤ 4 KiB (413), headers must arrive
 * within 10 s and the whole request within 15 s (408).
 */

export const MAX_URL_BYTES = 2048;
export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_BODY_BYTES = 4096;
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 15_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

const REALM = 'realm="release-monitor"';

type Kind = "html" | "json";

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
}

interface Route {
  /** Path segments; ":" matches one segment (a parameter). */
  pattern: readonly string[];
  methods: readonly ("GET" | "HEAD" | "POST")[];
  kind: Kind;
  /** Needs the token when one is configured. */
  auth: boolean;
  run(ctx: Ctx): void | Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { daemon, store, loaded } = options;
  const log = options.log.child({ component: "server" });
  const now = options.now ?? (() => new Date());
  const settings = loaded.config.settings.server;
  const token = settings.token !== undefined && settings.token.length > 0 ? settings.token : null;
  const staleMs = parseDuration(settings.stale_after) ?? 0;
  const listenText = options.listen ?? settings.listen;
  const tokenIssue = tokenRuleIssue(listenText, settings.token, options.listen ? "--listen" : "settings.server.listen");
  if (tokenIssue) throw new AppError("E_USAGE", tokenIssue);
  const listen = parseListen(listenText);
  const hostAllowed = token === null ? allowedHostCheck(settings.allowed_hosts) : () => true;
  const names = new Set(projectNames(loaded));
  const deps: ViewDeps = { daemon, store, loaded, now };
  const metrics = createMetrics({ daemon, store, loaded, log });
  const startedAt = now();

  const notFound = (res: ServerResponse, kind: Kind, name: string) =>
    kind === "json"
      ? sendJsonError(res, 404, "not_found", `no project named "${name}"`)
      : sendHtmlError(res, 404, `No project named "${name}".`);

  const routes: Route[] = [
    {
      pattern: [],
      methods: ["GET", "HEAD"],
      kind: "html",
      auth: true,
      run: ({ res }) => sendHtml(res, 200, statusPage(statusSnapshot(deps))),
    },
    {
      pattern: ["projects", ":"],
      methods: ["GET", "HEAD"],
      kind: "html",
      auth: true,
      run: ({ res, params: [name = ""] }) => {
        const detail = names.has(name) ? projectDetail(deps, name) : null;
        if (!detail) return notFound(res, "html", name);
        sendHtml(res, 200, projectPage(detail));
      },
    },
    {
      pattern: ["api", "v1", "status"],
      methods: ["GET", "HEAD"],
      kind: "json",
      auth: true,
      run: ({ res }) => sendJson(res, 200, statusSnapshot(deps)),
    },
    {
      pattern: ["api", "v1", "projects", ":"],
      methods: ["GET", "HEAD"],
      kind: "json",
      auth: true,
      run: ({ res, params: [name = ""] }) => {
        const detail = names.has(name) ? projectDetail(deps, name) : null;
        if (!detail) return notFound(res, "json", name);
        sendJson(res, 200, detail);
      },
    },
    {
      pattern: ["api", "v1", "projects", ":", "check"],
      methods: ["POST"],
      kind: "json",
      auth: true,
      run: async ({ res, params: [name = ""] }) => {
        if (!names.has(name)) return notFound(res, "json", name);
        try {
          const report = await daemon.runCycleNow(name);
          sendJson(res, 200, report);
        } catch (err) {
          if (err instanceof AppError && err.code === "E_RATE_LIMITED") {
            const retry = err.details?.["retry_after_s"];
            res.setHeader("Retry-After", typeof retry === "number" ? String(retry) : "60");
            return sendJsonError(res, 429, "rate_limited", errorMessage(err));
          }
          const [status, code] = checkFailure(err);
          log.warn({ project: name, err: errorMessage(err) }, "check requested over HTTP failed");
          sendJsonError(res, status, code, errorMessage(err));
        }
      },
    },
    {
      pattern: ["metrics"],
      methods: ["GET", "HEAD"],
      kind: "json",
      auth: true,
      run: async ({ res }) => send(res, 200, metrics.contentType, await metrics.render()),
    },
    {
      pattern: ["healthz"],
      methods: ["GET", "HEAD"],
      kind: "json",
      auth: false,
      run: ({ res }) =>
        sendJson(res, 200, {
          status: "ok",
          uptime_seconds: Math.round((now().getTime() - startedAt.getTime()) / 1000),
        }),
    },
    {
      pattern: ["readyz"],
      methods: ["GET", "HEAD"],
      kind: "json",
      auth: true,
      run: ({ res }) => {
        const r = readiness(deps, staleMs);
        sendJson(res, r.ready ? 200 : 503, r);
      },
    },
    {
      pattern: ["badge", ":"],
      methods: ["GET", "HEAD"],
      kind: "json",
      auth: true,
      run: ({ res, params: [file = ""] }) => {
        const name = file.endsWith(".svg") ? file.slice(0, -4) : null;
        if (name === null || !names.has(name)) return notFound(res, "json", name ?? file);
        res.setHeader("Cache-Control", "no-cache, max-age=0");
        send(res, 200, "image/svg+xml; charset=utf-8", renderBadge(badgeContent(store.latestReport(name))));
      },
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const t0 = performance.now();
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    let kind: Kind = rawUrl.startsWith("/projects") || rawUrl === "/" ? "html" : "json";
    const fail = (status: number, code: Parameters<typeof sendJsonError>[2], message: string) =>
      kind === "json" ? sendJsonError(res, status, code, message) : sendHtmlError(res, status, message);
    try {
      if (!hostAllowed(req.headers.host)) {
        return fail(421, "misdirected", "this server does not answer for that Host (settings.server.allowed_hosts)");
      }
      if (Buffer.byteLength(rawUrl) > MAX_URL_BYTES) return fail(414, "uri_too_long", "the URL is too long");
      const path = parsePath(rawUrl);
      if (path === null) return fail(400, "bad_request", "malformed URL");
      kind = isHtmlPath(path) ? "html" : "json";
      const found = matchRoute(routes, path);
      if (!found) return fail(404, "not_found", "no such page");
      const { route, params } = found;
      kind = route.kind;
      if (!(route.methods as readonly string[]).includes(method)) {
        res.setHeader("Allow", route.methods.join(", "));
        return fail(405, "method_not_allowed", `${method} is not allowed here (allowed: ${route.methods.join(", ")})`);
      }
      const declared = Number(req.headers["content-length"] ?? 0);
      if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
        res.setHeader("Connection", "close");
        return fail(413, "payload_too_large", `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
      }
      if (route.auth && !authorized(token, req, method !== "POST")) {
        res.setHeader(
          "WWW-Authenticate",
          route.kind === "html" ? [`Bearer ${REALM}`, `Basic ${REALM}, charset="UTF-8"`] : `Bearer ${REALM}`,
        );
        return fail(401, "unauthorized", "a valid bearer token is required");
      }
      if (method === "POST") {
        if (foreignOrigin(req)) return fail(403, "forbidden", "cross-origin requests are not accepted");
        if (!(await readBody(req, MAX_BODY_BYTES))) {
          res.setHeader("Connection", "close");
          return fail(413, "payload_too_large", `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
        }
      }
      await route.run({ req, res, params });
    } catch (err) {
      log.error({ err: errorMessage(err), method, path: rawUrl.slice(0, 200) }, "request failed");
      fail(500, "internal", "internal error");
    } finally {
      log.debug(
        { method, path: rawUrl.slice(0, 200), status: res.statusCode, ms: Math.round(performance.now() - t0) },
        "request",
      );
    }
  };

  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      requireHostHeader: true,
    },
    (req, res) => void handle(req, res),
  );
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    log.debug({ err: err.code ?? err.message }, "client error");
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const text =
      status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request";
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  try {
    await listenOn(server, listen.host, listen.port);
  } catch (err) {
    metrics.close();
    throw new AppError(
      "E_USAGE",
      `cannot serve on ${options.listen ?? settings.listen} (settings.server.listen): ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
      { cause: err },
    );
  }
  const address = server.address() as AddressInfo;
  const url = `http://${hostForUrl(address)}:${address.port}`;
  log.info(
    { url: `http://${boundHost(address)}:${address.port}`, auth: token !== null ? "bearer" : "none" },
    "serving the status page, API and metrics",
  );

  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= closeServer(server, options.closeGraceMs ?? 2_000).finally(() => metrics.close());
      return closing;
    },
  };
}

// ------------------------------------------------------------------ helpers

export function parseListen(text: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65_535) {
    throw new AppError("E_USAGE", `settings.server.listen: must be host:port, got ${quote(text)}`);
  }
  const host = m[1] ?? m[2] ?? "";
  return { host: host === "" ? undefined : host, port };
}

function hostForUrl(a: AddressInfo): string {
  if (a.address === "0.0.0.0") return "127.0.0.1";
  if (a.address === "::") return "[::1]";
  return a.family === "IPv6" ? `[${a.address}]` : a.address;
}

/** The address as bound (0.0.0.0 stays 0.0.0.0), for the start-up log. */
function boundHost(a: AddressInfo): string {
  return a.family === "IPv6" ? `[${a.address}]` : a.address;
}

/**
 * Without a token the server answers only Hosts that name loopback, localhost or settings.server.allowed_hosts:
 * a DNS-rebinding page (attacker.example resolving to 127.0.0.1) sends its own name as Host and gets 421.
 */
function allowedHostCheck(allowed: readonly string[]): (host: string | undefined) => boolean {
  const names = new Set(allowed.map((h) => h.toLowerCase()));
  return (host) => {
    if (host === undefined) return false;
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::[0-9]{1,5})?$/.exec(host);
    const name = (m?.[1] ?? m?.[2] ?? "").toLowerCase();
    return name !== "" && (isLoopbackHost(name) || names.has(name));
  };
}

function listenOn(server: Server, host: string | undefined, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen({ host, port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
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

function matchRoute(routes: readonly Route[], path: readonly string[]): { route: Route; params: string[] } | null {
  for (const route of routes) {
    if (route.pattern.length !== path.length) continue;
    const params: string[] = [];
    let ok = true;
    for (let i = 0; i < path.length; i++) {
      const want = route.pattern[i];
      const got = path[i] ?? "";
      if (want === ":") {
        if (got === "") ok = false;
        params.push(got);
      } else if (want !== got) ok = false;
      if (!ok) break;
    }
    if (ok) return { route, params };
  }
  return null;
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

function checkFailure(err: unknown): [number, "unavailable" | "upstream_failed" | "internal"] {
  const code = err instanceof AppError ? err.code : null;
  if (code === "E_ABORTED") return [503, "unavailable"];
  if (code && (code.startsWith("E_HTTP") || code === "E_UPSTREAM_MALFORMED" || code === "E_PROBE_FAILED"))
    return [502, "upstream_failed"];
  return [500, "internal"];
}

interface Readiness {
  ready: boolean;
  reason: string | null;
  checks: { state: boolean; scheduler: boolean; fresh: boolean };
  last_successful_cycle_at: string | null;
  stale_after: string;
}

function readiness(deps: ViewDeps, staleMs: number): Readiness {
  const staleAfter = staleMs > 0 ? formatDuration(staleMs) : "0 (age not checked)";
  let state = true;
  let running = false;
  let last: string | null = null;
  try {
    deps.store.projects();
    const status = deps.daemon.status();
    running = status.running;
    last = status.last_successful_cycle_at;
  } catch {
    state = false;
  }
  const age = last ? deps.now().getTime() - Date.parse(last) : null;
  const fresh = last !== null && (staleMs <= 0 || (age !== null && age <= staleMs));
  let reason: string | null = null;
  if (!state) reason = "the state database cannot be read";
  else if (!running) reason = "the scheduler is not running";
  else if (last === null) reason = "no successful cycle yet";
  else if (!fresh)
    reason = `the last successful cycle was ${formatDuration(age ?? 0)} ago, over stale_after ${staleAfter}`;
  return {
    ready: reason === null,
    reason,
    checks: { state, scheduler: running, fresh },
    last_successful_cycle_at: last,
    stale_after: staleAfter,
  };
}
