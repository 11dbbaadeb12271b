import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { deliverItemByItem, routeAlerts } from "../../src/alerts/rollup.ts";
import { createSink, SinkConfig } from "../../src/alerts/sinks/registry.ts";
import { buildSlackMessage } from "../../src/alerts/sinks/slack/message.ts";
import { buildAlertPayload } from "../../src/alerts/sinks/webhook/payload.ts";
import type { AlertKind, AlertMessage, Sink } from "../../src/alerts/types.ts";
import { silentLogger } from "../../src/log.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import { makeAlert, makeIncident, MemorySinkMemory, sinkContext } from "../fakes/alerts.ts";

type Draft = Omit<AlertMessage, "id">;
const draft = (
  kind: AlertKind,
  channel: "npm" | "pypi" | "crates" | "github",
  tag = "v0.8.0",
  project = "plasmite",
): Draft => {
  const { id: _id, ...d } = makeAlert(kind, { incident: makeIncident({ channel, tag, project }) });
  return d;
};
const SINKS = [
  { name: "each", group: "incident" as const },
  { name: "rolled", group: "release" as const },
];

/** Per sink: the messages it gets, as "kind:channels". */
function perSink(routed: ReturnType<typeof routeAlerts>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  routed.messages.forEach((m, i) => {
    for (const s of routed.routes[i] ?? []) {
      const chans = (m.items ?? [{ incident: m.incident }]).map((it) => it.incident.channel).join("+");
      (out[s] ??= []).push(`${m.kind}:${m.incident.tag}:${chans}`);
    }
  });
  return out;
}

describe("routeAlerts (group: incident | release)", () => {
  const cases: { name: string; drafts: Draft[]; want: Record<string, string[]> }[] = [
    {
      name: "three opens of one release: three for incident sinks, one listing them for release sinks",
      drafts: [draft("open", "npm"), draft("open", "pypi"), draft("open", "crates")],
      want: {
        each: ["open:v0.8.0:npm", "open:v0.8.0:pypi", "open:v0.8.0:crates"],
        rolled: ["open:v0.8.0:npm+pypi+crates"],
      },
    },
    {
      name: "a single open stays the plain message for everyone",
      drafts: [draft("open", "npm")],
      want: { each: ["open:v0.8.0:npm"], rolled: ["open:v0.8.0:npm"] },
    },
    {
      name: "kinds and releases are not mixed; order follows the first of each group",
      drafts: [
        draft("open", "npm"),
        draft("reopen", "github"),
        draft("open", "pypi"),
        draft("resolve", "npm", "v0.7.2"),
        draft("resolve", "pypi", "v0.7.2"),
      ],
      want: {
        each: [
          "open:v0.8.0:npm",
          "reopen:v0.8.0:github",
          "open:v0.8.0:pypi",
          "resolve:v0.7.2:npm",
          "resolve:v0.7.2:pypi",
        ],
        rolled: ["open:v0.8.0:npm+pypi", "reopen:v0.8.0:github", "resolve:v0.7.2:npm+pypi"],
      },
    },
    {
      name: "registry-degraded notices never roll up",
      drafts: [draft("degraded", "npm", "*", "*"), draft("degraded", "pypi", "*", "*")],
      want: { each: ["degraded:*:npm", "degraded:*:pypi"], rolled: ["degraded:*:npm", "degraded:*:pypi"] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(perSink(routeAlerts(c.drafts, SINKS)), c.want);
    });
  }

  it("without release sinks nothing changes: the lifecycle messages, each to every sink", () => {
    const drafts = [draft("open", "npm"), draft("open", "pypi")];
    const routed = routeAlerts(drafts, [{ name: "a" }, { name: "b", group: "incident" }]);
    assert.deepEqual(routed.messages, drafts);
    assert.deepEqual(routed.routes, [
      ["a", "b"],
      ["a", "b"],
    ]);
  });

  it("keeps every lifecycle message (history) even when only release sinks exist", () => {
    const routed = routeAlerts([draft("resolve", "npm"), draft("resolve", "pypi")], [SINKS[1]!]);
    assert.deepEqual(
      routed.routes.map((r) => r.length),
      [0, 1, 0],
    );
    assert.match(routed.messages[1]?.summary ?? "", /^plasmite v0\.8\.0: 2 incidents resolved \(npm, pypi\)$/);
  });
});

describe("rolled-up rendering", () => {
  const rolled = (kind: AlertKind): AlertMessage => {
    const r = routeAlerts([draft(kind, "npm"), draft(kind, "pypi"), draft(kind, "crates")], [SINKS[1]!]);
    return { id: "9", ...r.messages[1]! };
  };

  it("Slack: one message, a line per incident, resolutions on resolve", () => {
    const msg = buildSlackMessage(rolled("resolve"));
    const json = JSON.stringify(msg.blocks);
    assert.match(msg.text ?? "", /^✅ Resolved: plasmite v0\.8\.0: 3 incidents resolved/);
    assert.ok(json.includes("plasmite v0.8.0 · 3 incidents"));
    for (const c of ["`npm`", "`pypi`", "`crates`"]) assert.ok(json.includes(c), c);
    assert.ok(json.includes("now serves it"), "each line says what cleared it");
  });

  it("webhook: one alert@1 body listing every incident", () => {
    const p = buildAlertPayload(rolled("open"));
    assert.equal(p.rolled_up, true);
    assert.deepEqual(
      p.incidents.map((i) => i.channel),
      ["npm", "pypi", "crates"],
    );
    assert.equal(p.summary, "plasmite v0.8.0: 3 incidents opened (npm, pypi, crates)");
  });
});

describe("sinks that do not render rollups", () => {
  class Recording implements Sink {
    readonly name = "rec";
    readonly type = "rec";
    readonly minIntervalMs = 0;
    readonly got: string[] = [];
    failAt: number | null = null;
    deliver(m: AlertMessage): Promise<void> {
      if (this.got.length === this.failAt) {
        this.failAt = null;
        return Promise.reject(new Error("boom"));
      }
      this.got.push(`${m.id}:${m.incident.channel}`);
      return Promise.resolve();
    }
  }

  it("get a rolled-up message one incident at a time; a retry resumes after the items already delivered", async () => {
    const r = routeAlerts([draft("open", "npm"), draft("open", "pypi"), draft("open", "crates")], [SINKS[1]!]);
    const message: AlertMessage = { id: "7", ...r.messages[1]! };
    const sink = new Recording();
    sink.failAt = 2;
    const ctx = sinkContext(new MemorySinkMemory());
    await assert.rejects(deliverItemByItem(sink, message, ctx), /boom/);
    await deliverItemByItem(sink, message, ctx);
    assert.deepEqual(sink.got, ["7.1:npm", "7.2:pypi", "7.3:crates"]);
  });

  it("the registry gives every sink its group; slack, webhook and log render rollups themselves", () => {
    const deps = { log: silentLogger(), secrets: new SecretRegistry() };
    const mk = (entry: Record<string, unknown>) => createSink(SinkConfig.parse(entry), deps);
    const log = mk({ type: "log", group: "release" });
    assert.equal(log.group, "release");
    assert.equal(log.rendersRollups, true);
    assert.equal(mk({ type: "log" }).group, "incident");
    const hook = mk({ type: "webhook", url: "https://hooks.example/h", group: "release" });
    assert.equal(hook.rendersRollups, true);
    const r = SinkConfig.safeParse({ type: "log", group: "cycle" });
    assert.equal(r.success, false);
    assert.ok(!r.success && r.error.issues.some((i) => i.path.includes("group")));
  });
});
