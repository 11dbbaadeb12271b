import { strict as assert } from "node:assert";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { advanceIncidents } from "../../src/alerts/lifecycle.ts";
import { OutboxDelivery, type DeliveryEvent } from "../../src/alerts/outbox.ts";
import { closeSink, createSink, SinkConfig } from "../../src/alerts/sinks/registry.ts";
import { ALERT_SCHEMA, type AlertPayload } from "../../src/alerts/sinks/webhook/webhook-sink.ts";
import type { Sink } from "../../src/alerts/types.ts";
import type { Logger } from "../../src/log.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import { openStateStore } from "../../src/state/sqlite.ts";
import type { StateStore } from "../../src/state/types.ts";
import { captureLogger } from "../fakes/alerts.ts";
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from "../fakes/webhook-receiver.ts";
import { sampleCommit, sampleReport, T0 } from "../state/samples.ts";

const SECRET = "whsec_0123456789abcdefSECRET";
const dirs: string[] = [];
const receivers: WebhookReceiver[] = [];
after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function receiver(): Promise<WebhookReceiver> {
  const rx = await startWebhookReceiver();
  receivers.push(rx);
  return rx;
}

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), "webhook-sink-"));
  dirs.push(d);
  return d;
}

/** A webhook sink built the way the daemon builds it: parsed config entry, registry factory, shared secrets. */
function webhook(url: string, over: Record<string, unknown> = {}) {
  const secrets = new SecretRegistry();
  const { log, lines } = captureLogger(secrets);
  const config = SinkConfig.parse({ type: "webhook", url, secret: SECRET, ...over });
  const sink = createSink(config, { log, secrets });
  return { sink, log, lines, secrets };
}

function delivery(store: StateStore, sink: Sink, log: Logger) {
  const events: DeliveryEvent[] = [];
  const outbox = new OutboxDelivery({
    store,
    sinks: [sink],
    log,
    retryBaseMs: 20,
    retryMaxMs: 100,
    idlePollMs: 20,
    onDelivery: (e) => events.push(e),
  });
  return { outbox, events };
}

/** Runs the real lifecycle on report n (npm drift or ok) and commits its messages to the store, as a cycle does. */
function cycle(store: StateStore, n: number, npm: "drift" | "ok", sinks: string[]): string[] {
  const report = sampleReport(n, new Date(T0 + n * 1000).toISOString(), npm);
  const next = advanceIncidents({
    previous: store.incidents("plasmite"),
    report,
    silences: [],
    policy: { flap_cycles: 1, remind_every_ms: 1000 },
    now: new Date(T0 + n * 1000),
  });
  store.commitCycle(sampleCommit(n, sinks, { report, incidents: next.incidents, messages: next.messages }));
  return next.messages.map((m) => m.kind);
}

/** What a receiver does: recompute the HMAC over the raw bytes and compare in constant time. */
function signatureValid(r: ReceivedRequest, secret: string): boolean {
  const header = r.headers["x-release-monitor-signature"];
  if (typeof header !== "string" || !header.startsWith("sha256=")) return false;
  const want = createHmac("sha256", secret).update(r.raw).digest();
  const got = Buffer.from(header.slice("sha256=".length), "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}

const payload = (r: ReceivedRequest) => r.body as AlertPayload;

describe("webhook sink against a loopback receiver", () => {
  it("open, remind, resolve, reopen: one signed alert@1 POST each, in order", async () => {
    const rx = await receiver();
    const store = openStateStore(join(stateDir(), "monitor.db"));
    const { sink, log } = webhook(rx.url);
    const { outbox } = delivery(store, sink, log);
    try {
      assert.deepEqual(cycle(store, 0, "drift", ["webhook"]), ["open"]);
      assert.deepEqual(cycle(store, 2, "drift", ["webhook"]), ["remind"]);
      assert.deepEqual(cycle(store, 3, "ok", ["webhook"]), ["resolve"]);
      assert.deepEqual(cycle(store, 4, "drift", ["webhook"]), ["reopen"]);
      assert.equal(await outbox.flush(5_000), true);
    } finally {
      await outbox.stop();
      await closeSink(sink);
      store.close();
    }
    assert.deepEqual(
      rx.received.map((r) => payload(r).kind),
      ["open", "remind", "resolve", "reopen"],
    );
    for (const r of rx.received) {
      assert.ok(signatureValid(r, SECRET), "the signature verifies over the exact body bytes");
      assert.ok(!signatureValid(r, `${SECRET}x`), "and not with another key");
      assert.equal(r.headers["content-type"], "application/json");
      const p = payload(r);
      assert.equal(p.schema, ALERT_SCHEMA);
      assert.equal(r.headers["x-release-monitor-event"], p.kind);
      assert.equal(r.headers["x-release-monitor-delivery"], p.id);
      assert.equal(p.rolled_up, false);
      assert.equal(p.project, "plasmite");
      assert.equal(p.tag, "v0.8.0");
      assert.equal(p.incidents.length, 1);
      assert.equal(p.incidents[0]?.channel, "npm");
      assert.equal(p.incidents[0]?.code, "version-missing");
    }
    const [open, , resolve, reopen] = rx.received.map(payload);
    assert.equal(open?.incidents[0]?.state, "open");
    assert.equal(resolve?.incidents[0]?.state, "resolved");
    assert.match(resolve?.incidents[0]?.resolution ?? "", /fixed: npm is now ok/);
    assert.equal(reopen?.incidents[0]?.reopen_count, 1);
    assert.equal(new Set(rx.received.map((r) => payload(r).id)).size, 4, "every message has its own id");
  });

  it("a 500 is retried through the outbox with backoff; the retry sends the same bytes; then sent", async () => {
    const rx = await receiver();
    rx.script(500, 503);
    const store = openStateStore(join(stateDir(), "monitor.db"));
    const { sink, log } = webhook(rx.url);
    const { outbox, events } = delivery(store, sink, log);
    try {
      cycle(store, 0, "drift", ["webhook"]);
      assert.equal(await outbox.flush(5_000), true);
    } finally {
      await outbox.stop();
      await closeSink(sink);
    }
    assert.deepEqual(
      rx.received.map((r) => r.status),
      [500, 503, 200],
    );
    assert.deepEqual(
      events.map((e) => e.outcome),
      ["retry", "retry", "sent"],
    );
    assert.match(events[0]?.error ?? "", /webhook sink "webhook": HTTP 500/);
    const first = rx.received[0]!;
    assert.ok(
      rx.received.every((r) => r.raw.equals(first.raw)),
      "retries repeat the exact body",
    );
    const [row] = store.outboxRows({ sink: "webhook" });
    assert.equal(row?.state, "sent");
    assert.equal(row?.attempts, 3);
    store.close();
  });

  it("no answer within `timeout`: the attempt fails, the outbox retries, the next answer is taken", async () => {
    const rx = await receiver();
    rx.script("hang");
    const store = openStateStore(join(stateDir(), "monitor.db"));
    const { sink, log } = webhook(rx.url, { timeout: "300ms" });
    const { outbox, events } = delivery(store, sink, log);
    try {
      cycle(store, 0, "drift", ["webhook"]);
      assert.equal(await outbox.flush(10_000), true);
    } finally {
      await outbox.stop();
      await closeSink(sink);
      store.close();
    }
    assert.deepEqual(
      events.map((e) => e.outcome),
      ["retry", "sent"],
    );
    assert.match(events[0]?.error ?? "", /no answer within 300ms/);
    assert.deepEqual(
      rx.received.map((r) => r.status),
      [null, 200],
    );
  });

  it("a 404 is permanent: dead-lettered, not retried, and the next alert still goes out", async () => {
    const rx = await receiver();
    rx.script(404);
    const store = openStateStore(join(stateDir(), "monitor.db"));
    const { sink, log } = webhook(rx.url);
    const { outbox, events } = delivery(store, sink, log);
    try {
      cycle(store, 0, "drift", ["webhook"]);
      cycle(store, 1, "ok", ["webhook"]);
      assert.equal(await outbox.flush(5_000), true);
    } finally {
      await outbox.stop();
      await closeSink(sink);
    }
    assert.deepEqual(
      events.map((e) => [e.kind, e.outcome]),
      [
        ["open", "dead"],
        ["resolve", "sent"],
      ],
    );
    assert.match(events[0]?.error ?? "", /HTTP 404: the receiver refused the alert; not retried/);
    store.close();
  });

  it("restart: re-opening the state store sends nothing already delivered, then only what is new", async () => {
    const rx = await receiver();
    const path = join(stateDir(), "monitor.db");
    const run = async (enqueue: (store: StateStore) => void) => {
      const store = openStateStore(path);
      const { sink, log } = webhook(rx.url);
      const { outbox } = delivery(store, sink, log);
      try {
        enqueue(store);
        assert.equal(await outbox.flush(5_000), true);
      } finally {
        await outbox.stop();
        await closeSink(sink);
        store.close();
      }
    };
    await run((store) => cycle(store, 0, "drift", ["webhook"]));
    assert.equal(rx.received.length, 1);
    await run(() => undefined);
    assert.equal(rx.received.length, 1, "no second POST for the delivered row");
    await run((store) => cycle(store, 1, "ok", ["webhook"]));
    assert.deepEqual(
      rx.received.map((r) => payload(r).kind),
      ["open", "resolve"],
    );
  });

  it("the URL's token and the HMAC secret reach neither the logs nor the state database", async () => {
    const rx = await receiver();
    rx.script(500, "hang", 404);
    const dir = stateDir();
    const store = openStateStore(join(dir, "monitor.db"));
    const { sink, log, lines } = webhook(rx.url, { timeout: "300ms" });
    const { outbox, events } = delivery(store, sink, log);
    try {
      cycle(store, 0, "drift", ["webhook"]);
      cycle(store, 1, "ok", ["webhook"]);
      assert.equal(await outbox.flush(10_000), true);
    } finally {
      await outbox.stop();
      await closeSink(sink);
      store.close();
    }
    assert.deepEqual(
      events.map((e) => e.outcome),
      ["retry", "retry", "dead", "sent"],
    );
    const logs = lines.join("\n");
    assert.ok(logs.includes("alert delivery failed; will retry") && logs.includes("alert dead-lettered"));
    for (const secret of [rx.token, SECRET, rx.url]) {
      assert.ok(!logs.includes(secret), "a secret reached the logs");
      for (const file of readdirSync(dir)) {
        assert.ok(!readFileSync(join(dir, file)).includes(secret), `a secret reached ${file}`);
      }
    }
  });

  it("without `secret` no signature header is sent", async () => {
    const rx = await receiver();
    const secrets = new SecretRegistry();
    const { log } = captureLogger(secrets);
    const sink = createSink(SinkConfig.parse({ type: "webhook", url: rx.url }), { log, secrets });
    const store = openStateStore(":memory:");
    const { outbox } = delivery(store, sink, log);
    try {
      cycle(store, 0, "drift", [sink.name]);
      assert.equal(await outbox.flush(5_000), true);
    } finally {
      await outbox.stop();
      await closeSink(sink);
      store.close();
    }
    assert.equal(rx.received.length, 1);
    assert.equal(rx.received[0]?.headers["x-release-monitor-signature"], undefined);
  });

  it("config: url must be http(s), secret at least 16 characters, timeout above 0; errors name the field", () => {
    const bad = [
      [{ url: "ftp://x.example/h" }, "url"],
      [{ url: "https://x.example/h", secret: "short" }, "secret"],
      [{ url: "https://x.example/h", timeout: "0" }, "timeout"],
      [{ url: "https://x.example/h", extra: 1 }, ""],
    ] as const;
    for (const [over, field] of bad) {
      const r = SinkConfig.safeParse({ type: "webhook", ...over });
      assert.equal(r.success, false, JSON.stringify(over));
      if (field !== "")
        assert.ok(
          r.error.issues.some((i) => i.path.includes(field)),
          field,
        );
    }
    const ok = SinkConfig.parse({ type: "webhook", url: "https://x.example/h" });
    assert.deepEqual(ok, {
      type: "webhook",
      name: "webhook",
      url: "https://x.example/h",
      timeout: "10s",
      min_interval: "0",
      group: "incident",
    });
  });
});
