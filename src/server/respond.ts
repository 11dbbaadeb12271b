import type { ServerResponse } from "node:http";
import { errorPage } from "./pages.ts";

/** Response helpers: every response is a complete buffer with an exact Content-Length and safe headers. */

export type ErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "misdirected"
  | "rate_limited"
  | "method_not_allowed"
  | "payload_too_large"
  | "uri_too_long"
  | "not_ready"
  | "unavailable"
  | "upstream_failed"
  | "internal";

export const HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const DATA_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

function baseHeaders(res: ServerResponse, csp: string): void {
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Content-Security-Policy", csp);
  if (!res.hasHeader("Cache-Control")) res.setHeader("Cache-Control", "no-store");
}

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  csp = DATA_CSP,
): void {
  if (res.headersSent || res.destroyed) return;
  const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  baseHeaders(res, csp);
  res.statusCode = status;
  res.setHeader("Content-Type", contentType);
  res.setHeader("Content-Length", buf.byteLength);
  res.end(buf);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, "application/json; charset=utf-8", `${JSON.stringify(value, null, 2)}\n`);
}

export function sendHtml(res: ServerResponse, status: number, markup: string): void {
  send(res, status, "text/html; charset=utf-8", markup, HTML_CSP);
}

export function sendJsonError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  413: "Payload too large",
  414: "URI too long",
  500: "Internal error",
  503: "Unavailable",
};

export function sendHtmlError(res: ServerResponse, status: number, message: string): void {
  sendHtml(res, status, errorPage(status, TITLES[status] ?? "Error", message));
}
