import { createHmac } from "node:crypto";
import { Agent, request, type Dispatcher } from "../../../http/undici.ts";
import { parseDuration } from "../../../config/duration.ts";
import { SinkError, type AlertMessage, type Sink, type SinkContext } from "../../types.ts";
import { defineSink } from "../define.ts";
import type { SinkDeps } from "../deps.ts";
import { urlSecrets } from "../fields.ts";
import { buildAlertPayload, redactPayload } from "./payload.ts";
import { WebhookSinkSchema, type WebhookSinkConfig } from "./schema.ts";

export type { WebhookSinkConfig } from "./schema.ts";
export { ALERT_SCHEMA, buildAlertPayload, type AlertPayload } from "./payload.ts";

export const SIGNATURE_HEADER = "x-release-monitor-signature";

export const webhookSink = defineSink({
  type: "webhook",
  schema: WebhookSinkSchema,
  secrets: (c) => [...urlSecrets(c.url), c.secret],
  create: (c, deps) => createWebhookSink(c, deps),
});

export type WebhookSinkInstance = Sink & { close(): Promise<void> };

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`, the value of X-Release-Monitor-Signature. */
export function signBody(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

const MAX_RESPONSE_BYTES = 4 * 1024;

/**
 * Generic JSON POST of `release-monitor/alert@1` (payload.ts) over undici's `request`, as the Slack sink does: our
 * own Agent (or the injected dispatcher), redirects never followed, one deadline (`timeout`) from connect to the
 * answer. The outbox owns retries and their backoff; this sink only tells it what failed and whether a retry can
 * help:
 *
 *   2xx                                   delivered
 *   5xx, 408, 429 (Retry-After honoured)  retryable
 *   no answer within `timeout`, network   retryable
 *   3xx, other 4xx                        permanent (dead-lettered): the URL or the receiver must be fixed, and a
 *                                         retry loop would hold every later alert of this sink behind it
 *
 * `url` and `secret` are registered secrets: error texts and logs go through the registry and never carry them.
 */
export function createWebhookSink(config: WebhookSinkConfig, deps: SinkDeps): WebhookSinkInstance {
  for (const s of webhookSink.secrets(config)) deps.secrets.add(s);
  const timeoutMs = parseDuration(config.timeout) ?? 10_000;
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
  const fail = (reason: string, o: { retryable: boolean; retryAfterMs?: number | null }) =>
    new SinkError(redact(`webhook sink "${config.name}": ${reason}`), o);

  async function deliver(message: AlertMessage, ctx: SinkContext): Promise<void> {
    const body = Buffer.from(JSON.stringify(redactPayload(buildAlertPayload(message), deps.secrets)), "utf8");
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "release-monitor",
      "x-release-monitor-event": message.kind,
      "x-release-monitor-delivery": message.id,
    };
    if (config.secret !== undefined) headers[SIGNATURE_HEADER] = signBody(config.secret, body);
    const deadline = AbortSignal.timeout(timeoutMs);
    let status: number;
    let retryAfter: string | null;
    try {
      const res = await request(config.url, {
        method: "POST",
        headers,
        body,
        dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.any([ctx.signal, deadline]),
      });
      status = res.statusCode;
      const ra = res.headers["retry-after"];
      retryAfter = typeof ra === "string" ? ra : null;
      await drain(res.body, MAX_RESPONSE_BYTES);
    } catch (err) {
      if (deadline.aborted) throw fail(`no answer within ${config.timeout}`, { retryable: true });
      throw fail(`request failed: ${describe(err)}`, { retryable: true });
    }
    if (status >= 200 && status < 300) {
      ctx.log.debug({ sink: config.name, alert: message.id, kind: message.kind, status }, "webhook delivered");
      return;
    }
    if (status >= 500 || status === 408 || status === 429) {
      throw fail(`HTTP ${status}`, { retryable: true, retryAfterMs: retryAfterMs(retryAfter, Date.now()) });
    }
    const why = status >= 300 && status < 400 ? "redirects are never followed" : "the receiver refused the alert";
    throw fail(`HTTP ${status}: ${why}; not retried`, { retryable: false });
  }

  return {
    name: config.name,
    type: "webhook",
    minIntervalMs: parseDuration(config.min_interval) ?? 0,
    rendersRollups: true,
    deliver,
    async close(): Promise<void> {
      if (ownAgent !== null) await ownAgent.close();
    },
  };
}

/** Reads (and drops) at most `max` bytes of the answer so the connection can be reused. */
async function drain(body: AsyncIterable<Uint8Array> & { destroy(): unknown }, max: number): Promise<void> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size >= max) {
      body.destroy();
      return;
    }
  }
}

/** Message and code of a transport error, never the error object itself (it may hold request data). */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
}

/** Seconds or an HTTP date; null when absent or unparsable. */
function retryAfterMs(value: string | null, nowMs: number): number | null {
  if (value === null || value.trim() === "") return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}
