import {
  IncomingWebhook,
  IncomingWebhookHTTPError,
  type FetchFunction,
  type IncomingWebhookSendArguments,
} from "@slack/webhook";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request, type Dispatcher } from "../../../http/undici.ts";
import { parseDuration } from "../../../config/duration.ts";
import type { SecretRegistry } from "../../../secrets.ts";
import { SinkError, type AlertMessage, type Sink, type SinkContext } from "../../types.ts";
import { defineSink } from "../define.ts";
import type { SinkDeps } from "../deps.ts";
import { urlSecrets } from "../fields.ts";
import { classifySlackResponse } from "./classify.ts";
import { buildSlackMessage } from "./message.ts";
import { SlackSinkSchema, type SlackSinkConfig } from "./schema.ts";

export type { SlackSinkConfig } from "./schema.ts";

export interface SlackSinkOptions {
  /** Deadline for one POST, connect to body (default 10 s). */
  timeoutMs?: number;
  /** Monotonic clock in ms (pacing); default performance.now. */
  now?: () => number;
}

export type SlackSinkInstance = Sink & { close(): Promise<void> };

const MAX_RESPONSE_BYTES = 16 * 1024;

/**
 * Slack incoming webhook through @slack/webhook's IncomingWebhook, which builds the request and takes a `fetch`
 * option. @slack/webhook 8.0.2 (installed) is fetch-based, not axios: by default it calls globalThis.fetch with
 * `redirect: "error"`, which turns Slack's 302 for a wrong URL into an opaque network error — indistinguishable
 * from a connection failure, so a retry loop would keep hitting it. We pass our own fetch over undici's `request`
 * (never follows redirects; our dispatcher and timeouts), so a 3xx comes back as an HTTP error with its status and
 * is classified permanent. `retryConfig: { retries: 0 }`: the outbox owns retries.
 *
 * Pacing: at most one request per `min_interval` (default 1 s) measured from the end of the previous request, and
 * no request at all while a 429's Retry-After is running (the error carries the remaining wait).
 * The webhook URL is registered as a secret; error texts pass through the registry and never carry it.
 */
export function createSlackSink(
  config: SlackSinkConfig,
  deps: SinkDeps,
  options: SlackSinkOptions = {},
): SlackSinkInstance {
  const url = config.webhook_url;
  for (const s of urlSecrets(url)) deps.secrets.add(s);
  const minIntervalMs = parseDuration(config.min_interval) ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const ownAgent =
    deps.dispatcher === undefined
      ? new Agent({
          connect: { timeout: timeoutMs },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          keepAliveTimeout: 4_000,
        })
      : null;
  const dispatcher: Dispatcher = deps.dispatcher ?? ownAgent!;
  const redact = (text: string) => deps.secrets.redact(text);
  const fail = (reason: string, o: { retryable: boolean; retryAfterMs?: number | null; cause?: unknown }) =>
    new SinkError(redact(`slack sink "${config.name}": ${reason}`), o);

  let lastSentAt = Number.NEGATIVE_INFINITY;
  let blockedUntil = Number.NEGATIVE_INFINITY;
  let queue: Promise<unknown> = Promise.resolve();

  async function deliverOne(message: AlertMessage, ctx: SinkContext): Promise<void> {
    const start = now();
    if (start < blockedUntil) {
      const wait = Math.ceil(blockedUntil - start);
      throw fail(`rate limited by Slack; not sending for another ${wait} ms`, { retryable: true, retryAfterMs: wait });
    }
    const gap = lastSentAt + minIntervalMs - start;
    if (gap > 0) {
      try {
        await sleep(gap, undefined, { signal: ctx.signal });
      } catch (cause) {
        throw fail("aborted while pacing", { retryable: true, cause: sanitizedCause(cause, redact) });
      }
    }
    const payload = redactPayload(buildSlackMessage(message), deps.secrets);
    let answer: WebhookAnswer;
    try {
      answer = await post(url, payload, dispatcher, timeoutMs, ctx.signal);
    } catch (err) {
      lastSentAt = now();
      const cause = sanitizedCause(err, redact);
      throw fail(`request failed: ${cause.message}`, { retryable: true, cause });
    }
    lastSentAt = now();
    const outcome = classifySlackResponse(
      answer.status,
      answer.body,
      { retryAfter: answer.headers["retry-after"] ?? null, location: answer.headers["location"] ?? null },
      Date.now(),
    );
    if (outcome.ok) {
      ctx.log.debug({ sink: config.name, alert: message.id, kind: message.kind }, "slack message delivered");
      return;
    }
    if (answer.status === 429 && outcome.retryAfterMs !== null) blockedUntil = now() + outcome.retryAfterMs;
    throw fail(outcome.reason, { retryable: outcome.retryable, retryAfterMs: outcome.retryAfterMs });
  }

  return {
    name: config.name,
    type: "slack",
    minIntervalMs,
    rendersRollups: true,
    deliver(message: AlertMessage, ctx: SinkContext): Promise<void> {
      const run = queue.then(() => deliverOne(message, ctx));
      queue = run.catch(() => undefined);
      return run;
    },
    async close(): Promise<void> {
      if (ownAgent !== null) await ownAgent.close();
    },
  };
}

export const slackSink = defineSink({
  type: "slack",
  schema: SlackSinkSchema,
  secrets: (c) => urlSecrets(c.webhook_url),
  create: (c, deps) => createSlackSink(c, deps),
});

interface WebhookAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One POST through IncomingWebhook; HTTP errors (3xx included) come back as answers, transport errors throw. */
async function post(
  url: string,
  payload: IncomingWebhookSendArguments,
  dispatcher: Dispatcher,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<WebhookAnswer> {
  let headers: Record<string, string> = {};
  const fetchFn: FetchFunction = async (input, init) => {
    const signals = [signal, ...(init?.signal ? [init.signal] : [])];
    const res = await request(String(input), {
      method: "POST",
      headers: init?.headers ?? {},
      body: typeof init?.body === "string" ? init.body : JSON.stringify(payload),
      dispatcher,
      signal: AbortSignal.any(signals),
    });
    headers = flattenHeaders(res.headers);
    const body = await readCapped(res.body, MAX_RESPONSE_BYTES);
    return fetchResponse(res.statusCode, headers, body, String(input));
  };
  const webhook = new IncomingWebhook(url, { fetch: fetchFn, timeout: timeoutMs, retryConfig: { retries: 0 } });
  try {
    const result = await webhook.send(payload);
    return { status: 200, headers, body: result.text };
  } catch (err) {
    if (err instanceof IncomingWebhookHTTPError) return { status: err.statusCode, headers, body: err.body };
    throw err;
  }
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

async function readCapped(body: AsyncIterable<Uint8Array> & { destroy(): unknown }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.from(chunk);
    chunks.push(buf.subarray(0, Math.max(0, max - size)));
    size += buf.length;
    if (size >= max) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

function fetchResponse(status: number, headers: Record<string, string>, body: string, url: string) {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: "",
    url,
    headers: {
      get: (name: string) => headers[name.toLowerCase()] ?? null,
      entries: () => Object.entries(headers)[Symbol.iterator](),
    },
    text: () => Promise.resolve(body),
    json: () => Promise.resolve(JSON.parse(body) as unknown),
    arrayBuffer: () => Promise.resolve(new TextEncoder().encode(body).buffer),
  };
}

/** A plain Error with a redacted message and the original code: never the raw error (it may hold request data). */
function sanitizedCause(err: unknown, redact: (s: string) => string): Error & { code?: string } {
  let message = err instanceof Error ? err.message : String(err);
  let code: string | undefined;
  let inner: unknown = err;
  for (let depth = 0; depth < 4 && inner instanceof Error; depth++) {
    const c = (inner as { code?: unknown }).code;
    if (typeof c === "string" && !c.startsWith("slack_webhook")) code = c;
    if (inner.cause instanceof Error && inner.cause.message && !message.includes(inner.cause.message)) {
      message = `${message}: ${inner.cause.message}`;
    }
    inner = inner.cause;
  }
  const out: Error & { code?: string } = new Error(redact(message));
  if (code !== undefined) out.code = code;
  return out;
}

function redactPayload<T>(value: T, secrets: SecretRegistry): T {
  if (typeof value === "string") return secrets.redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactPayload(v, secrets)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactPayload(v, secrets);
    return out as T;
  }
  return value;
}
