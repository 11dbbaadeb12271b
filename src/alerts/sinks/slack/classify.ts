/**
 * How a Slack incoming-webhook answer is judged (registry-contracts.md §6, shared/fixtures/slack/). Pure.
 * 200 `ok` = delivered. Error bodies are plain-text codes (content-type text/html), never JSON.
 */

/** Codes that will not go away by retrying: the webhook or channel must be reconfigured or the payload fixed. */
export const PERMANENT_SLACK_CODES: Readonly<Record<string, string>> = {
  invalid_payload: "the payload is malformed",
  user_not_found: "the user does not exist",
  no_text: "the message has no text",
  too_many_attachments: "more than 100 attachments",
  action_prohibited: "an admin restricted posting through this webhook",
  invalid_token: "the webhook token is expired, invalid or missing",
  channel_not_found: "the channel does not exist",
  no_service: "the webhook is disabled, removed or invalid",
  no_service_id: "the service id in the webhook URL is invalid or missing",
  no_team: "the Slack workspace is missing or invalid",
  channel_is_archived: "the channel is archived",
  team_disabled: "the Slack workspace is no longer active",
  no_active_hooks: "the webhook is disabled",
  posting_to_general_channel_denied: "posting to #general is restricted",
};

export type SlackOutcome =
  { ok: true } | { ok: false; retryable: boolean; retryAfterMs: number | null; code: string | null; reason: string };

/** Seconds or an HTTP date; null when absent or unparsable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined || value.trim() === "") return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** The error code in a plain-text body (`channel_is_archived`), or null when the body is not a bare code. */
export function slackErrorCode(body: string): string | null {
  const first = body.trim().split(/\r?\n/)[0]?.trim() ?? "";
  return /^[a-z][a-z0-9_]*$/.test(first) ? first : null;
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  if (flat === "") return "empty body";
  return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 117)}...` : flat);
}

const DEFAULT_RATE_LIMIT_WAIT_MS = 1000;

export function classifySlackResponse(
  status: number,
  body: string,
  headers: { retryAfter?: string | null; location?: string | null },
  nowMs: number,
): SlackOutcome {
  const code = slackErrorCode(body);
  const known = code === null ? undefined : PERMANENT_SLACK_CODES[code];
  const named = (c: string, what: string) => `${c} (HTTP ${status}): ${what}`;
  if (status >= 200 && status < 300) {
    if (code !== null && known !== undefined) {
      return { ok: false, retryable: false, retryAfterMs: null, code, reason: named(code, known) };
    }
    return { ok: true };
  }
  if (status >= 300 && status < 400) {
    let where = "";
    if (headers.location) {
      try {
        where = ` to ${new URL(headers.location).origin}`;
      } catch {
        where = "";
      }
    }
    return {
      ok: false,
      retryable: false,
      retryAfterMs: null,
      code: null,
      reason:
        `HTTP ${status} redirect${where}: the webhook URL is misconfigured (a bot token or a mistyped path?); ` +
        "redirects are never followed or retried",
    };
  }
  if (status === 429) {
    const wait = parseRetryAfter(headers.retryAfter, nowMs) ?? DEFAULT_RATE_LIMIT_WAIT_MS;
    return {
      ok: false,
      retryable: true,
      retryAfterMs: wait,
      code: code ?? "rate_limited",
      reason: `rate limited (HTTP 429); retry after ${Math.ceil(wait / 1000)}s`,
    };
  }
  if (status >= 500 || status === 408) {
    return {
      ok: false,
      retryable: true,
      retryAfterMs: parseRetryAfter(headers.retryAfter, nowMs),
      code,
      reason: code !== null ? `${code} (HTTP ${status}): Slack-side failure` : `HTTP ${status}: ${snippet(body)}`,
    };
  }
  if (code !== null && known !== undefined) {
    return { ok: false, retryable: false, retryAfterMs: null, code, reason: named(code, known) };
  }
  return {
    ok: false,
    retryable: false,
    retryAfterMs: null,
    code,
    reason: code !== null ? `${code} (HTTP ${status})` : `HTTP ${status}: ${snippet(body)}`,
  };
}
