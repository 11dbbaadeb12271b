import type { z } from "zod";
import { AppError } from "../errors.ts";
import type { HttpResponse } from "../http/client.ts";

/**
 * Reading upstream payloads: lenient schemas (pick what we need, tolerate extras), and one failure mode when a body
 * cannot be read: E_UPSTREAM_MALFORMED naming the URL and the first offending fields, so the channel is `unknown`.
 */
export function parseJsonBody<T>(res: HttpResponse, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = res.json();
  } catch (err) {
    throw new AppError("E_UPSTREAM_MALFORMED", `${res.url}: body is not JSON (${excerpt(res.text())})`, {
      cause: err,
      details: { url: res.url },
    });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError("E_UPSTREAM_MALFORMED", `${res.url}: ${describeIssues(parsed.error)}`, {
      details: { url: res.url },
    });
  }
  return parsed.data;
}

/** A status the probe has no meaning for: we cannot tell what the channel says. */
export function unexpectedStatus(res: HttpResponse, hint = ""): AppError {
  return new AppError("E_HTTP_STATUS", `${res.url} answered HTTP ${res.status}${hint}`, {
    details: { status: res.status, url: res.url },
  });
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}

export function excerpt(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > 80 ? `${t.slice(0, 80)}…` : t;
}
