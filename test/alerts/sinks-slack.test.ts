import { strict as assert } from "node:assert";
import { after, before, beforeEach, describe, it } from "node:test";
import { inspect } from "node:util";
import { SinkConfig } from "../../src/alerts/sinks/registry.ts";
import { classifySlackResponse, PERMANENT_SLACK_CODES } from "../../src/alerts/sinks/slack/classify.ts";
import { buildSlackMessage, MAX_EVIDENCE_LINKS } from "../../src/alerts/sinks/slack/message.ts";
import {
  createSlackSink,
  type SlackSinkConfig,
  type SlackSinkInstance,
} from "../../src/alerts/sinks/slack/slack-sink.ts";
import { SinkError } from "../../src/alerts/types.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import { captureLogger, makeAlert, makeIncident, sinkContext } from "../fakes/alerts.ts";
import { startFakeSlack, type FakeSlack } from "../fakes/slack-server.ts";

function slackConfig(url: string, min_interval = "1s"): SlackSinkConfig {
  const parsed = SinkConfig.parse({ type: "slack", webhook_url: url, min_interval });
  if (parsed.type !== "slack") assert.fail("not a slack config");
  return parsed;
}

async function deliverError(sink: SlackSinkInstance, ctx = sinkContext()): Promise<SinkError> {
  try {
    await sink.deliver(makeAlert("open"), ctx);
  } catch (err) {
    assert.ok(err instanceof SinkError, `expected SinkError, got ${inspect(err)}`);
    return err;
  }
  assert.fail("deliver should have failed");
}

/** Neither the URL nor its secret path may appear anywhere in the error (message, cause chain, fields). */
function assertNoSecret(err: unknown, slack: FakeSlack): void {
  const secretPath = new URL(slack.url).pathname;
  const token = secretPath.split("/").pop()!;
  const text = `${String((err as Error).message)}\n${inspect(err, { depth: 10, showHidden: true })}`;
  assert.ok(!text.includes(slack.url), "webhook URL leaked into the error");
  assert.ok(!text.includes(token), "webhook token leaked into the error");
}

describe("slack message", () => {
  it("builds Block Kit with header, fields, at most 5 evidence links, status link and a text fallback", () => {
    const incident = makeIncident({
      channel: "github",
      code: "asset-missing",
      subject: "plasmite-0.8.0-darwin_arm64.tar.gz",
      expected: "plasmite-0.8.0-darwin_arm64.tar.gz",
      actual: "<absent>",
      evidence: [
        ...Array.from({ length: 7 }, (_, i) => `https://api.github.com/repos/acme/plasmite/releases/${i}`),
        "not a url",
      ],
    });
    const msg = buildSlackMessage(
      makeAlert("open", {
        incident,
        summary: "github release v0.8.0 lacks darwin_arm64 & more",
        status_url: "http://127.0.0.1:8080/p/plasmite",
      }),
    );
    const json = JSON.stringify(msg);
    const blocks = msg.blocks as {
      type: string;
      text?: { text: string };
      fields?: { text: string }[];
      elements?: { text: string }[];
    }[];
    assert.equal(blocks[0]!.type, "header");
    assert.match(blocks[0]!.text!.text, /^🔴 Release drift: plasmite v0\.8\.0 · github$/);
    const fields = blocks.find((b) => b.fields)!.fields!.map((f) => f.text);
    for (const label of ["Project", "Tag", "Channel", "Finding", "Subject", "Expected", "Actual", "First seen"]) {
      assert.ok(
        fields.some((f) => f.startsWith(`*${label}*\n`)),
        `field ${label}`,
      );
    }
    assert.ok(fields.includes("*Actual*\n&lt;absent&gt;"), "mrkdwn is escaped");
    const evidence = blocks.find((b) => b.text?.text.startsWith("*Evidence*"))!.text!.text;
    assert.equal(evidence.match(/<https?:\/\/[^|>]+\|[^>]+>/g)?.length, MAX_EVIDENCE_LINKS);
    assert.match(evidence, /<https:\/\/api\.github\.com\/repos\/acme\/plasmite\/releases\/0\|api\.github\.com\/…\/0>/);
    assert.ok(json.includes("<http://127.0.0.1:8080/p/plasmite|Status page>"));
    assert.match(
      msg.text!,
      /^🔴 Release drift: github release v0\.8\.0 lacks darwin_arm64 &amp; more \(plasmite v0\.8\.0, github, asset-missing/,
    );
  });

  it("labels every kind and says what cleared on resolve", () => {
    const header = (kind: Parameters<typeof makeAlert>[0]) =>
      (buildSlackMessage(makeAlert(kind)).blocks![0] as { text: { text: string } }).text.text;
    assert.match(header("remind"), /^🔁 Reminder/);
    assert.match(header("reopen"), /^🔴 Release drift reopened/);
    assert.match(header("degraded"), /^⚠️ Registry degraded/);
    assert.match(header("recovered"), /^✅ Registry recovered/);
    const resolved = buildSlackMessage(makeAlert("resolve", { resolution: "npm now serves 0.8.0" }));
    assert.match((resolved.blocks![0] as { text: { text: string } }).text.text, /^✅ Resolved/);
    assert.ok(JSON.stringify(resolved.blocks).includes("*What cleared:* npm now serves 0.8.0"));
    assert.match(resolved.text!, /cleared: npm now serves 0\.8\.0/);
  });
});

describe("slack response classification", () => {
  const STATUS: Record<string, number> = {
    invalid_payload: 400,
    user_not_found: 400,
    no_text: 400,
    too_many_attachments: 400,
    no_service_id: 400,
    action_prohibited: 403,
    invalid_token: 403,
    posting_to_general_channel_denied: 403,
    channel_not_found: 404,
    no_service: 404,
    no_team: 404,
    no_active_hooks: 404,
    channel_is_archived: 410,
    team_disabled: 410,
  };
  it("covers every documented permanent code", () => {
    assert.deepEqual(Object.keys(STATUS).sort(), Object.keys(PERMANENT_SLACK_CODES).sort());
  });
  for (const [code, status] of Object.entries(STATUS)) {
    it(`${status} ${code} is permanent and named`, () => {
      const o = classifySlackResponse(status, `${code}\n`, {}, 0);
      assert.equal(o.ok, false);
      if (o.ok) return;
      assert.equal(o.retryable, false);
      assert.equal(o.code, code);
      assert.ok(o.reason.startsWith(code));
    });
  }
  const table: [
    string,
    number,
    string,
    Record<string, string>,
    { ok: boolean; retryable?: boolean; retryAfterMs?: number | null },
  ][] = [
    ["200 ok", 200, "ok", {}, { ok: true }],
    ["500 rollup_error", 500, "rollup_error", {}, { ok: false, retryable: true, retryAfterMs: null }],
    ["503 html", 503, "<html>busy</html>", {}, { ok: false, retryable: true }],
    ["429 Retry-After 3", 429, "rate_limited", { retryAfter: "3" }, { ok: false, retryable: true, retryAfterMs: 3000 }],
    ["429 without Retry-After", 429, "", {}, { ok: false, retryable: true, retryAfterMs: 1000 }],
    ["302 to api.slack.com", 302, "", { location: "https://api.slack.com/" }, { ok: false, retryable: false }],
    ["301", 301, "", {}, { ok: false, retryable: false }],
    ["307", 307, "", {}, { ok: false, retryable: false }],
    ["unknown 400 body", 400, "something odd", {}, { ok: false, retryable: false }],
  ];
  for (const [name, status, body, headers, want] of table) {
    it(name, () => {
      const o = classifySlackResponse(status, body, headers, 0);
      assert.equal(o.ok, want.ok);
      if (o.ok) return;
      assert.equal(o.retryable, want.retryable);
      if (want.retryAfterMs !== undefined) assert.equal(o.retryAfterMs, want.retryAfterMs);
      if (status >= 300 && status < 400) assert.match(o.reason, /redirect.*never followed/);
    });
  }
  it("reads Retry-After as an HTTP date", () => {
    const now = Date.parse("2026-03-01T12:00:00Z");
    const o = classifySlackResponse(429, "", { retryAfter: "Sun, 01 Mar 2026 12:00:05 GMT" }, now);
    assert.ok(!o.ok && o.retryAfterMs === 5000);
  });
});

describe("slack sink against the fake webhook", () => {
  let slack: FakeSlack;
  const sinks: SlackSinkInstance[] = [];
  const make = (minInterval = "0", timeoutMs = 2000) => {
    const secrets = new SecretRegistry();
    const { log, lines } = captureLogger(secrets);
    const sink = createSlackSink(slackConfig(slack.url, minInterval), { log, secrets }, { timeoutMs });
    sinks.push(sink);
    return { sink, secrets, lines, log };
  };

  before(async () => {
    slack = await startFakeSlack();
  });
  beforeEach(() => {
    slack.setMode("ok");
    slack.received.length = 0;
    slack.redirectTarget.received.length = 0;
  });
  after(async () => {
    await Promise.all(sinks.map((s) => s.close()));
    await slack.close();
  });

  it("delivers one JSON message and registers the URL as a secret", async () => {
    const { sink, secrets } = make("1s");
    assert.equal(sink.type, "slack");
    assert.equal(sink.name, "slack");
    assert.equal(sink.minIntervalMs, 1000);
    await sink.deliver(makeAlert("open"), sinkContext());
    assert.equal(slack.received.length, 1);
    const got = slack.received[0]!;
    assert.equal(got.headers["content-type"], "application/json");
    const body = got.body as { text: string; blocks: unknown[] };
    assert.match(body.text, /npm is missing plasmite 0\.8\.0/);
    assert.ok(body.blocks.length >= 3);
    assert.equal(secrets.redact(`posting to ${slack.url}`), "posting to [REDACTED]");
  });

  for (const code of Object.keys(PERMANENT_SLACK_CODES)) {
    it(`${code} answered by the server is a permanent error naming the code`, async () => {
      const { sink } = make();
      slack.setMode({ status: code === "channel_is_archived" ? 410 : 400, body: code });
      const err = await deliverError(sink);
      assert.equal(err.retryable, false);
      assert.equal(err.code, "E_SINK_PERMANENT");
      assert.ok(err.message.includes(code), err.message);
      assert.equal(slack.received.length, 1, "a permanent error is not retried by the sink");
      assertNoSecret(err, slack);
    });
  }

  for (const [mode, status] of [
    ["archived", 410],
    ["no_service", 404],
  ] as const) {
    it(`mode ${mode} (${status}) is permanent`, async () => {
      const { sink } = make();
      slack.setMode(mode);
      const err = await deliverError(sink);
      assert.equal(err.retryable, false);
      assert.ok(err.message.includes(`HTTP ${status}`));
      assertNoSecret(err, slack);
    });
  }

  it("500 rollup_error is retryable", async () => {
    const { sink } = make();
    slack.setMode("down");
    const err = await deliverError(sink);
    assert.equal(err.retryable, true);
    assert.equal(err.code, "E_SINK_RETRYABLE");
    assert.match(err.message, /rollup_error \(HTTP 500\)/);
    assert.equal(slack.received.length, 1, "the outbox retries, not the sink");
    assertNoSecret(err, slack);
  });

  it("a connection reset is retryable and does not leak the URL", async () => {
    const { sink, lines } = make();
    slack.setMode("reset");
    const err = await deliverError(sink);
    assert.equal(err.retryable, true);
    assert.match(err.message, /request failed/);
    assertNoSecret(err, slack);
    assert.ok(!lines.join("").includes(new URL(slack.url).pathname));
  });

  it("a timeout is retryable", async () => {
    const { sink } = make("0", 300);
    slack.setMode("hang");
    const err = await deliverError(sink);
    assert.equal(err.retryable, true);
    assertNoSecret(err, slack);
  });

  it("a network error (nothing listening) is retryable and does not leak the URL", async () => {
    const dead = await startFakeSlack();
    const url = dead.url;
    await dead.close();
    const secrets = new SecretRegistry();
    const sink = createSlackSink(
      slackConfig(url, "0"),
      { log: captureLogger(secrets).log, secrets },
      { timeoutMs: 1000 },
    );
    sinks.push(sink);
    try {
      await sink.deliver(makeAlert("open"), sinkContext());
      assert.fail("should fail");
    } catch (err) {
      assert.ok(err instanceof SinkError);
      assert.equal(err.retryable, true);
      const text = `${err.message}\n${inspect(err, { depth: 10, showHidden: true })}`;
      assert.ok(!text.includes(new URL(url).pathname), text);
    }
  });

  it("429 is retryable with Retry-After; the sink sends nothing more until it has passed", async () => {
    const { sink } = make();
    slack.setMode("ratelimit");
    const err = await deliverError(sink);
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterMs, 1000);
    assertNoSecret(err, slack);

    slack.setMode("ok");
    const early = await deliverError(sink);
    assert.equal(early.retryable, true);
    assert.ok(early.retryAfterMs !== null && early.retryAfterMs > 0 && early.retryAfterMs <= 1000);
    assert.equal(slack.received.length, 1, "no request while Retry-After runs");

    await new Promise((r) => setTimeout(r, early.retryAfterMs! + 20));
    await sink.deliver(makeAlert("open"), sinkContext());
    assert.equal(slack.received.length, 2);
    assert.ok(slack.received[1]!.hr - slack.received[0]!.hr >= 1000 - 15, "second request after Retry-After");
  });

  it("a 302 is a permanent misconfiguration: never followed, never retried", async () => {
    const { sink } = make();
    slack.setMode("redirect");
    const err = await deliverError(sink);
    assert.equal(err.retryable, false);
    assert.match(err.message, /HTTP 302 redirect to http:\/\/127\.0\.0\.1:\d+: the webhook URL is misconfigured/);
    assert.equal(slack.received.length, 1);
    assert.equal(slack.redirectTarget.received.length, 0, "the redirect target got no request");
    assertNoSecret(err, slack);
  });

  it("a mistyped webhook path gets Slack's 302 and fails permanently", async () => {
    const wrong = `${slack.url.replace(/\/[^/]+$/, "")}/xoxb-not-a-webhook-token`;
    const secrets = new SecretRegistry();
    const sink = createSlackSink(slackConfig(wrong, "0"), { log: captureLogger(secrets).log, secrets });
    sinks.push(sink);
    const strays = slack.strays.length;
    const err = await deliverError(sink);
    assert.equal(err.retryable, false);
    assert.equal(slack.strays.length, strays + 1);
    assert.equal(slack.redirectTarget.received.length, 0);
    assert.ok(!err.message.includes("xoxb-not-a-webhook-token"));
  });

  it("spaces two sends by at least min_interval (1 s), even when called back to back", async () => {
    const { sink } = make("1s");
    const ctx = sinkContext();
    await Promise.all([sink.deliver(makeAlert("open"), ctx), sink.deliver(makeAlert("remind"), ctx)]);
    await sink.deliver(makeAlert("resolve"), ctx);
    assert.equal(slack.received.length, 3);
    const [a, b, c] = slack.received.map((r) => r.hr);
    // Tolerance covers timer rounding only; the sink measures from the end of the previous request.
    assert.ok(b! - a! >= 1000 - 15, `gap ${b! - a!} ms`);
    assert.ok(c! - b! >= 1000 - 15, `gap ${c! - b!} ms`);
  });

  it("counts a failed request for pacing too", async () => {
    const { sink } = make("1s");
    slack.setMode("down");
    await deliverError(sink);
    slack.setMode("ok");
    await sink.deliver(makeAlert("open"), sinkContext());
    assert.equal(slack.received.length, 2);
    assert.ok(slack.received[1]!.hr - slack.received[0]!.hr >= 1000 - 15);
  });

  it("never puts a registered secret into the message body", async () => {
    const { sink, secrets } = make();
    secrets.add("tok_abcdef123456");
    await sink.deliver(makeAlert("open", { summary: "leaky tok_abcdef123456 summary" }), sinkContext());
    assert.ok(!slack.received[0]!.raw.includes("tok_abcdef123456"));
    assert.ok(slack.received[0]!.raw.includes("[REDACTED]"));
  });
});
