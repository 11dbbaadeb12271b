import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { Scene, sceneFactory, publishHiddenOn } from "./harness.ts";

const scene = sceneFactory();

const npmMissing = (s: Scene, publishedAt: number) => publishHiddenOn(s, publishedAt, ["npm"]);

describe("monitor watch (child process): alert lifecycle", () => {
  it("a partial release gives one Slack alert and one ergo task after the grace window; the fix resolves both; a restart duplicates nothing", async () => {
    const s = await scene();
    npmMissing(s, Date.now());
    // The window is long enough that no daemon start-up, however slow, outlives it; the test ends it below.
    s.writeConfig({ projects: [Scene.plasmite()], grace: "1h", flapCycles: 2 });
    const first = s.startDaemon();

    // Inside the grace window npm is pending: nothing is sent.
    await s.until(
      async () =>
        await s.withState(
          async (st) =>
            (await st.latestReport("plasmite"))?.channels.find((c) => c.channel === "npm")?.status === "pending",
        ),
      "npm pending inside the grace window",
    );
    assert.deepEqual(s.slack.received, []);

    // The grace window ends: the release was published two hours ago.
    s.sim.world.setReleasePublishedAt("plasmite", "0.8.0", Date.now() - 2 * 3_600_000);
    await s.until(
      () => s.slackDelivered().length >= 1 && s.ergoTasks().length >= 1,
      "the open alert on Slack and ergo",
    );
    const opened = await s.cycles();
    await s.until(async () => (await s.cycles()) >= opened + 2, "two more cycles");
    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["open"],
      "one alert, not one per cycle",
    );
    assert.match(s.slackDelivered()[0]?.text ?? "", /npm has no plasmite@0\.8\.0/);
    const tasks = s.ergoTasks();
    assert.equal(tasks.length, 1);
    assert.notEqual(tasks[0]?.state, "done");
    const incident = await s.withState(async (st) => await st.openIncidents());
    assert.deepEqual(
      incident.map((i) => i.id),
      ["plasmite|v0.8.0|npm|version-missing|0.8.0"],
    );

    // The fix: npm gets 0.8.0.
    s.sim.world.setHidden("npm", "plasmite", "0.8.0", false);
    await s.until(
      () => s.slackDelivered().some((a) => a.kind === "resolve") && s.ergoTasks()[0]?.state === "done",
      "the resolve message and the ergo task done",
    );
    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["open", "resolve"],
    );
    assert.equal(
      await s.withState(
        async (st) => (await st.channelStates("plasmite", "v0.8.0")).find((c) => c.channel === "npm")?.live_at !== null,
      ),
      true,
    );

    // Graceful stop (SIGTERM -> exit 0), then a restart: no duplicate alerts, no duplicate tasks.
    assert.equal(await first.stop(), 0);
    const before = await s.cycles();
    const second = s.startDaemon();
    await s.until(async () => (await s.cycles()) >= before + 2, "two cycles after the restart");
    assert.equal(await second.stop(), 0);
    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["open", "resolve"],
    );
    assert.equal(s.ergoTasks().length, 1);
    assert.equal(s.slack.received.length, 2, "no Slack request at all after the restart");
  });

  it("a flapping channel gives no alert (watch --once, one cycle per run)", async () => {
    const s = await scene();
    s.scenario("clean");
    s.writeConfig({ projects: [Scene.plasmite()], flapCycles: 2 });
    const hidden = (yes: boolean) => s.sim.world.setHidden("npm", "plasmite", "0.8.0", yes);
    for (const flap of [true, false, true, false]) {
      hidden(flap);
      const run = await s.once();
      assert.equal(run.code, 0, JSON.stringify(run.logs.slice(-5)));
    }
    assert.equal(await s.cycles(), 4);
    assert.deepEqual(s.slack.received, []);
    assert.deepEqual(s.ergoTasks(), []);
    assert.deepEqual(
      await s.withState(async (st) => await st.incidents("plasmite")),
      [],
      "cleared candidates leave nothing behind",
    );

    // Control: the same finding in two consecutive cycles does alert.
    hidden(true);
    await s.once();
    assert.deepEqual(s.slack.received, []);
    await s.once();
    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["open"],
    );
    assert.equal(s.ergoTasks().length, 1);
  });
});
