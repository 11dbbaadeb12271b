import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { closeSink, createSink, SinkConfig, SINKS } from "../../src/alerts/sinks/registry.ts";
import { createLogSink } from "../../src/alerts/sinks/log/log-sink.ts";
import type { AlertKind } from "../../src/alerts/types.ts";
import { silentLogger } from "../../src/log.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import { captureLogger, makeAlert, sinkContext } from "../fakes/alerts.ts";

describe("sink registry", () => {
  it("has one definition per sink type, and the config union is built from them", () => {
    assert.deepEqual(SINKS.map((d) => d.type).sort(), ["ergo", "github-issue", "log", "slack", "webhook"]);
    assert.deepEqual(SinkConfig.options.map((o) => o.shape.type.value).sort(), [
      "ergo",
      "github-issue",
      "log",
      "slack",
      "webhook",
    ]);
  });

  it("builds each sink from its parsed config", async () => {
    const deps = { log: silentLogger(), secrets: new SecretRegistry() };
    const configs = [
      { type: "slack", webhook_url: "https://hooks.slack.example/services/T000/B000/XXXXXXXXXXXX" },
      { type: "ergo", repo_dir: "/tmp", name: "blockers" },
      { type: "log" },
    ].map((c) => SinkConfig.parse(c));
    const sinks = configs.map((c) => createSink(c, deps));
    assert.deepEqual(
      sinks.map((s) => [s.type, s.name, s.minIntervalMs]),
      [
        ["slack", "slack", 1000],
        ["ergo", "blockers", 0],
        ["log", "log", 0],
      ],
    );
    assert.equal(deps.secrets.redact("https://hooks.slack.example/services/T000/B000/XXXXXXXXXXXX"), "[REDACTED]");
    await Promise.all(sinks.map((s) => closeSink(s)));
  });
});

describe("log sink", () => {
  const levels: [AlertKind, number][] = [
    ["open", 40],
    ["reopen", 40],
    ["degraded", 40],
    ["remind", 30],
    ["resolve", 30],
    ["recovered", 30],
  ];
  for (const [kind, level] of levels) {
    it(`${kind} is one line at level ${level === 40 ? "warn" : "info"}`, async () => {
      const secrets = new SecretRegistry();
      const { log, lines } = captureLogger(secrets);
      const sink = createLogSink(SinkConfig.parse({ type: "log" }) as { type: "log"; name: string }, { log, secrets });
      const msg = makeAlert(kind);
      await sink.deliver(msg, sinkContext());
      assert.equal(lines.length, 1);
      const line = JSON.parse(lines[0]!) as { level: number; msg: string; alert: Record<string, unknown> };
      assert.equal(line.level, level);
      assert.equal(line.msg, `alert ${kind}: ${msg.summary}`);
      assert.equal(line.alert["incident"], msg.incident.id);
      assert.equal(line.alert["kind"], kind);
      assert.equal(line.alert["channel"], "npm");
    });
  }
});
