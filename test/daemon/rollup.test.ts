import { strict as assert } from "node:assert";
import { createHmac, timingSafeEqual } from "node:crypto";
import { after, describe, it } from "node:test";
import type { AlertPayload } from "../../src/alerts/sinks/webhook/payload.ts";
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from "../fakes/webhook-receiver.ts";
import { HOUR, Scene, TOKEN, publishHiddenOn, sceneFactory } from "./harness.ts";

const scene = sceneFactory();
const SECRET = "whsec_rollup_0123456789abcdef";
const receivers: WebhookReceiver[] = [];
after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

function signed(r: ReceivedRequest): boolean {
  const header = r.headers["x-release-monitor-signature"];
  if (typeof header !== "string") return false;
  const want = createHmac("sha256", SECRET).update(r.raw).digest();
  const got = Buffer.from(header.replace(/^sha256=/, ""), "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}

/** plasmite 0.8.0 missing on npm, PyPI and crates.io: three incidents that open in the same cycle. */
async function threeMissing(group: "incident" | "release") {
  const s = await scene();
  const rx = await startWebhookReceiver();
  receivers.push(rx);
  publishHiddenOn(s, Date.now() - 2 * HOUR, ["npm", "pypi"]);
  s.sim.world.setHidden("crates", "plasmite", "0.8.0", true);
  s.writeConfig({
    projects: [Scene.plasmite()],
    flapCycles: 1,
    sinks: ["slack", "webhook"],
    group,
    webhook: { url: rx.url, secret: SECRET },
  });
  return { s, rx };
}

const webhookKinds = (rx: WebhookReceiver) =>
  rx.received.map((r) => {
    const p = r.body as AlertPayload;
    return `${p.kind}:${p.incidents.map((i) => i.channel).join("+")}`;
  });

describe("monitor watch --once: rolled-up notifications (group)", () => {
  it("group: release — three incidents opening in one cycle are ONE Slack message and ONE webhook call; their resolves too", async () => {
    const { s, rx } = await threeMissing("release");
    const first = await s.once();
    assert.equal(first.code, 0);
    assert.equal(
      s.withState((st) => st.incidents("plasmite").filter((i) => i.state === "open").length),
      3,
    );

    const slack = s.slackDelivered();
    assert.deepEqual(
      slack.map((a) => a.kind),
      ["open"],
      "one Slack message, not three",
    );
    for (const c of ["npm", "pypi", "crates"]) assert.ok(slack[0]?.text.includes(c), `the message lists ${c}`);
    assert.match(slack[0]?.text ?? "", /3 incidents opened/);
    assert.deepEqual(webhookKinds(rx), ["open:crates+npm+pypi"], "one webhook call listing the three");
    const open = rx.received[0]!;
    assert.ok(signed(open), "signed with the configured secret");
    assert.equal((open.body as AlertPayload).rolled_up, true);

    for (const c of ["npm", "pypi", "crates"] as const) s.sim.world.setHidden(c, "plasmite", "0.8.0", false);
    const second = await s.once();
    assert.equal(second.code, 0);
    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["open", "resolve"],
    );
    assert.deepEqual(webhookKinds(rx), ["open:crates+npm+pypi", "resolve:crates+npm+pypi"]);
    assert.ok(rx.received.every(signed));

    const rows = s.withState((st) => st.outboxRows());
    assert.deepEqual(
      rows.map((r) => [r.sink, r.message.kind, r.message.items?.length ?? 1, r.state]),
      [
        ["slack", "open", 3, "sent"],
        ["webhook", "open", 3, "sent"],
        ["slack", "resolve", 3, "sent"],
        ["webhook", "resolve", 3, "sent"],
      ],
      "one outbox row per sink per release per cycle",
    );
    const logs = JSON.stringify([...first.logs, ...second.logs]);
    for (const secret of [rx.token, SECRET, TOKEN]) assert.ok(!logs.includes(secret), "no secret in the logs");
  });

  it("group: incident (the default) — the same cycle sends three Slack messages and three webhook calls", async () => {
    const { s, rx } = await threeMissing("incident");
    assert.equal((await s.once()).code, 0);
    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["open", "open", "open"],
    );
    assert.deepEqual(webhookKinds(rx).sort(), ["open:crates", "open:npm", "open:pypi"]);
    assert.ok(rx.received.every((r) => signed(r) && (r.body as AlertPayload).rolled_up === false));
  });
});
