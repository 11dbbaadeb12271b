import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError, errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { badgeContent, renderBadge } from "./badge.ts";
import { projectPage, statusPage } from "./pages.ts";
import { readiness } from "./readiness.ts";
import { send, sendHtml, sendHtmlError, sendJson, sendJsonError, type ErrorCode } from "./respond.ts";
import { projectDetail, statusSnapshot, type ViewDeps } from "./view.ts";

/** How a route's errors and refusals are rendered. */
export type Kind = "html" | "json";

/** GET routes answer HEAD too. */
export type RouteMethod = "GET" | "POST";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The `:name` segments of the pattern, in order. */
  params: string[];
}

export interface RoutePolicy {
  /** "token": needs the token when settings.server.token is set; "public": never (only /healthz). */
  auth: "token" | "public";
  /** The daemon refuses past settings.server.manual_checks_per_minute (E_RATE_LIMITED): 429 with Retry-After. */
  rateLimit?: "manual_checks_per_minute";
}

export interface Route {
  method: RouteMethod;
  /** "/" or "/segment/:param/…"; a ":param" matches one non-empty decoded segment. */
  path: string;
  kind: Kind;
  policy: RoutePolicy;
  handler(ctx: RouteContext): void | Promise<void>;
  /** How a thrown error is answered (status and code, the message is the error's); default 500 "internal error". */
  failure?(ctx: RouteContext, err: unknown): [number, ErrorCode];
}

export interface RouteDeps {
  view: ViewDeps;
  /** Configured project names. */
  names: ReadonlySet<string>;
  metrics: { contentType: string; render(): Promise<string> };
  staleMs: number;
  startedAt: Date;
  log: Logger;
}

/**
 * Every route of the server, in one table (matching, 405 with Allow, the token rule, Host, Origin and body
 * checks are the dispatcher's, src/server/dispatch.ts).
 */
export function routeTable(d: RouteDeps): Route[] {
  const { view, names } = d;
  const token = { auth: "token" } as const;
  return [
    {
      method: "GET",
      path: "/",
      kind: "html",
      policy: token,
      handler: async ({ res }) => sendHtml(res, 200, statusPage(await statusSnapshot(view), view.registry)),
    },
    {
      method: "GET",
      path: "/projects/:name",
      kind: "html",
      policy: token,
      handler: async ({ res, params: [name = ""] }) => {
        const detail = names.has(name) ? await projectDetail(view, name) : null;
        if (!detail) return notFound(res, "html", name);
        sendHtml(res, 200, projectPage(detail, view.registry));
      },
    },
    {
      method: "GET",
      path: "/api/v1/status",
      kind: "json",
      policy: token,
      handler: async ({ res }) => sendJson(res, 200, await statusSnapshot(view)),
    },
    {
      method: "GET",
      path: "/api/v1/projects/:name",
      kind: "json",
      policy: token,
      handler: async ({ res, params: [name = ""] }) => {
        const detail = names.has(name) ? await projectDetail(view, name) : null;
        if (!detail) return notFound(res, "json", name);
        sendJson(res, 200, detail);
      },
    },
    {
      method: "POST",
      path: "/api/v1/projects/:name/check",
      kind: "json",
      policy: { auth: "token", rateLimit: "manual_checks_per_minute" },
      handler: async ({ res, params: [name = ""] }) => {
        if (!names.has(name)) return notFound(res, "json", name);
        sendJson(res, 200, await view.daemon.runCycleNow(name));
      },
      failure: ({ params: [name = ""] }, err) => {
        d.log.warn({ project: name, err: errorMessage(err) }, "check requested over HTTP failed");
        return checkFailure(err);
      },
    },
    {
      method: "GET",
      path: "/metrics",
      kind: "json",
      policy: token,
      handler: async ({ res }) => send(res, 200, d.metrics.contentType, await d.metrics.render()),
    },
    {
      method: "GET",
      path: "/healthz",
      kind: "json",
      policy: { auth: "public" },
      handler: ({ res }) =>
        sendJson(res, 200, {
          status: "ok",
          uptime_seconds: Math.round((view.now().getTime() - d.startedAt.getTime()) / 1000),
        }),
    },
    {
      method: "GET",
      path: "/readyz",
      kind: "json",
      policy: token,
      handler: async ({ res }) => {
        const r = await readiness(view, d.staleMs);
        sendJson(res, r.ready ? 200 : 503, r);
      },
    },
    {
      method: "GET",
      path: "/badge/:file",
      kind: "json",
      policy: token,
      handler: async ({ res, params: [file = ""] }) => {
        const name = file.endsWith(".svg") ? file.slice(0, -4) : null;
        if (name === null || !names.has(name)) return notFound(res, "json", name ?? file);
        const latest = await view.store.latestReport(name);
        res.setHeader("Cache-Control", "no-cache, max-age=0");
        send(res, 200, "image/svg+xml; charset=utf-8", renderBadge(badgeContent(latest)));
      },
    },
  ];
}

function notFound(res: ServerResponse, kind: Kind, name: string): void {
  if (kind === "json") sendJsonError(res, 404, "not_found", `no project named "${name}"`);
  else sendHtmlError(res, 404, `No project named "${name}".`);
}

function checkFailure(err: unknown): [number, "unavailable" | "upstream_failed" | "internal"] {
  const code = err instanceof AppError ? err.code : null;
  if (code === "E_ABORTED") return [503, "unavailable"];
  if (code && (code.startsWith("E_HTTP") || code === "E_UPSTREAM_MALFORMED" || code === "E_PROBE_FAILED"))
    return [502, "upstream_failed"];
  return [500, "internal"];
}
