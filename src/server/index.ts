import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_REGISTRY } from "../channels/registry.ts";
import { parseDuration } from "../config/duration.ts";
import { AppError, errorMessage } from "../errors.ts";
import { createMetrics } from "../metrics/index.ts";
import { isLoopbackHost, tokenRuleIssue } from "../config/listen.ts";
import { createDispatcher } from "./dispatch.ts";
import { routeTable } from "./routes.ts";
import type { RunningServer, ServerOptions } from "./types.ts";
import { projectNames } from "./view.ts";
import { quote } from "../quote.ts";

export type { DaemonView, RunningServer, ServerOptions } from "./types.ts";

/**
 * The HTTP face of `monitor watch` (node:http, no framework, no static files: request paths are only matched
 * against the route table (src/server/routes.ts, dispatched by src/server/dispatch.ts) and never reach the filesystem).
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

export { MAX_BODY_BYTES, MAX_URL_BYTES, parsePath } from "./dispatch.ts";
export const MAX_HEADER_BYTES = 16 * 1024;
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 15_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { daemon, store, loaded } = options;
  const log = options.log.child({ component: "server" });
  const now = options.now ?? (() => new Date());
  const settings = loaded.config.settings.server;
  const token = settings.token !== undefined && settings.token.length > 0 ? settings.token : null;
  const listenText = options.listen ?? settings.listen;
  const tokenIssue = tokenRuleIssue(listenText, settings.token, options.listen ? "--listen" : "settings.server.listen");
  if (tokenIssue) throw new AppError("E_USAGE", tokenIssue);
  const listen = parseListen(listenText);
  const metrics = createMetrics({ daemon, store, loaded, log });
  const routes = routeTable({
    view: { daemon, store, loaded, now, registry: options.registry ?? DEFAULT_REGISTRY },
    names: new Set(projectNames(loaded)),
    metrics,
    staleMs: parseDuration(settings.stale_after) ?? 0,
    startedAt: now(),
    log,
  });
  const handle = createDispatcher(routes, {
    token,
    hostAllowed: token === null ? allowedHostCheck(settings.allowed_hosts) : () => true,
    log,
  });

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
