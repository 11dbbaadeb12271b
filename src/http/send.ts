import { request as undiciRequest, type Dispatcher } from "./undici.ts";
import { onAbort } from "../abort-fanout.ts";
import { AppError, errorMessage } from "../errors.ts";
import type { SecretRegistry } from "../secrets.ts";

/** What one send needs from the client: the host queue, the clock, the redactor, the default dispatcher. */
export interface SendContext {
  throttled<T>(host: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly now: () => Date;
  readonly secrets: SecretRegistry;
  readonly dispatcher: Dispatcher;
  readonly settings: { readonly request_timeout_ms: number };
}

export interface SendRequest {
  url: string;
  host: string;
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | null;
  maxBytes: number;
  dispatcher?: Dispatcher | undefined;
  signal?: AbortSignal | undefined;
}

/** When the exchange started (after the host queue), for evidence and metrics. */
interface SendTiming {
  at: string;
  started: number;
}

export type SendResult =
  | ({ ok: true; status: number; headers: Record<string, string>; body: Buffer } & SendTiming)
  | ({ ok: false; error: AppError } & SendTiming);

/**
 * One HTTP exchange, no redirects, no retries: wait for the host's turn, send, buffer the body under `maxBytes`.
 * The attempt's deadline (request_timeout_ms) starts when the request leaves the host's queue.
 */
export async function sendOnce(ctx: SendContext, req: SendRequest): Promise<SendResult> {
  const timing: SendTiming = { at: ctx.now().toISOString(), started: Date.now() };
  let signal: AbortSignal | null = null;
  try {
    const res = await ctx.throttled(
      req.host,
      async () => {
        timing.at = ctx.now().toISOString();
        timing.started = Date.now();
        // A timer we clear when the attempt ends: AbortSignal.timeout() would keep every request's signal and
        // timer alive for the whole request_timeout after it finished (memory grows with the request rate).
        const limitMs = ctx.settings.request_timeout_ms;
        const deadline = new AbortController();
        const timer = setTimeout(
          () => deadline.abort(new DOMException(`timed out after ${limitMs} ms`, "TimeoutError")),
          limitMs,
        );
        // The caller's signal aborts the same controller (onAbort: one listener on it for all its requests), not
        // AbortSignal.any: a composite signal per request, tracked by its sources until a GC collects it.
        const caller = req.signal;
        if (caller?.aborted) deadline.abort(caller.reason);
        const off = onAbort(caller, () => deadline.abort(caller?.reason));
        signal = deadline.signal;
        try {
          const res = await undiciRequest(req.url, {
            method: req.method,
            headers: req.headers,
            body: req.body,
            dispatcher: req.dispatcher ?? ctx.dispatcher,
            signal,
          });
          const headers = flattenHeaders(res.headers);
          return { status: res.statusCode, headers, body: await readCapped(res, headers, req, ctx.secrets) };
        } finally {
          clearTimeout(timer);
          off();
        }
      },
      req.signal,
    );
    return { ok: true, ...res, ...timing };
  } catch (err) {
    const error =
      (signal as AbortSignal | null)?.aborted && !req.signal?.aborted
        ? new AppError(
            "E_HTTP_TIMEOUT",
            `request to ${ctx.secrets.redact(req.url)} timed out after ${ctx.settings.request_timeout_ms} ms`,
            { cause: err },
          )
        : toAppError(err, req.url, ctx.secrets);
    return { ok: false, error, ...timing };
  }
}

/** The whole body, or E_HTTP_TOO_LARGE as soon as it declares or reaches more than `maxBytes`. */
async function readCapped(
  res: Dispatcher.ResponseData,
  headers: Record<string, string>,
  req: SendRequest,
  secrets: SecretRegistry,
): Promise<Buffer> {
  const declared = Number(headers["content-length"] ?? NaN);
  res.body.on("error", () => {});
  if (Number.isFinite(declared) && declared > req.maxBytes) {
    res.body.destroy();
    throw new AppError(
      "E_HTTP_TOO_LARGE",
      `response from ${secrets.redact(req.url)} is ${declared} bytes, over the ${req.maxBytes}-byte cap`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > req.maxBytes) {
      res.body.destroy();
      throw new AppError(
        "E_HTTP_TOO_LARGE",
        `response from ${secrets.redact(req.url)} exceeded the ${req.maxBytes}-byte cap`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
/** Certificate verification failures (OpenSSL's codes as Node reports them): asking again gives the same answer. */
const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** A failed send as a coded error: timeout, TLS, or network (the URL redacted). */
export function toAppError(err: unknown, url: string, secrets: SecretRegistry): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown }).code;
  const where = secrets.redact(url);
  if (typeof code === "string" && TIMEOUT_CODES.has(code)) {
    return new AppError("E_HTTP_TIMEOUT", `${where}: ${code}`, { cause: err });
  }
  if (typeof code === "string" && TLS_CODES.has(code)) {
    return new AppError("E_HTTP_TLS", `${where}: TLS: ${secrets.redact(errorMessage(err))} (${code})`, { cause: err });
  }
  if ((err as { name?: string }).name === "AbortError" || (err as { name?: string }).name === "TimeoutError") {
    return new AppError("E_HTTP_TIMEOUT", `${where}: aborted (${secrets.redact(errorMessage(err))})`, { cause: err });
  }
  return new AppError(
    "E_HTTP_NETWORK",
    `${where}: ${secrets.redact(errorMessage(err))}${typeof code === "string" ? ` (${code})` : ""}`,
    {
      cause: err,
    },
  );
}
