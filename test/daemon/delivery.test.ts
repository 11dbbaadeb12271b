import { strict as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";
import { stateDbPath } from "../../src/state/sqlite.ts";
import { Scene, TOKEN, sceneFactory, publishHiddenOn, HOUR } from "./harness.ts";

const scene = sceneFactory();

const missingOn = (s: Scene, channels: ("npm" | "pypi")[]) => publishHiddenOn(s, Date.now() - 2 * HOUR, channels);

describe("monitor watch (child process): durable alert delivery", () => {
  it("Slack down (500, then 429) for several cycles: every alert arrives after recovery, in order, none lost, none duplicated", async () => {
    const s = await scene();
    missingOn(s, ["npm"]);
    s.slack.setMode("down");
    s.writeConfig({ projects: [Scene.plasmite()], flapCycles: 2 });
    const daemon = s.startDaemon();

    await s.until(() => s.slack.received.filter((r) => r.status === 500).length >= 3, "three failed Slack attempts");
    await s.until(() => s.ergoTasks().length === 1, "the ergo task (another sink is not held up by Slack)");

    // The fix lands while Slack is still down: the resolve queues behind the open.
    s.sim.world.setHidden("npm", "plasmite", "0.8.0", false);
    await s.until(
      async () => (await s.withState(async (st) => await st.messageCount("resolve"))) === 1,
      "the resolve enqueued",
    );
    await s.until(() => s.ergoTasks()[0]?.state === "done", "the ergo task done");

    s.slack.setMode("ratelimit");
    await s.until(() => s.slack.received.some((r) => r.status === 429), "a 429 from Slack");
    s.slack.setMode("ok");
    await s.until(() => s.slackDelivered().length === 2, "both alerts delivered");
    const settled = await s.cycles();
    await s.until(async () => (await s.cycles()) >= settled + 2, "two more cycles");
    assert.equal(await daemon.stop(), 0);

    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["open", "resolve"],
      "in order, once each",
    );
    const rows = await s.withState(async (st) => await st.outboxRows({ sink: "slack" }));
    assert.deepEqual(
      rows.map((r) => [r.message.kind, r.state]),
      [
        ["open", "sent"],
        ["resolve", "sent"],
      ],
    );
    assert.ok((rows[0]?.attempts ?? 0) >= 4, `the open alert was retried (${rows[0]?.attempts} attempts)`);
    assert.equal(s.ergoTasks().length, 1);
    const failed = s.slack.received.filter((r) => r.status !== 200);
    assert.ok(failed.every((r) => (r.body as { text?: string }).text?.includes("npm has no plasmite@0.8.0")));

    const logs = JSON.stringify(daemon.logs);
    assert.ok(logs.includes("alert delivery failed; will retry"), "the failures were logged");
    const webhookSecret = new URL(s.slack.url).pathname.split("/").at(-1) ?? "";
    assert.ok(webhookSecret.length > 10 && !logs.includes(webhookSecret), "the webhook URL never reaches the logs");
    assert.ok(!logs.includes(TOKEN), "the GitHub token never reaches the logs");
  });

  it("kill -9 during delivery: the restart delivers the rest, state intact, no duplicate ergo tasks", async () => {
    const s = await scene();
    missingOn(s, ["npm", "pypi"]);
    s.slack.setMode("hang");
    s.writeConfig({ projects: [Scene.plasmite()], flapCycles: 2 });
    const first = s.startDaemon();
    await s.until(
      () => s.slack.received.length === 1 && s.ergoTasks().length === 2,
      "a Slack delivery in flight, both ergo tasks filed",
    );
    assert.deepEqual(
      await s.withState(async (st) => (await st.outboxRows({ sink: "slack", state: "pending" })).length),
      2,
    );
    await first.kill9();

    const db = new DatabaseSync(stateDbPath(s.dir, "state"));
    assert.equal((db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok");
    db.close();

    s.slack.setMode("ok");
    const second = s.startDaemon();
    await s.until(() => s.slackDelivered().length === 2, "both alerts delivered after the restart");
    const settled = await s.cycles();
    await s.until(async () => (await s.cycles()) >= settled + 2, "two more cycles");
    assert.equal(await second.stop(), 0);

    const delivered = s.slackDelivered();
    assert.deepEqual(
      delivered.map((a) => a.kind),
      ["open", "open"],
    );
    assert.equal(new Set(delivered.map((a) => a.text)).size, 2, "one npm alert and one pypi alert, none twice");
    assert.equal(s.ergoTasks().length, 2, "the restart did not file the tasks again");
    assert.deepEqual(await s.withState(async (st) => (await st.openIncidents()).map((i) => `${i.channel} ${i.code}`)), [
      "npm version-missing",
      "pypi version-missing",
    ]);
    assert.equal(await s.withState(async (st) => (await st.outboxRows({ state: "pending" })).length), 0);
  });
});
