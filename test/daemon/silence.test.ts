import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { Scene, sceneFactory, publishHiddenOn, HOUR } from "./harness.ts";

const scene = sceneFactory();

const npmMissing = (s: Scene, publishedAt: number) => publishHiddenOn(s, publishedAt, ["npm"]);

describe("monitor silence + monitor watch (child processes)", () => {
  it("monitor silence (written while the daemon runs) mutes alerts, not state; --list marks expired ones; --remove lifts it", async () => {
    const s = await scene();
    npmMissing(s, Date.now() - 2 * HOUR);
    s.writeConfig({ projects: [Scene.plasmite()], flapCycles: 1, sinks: ["slack"] });
    const add = await s.cli([
      "silence",
      "plasmite",
      "--channel",
      "npm",
      "--for",
      "1h",
      "--reason",
      "npm outage",
      "--config",
      s.configPath,
      "--json",
    ]);
    assert.equal(add.code, 0, JSON.stringify(add.logs));
    const silence = JSON.parse(add.stdout) as { id: number; channel: string; active: boolean };
    assert.deepEqual([silence.channel, silence.active], ["npm", true]);

    const daemon = s.startDaemon();
    await s.until(
      async () => await s.withState(async (st) => (await st.openIncidents()).length === 1),
      "the npm incident open",
    );
    const opened = await s.cycles();
    // A second writer while the daemon runs (WAL + busy timeout).
    const brief = await s.cli(["silence", "*", "--for", "1s", "--config", s.configPath]);
    assert.equal(brief.code, 0);
    const until = /^silenced every project for 1s, until (\S+) \(id 2\)\n$/.exec(brief.stdout)?.[1];
    assert.ok(until, brief.stdout);
    await s.until(async () => (await s.cycles()) >= opened + 2, "two more cycles");
    assert.deepEqual(s.slack.received, [], "muted");

    await s.until(() => Date.now() > Date.parse(until), "the 1s silence to expire", 5_000);
    const list = await s.cli(["silence", "--list", "--config", s.configPath]);
    assert.match(list.stdout, /^2\s+\*\s+\*\s+\S+\s+expired\s*$/m);
    assert.match(list.stdout, /^1\s+plasmite\s+npm\s+\S+\s+active \(\S+ left\)\s+npm outage$/m);

    const removed = await s.cli(["silence", "--remove", String(silence.id), "--config", s.configPath]);
    assert.equal(removed.code, 0);
    await s.until(() => s.slackDelivered().length === 1, "the opening announced once the silence is gone");
    assert.deepEqual(
      s.slackDelivered().map((a) => a.kind),
      ["open"],
    );
    assert.equal(await daemon.stop(), 0);
    const bad = await s.cli(["silence", "nope", "--for", "1h", "--config", s.configPath]);
    assert.equal(bad.code, 2, "unknown project is a usage error");
  });
});
