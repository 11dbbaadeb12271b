/**
 * Provenance in the daemon (issue 13): `monitor watch` as a real child process against the sim, alerts on the fake
 * Slack webhook. A `provenance-downgrade` is an incident even under the default `warn` policy (its severity in the
 * alert text); `required` makes provenance findings drift that alert like any finding.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { HOUR, Scene, sceneFactory } from "./harness.ts";

const scene = sceneFactory();

describe("daemon: provenance alerts (real monitor watch, fake Slack)", { timeout: 90_000 }, () => {
  it("a hand-published npm version (downgrade under warn) alerts once, and resolves when a fully attested release supersedes it", async () => {
    const s = await scene();
    s.scenario("provenance-hand-published");
    s.writeConfig({ projects: [Scene.plasmite()], sinks: ["slack"], flapCycles: 1 });
    const d = s.startDaemon();
    await s.until(() => s.slackDelivered().some((a) => a.kind === "open"), "the downgrade alert");
    const opened = s.slackDelivered().filter((a) => a.kind === "open");
    assert.equal(opened.length, 1, JSON.stringify(opened));
    // The daemon's npm registry is the sim, not npm's default registry: lost provenance rests on an absence a mirror
    // may cause (mirror_absence: unknown), the lost trusted publisher (the packument's _npmUser) does not.
    assert.match(opened[0]?.text ?? "", /npm 0\.8\.0 lost trusted publisher that 0\.7\.2 had \(severity: warning\)/);
    assert.match(opened[0]?.text ?? "", /severity: warning/);
    const incidents = s.withState((st) => st.openIncidents());
    assert.deepEqual(
      incidents.map((i) => [i.channel, i.code, i.severity]),
      [["npm", "provenance-downgrade", "warning"]],
      "the other npm provenance findings are warnings, not incidents",
    );
    // The report keeps npm ok (warnings weigh nothing) while its provenance verdict is drift.
    const report = s.withState((st) => st.latestReport("plasmite"));
    assert.equal(report?.channels.find((c) => c.channel === "npm")?.status, "ok");
    assert.equal(report?.provenance?.channels.find((c) => c.channel === "npm")?.status, "drift");

    // Steady cycles: the incident stays open and nothing is sent again.
    const seen = s.cycles();
    await s.until(() => s.cycles() >= seen + 3, "three more cycles");
    assert.equal(s.slackDelivered().length, 1, "alerted once");

    // The fix for an immutable npm version: the next release, published by the release workflow with provenance.
    s.sim.world.publish("plasmite", "0.8.1", { publishedAt: Date.now() - HOUR });
    await s.until(() => s.slackDelivered().some((a) => a.kind === "resolve"), "the resolve alert");
    const kinds = s.slackDelivered().map((a) => a.kind);
    assert.deepEqual(kinds, ["open", "resolve"]);
    assert.deepEqual(
      s.withState((st) => st.openIncidents()),
      [],
    );
    const next = s.withState((st) => st.latestReport("plasmite"));
    assert.equal(next?.tag, "v0.8.1");
    assert.equal(next?.provenance?.status, "ok", JSON.stringify(next?.provenance));
    assert.equal(await d.stop(), 0);
  });

  it("under policy required, a GitHub attestation from another workflow is drift and alerts like any finding", async () => {
    const s = await scene();
    s.scenario("provenance-other-workflow");
    s.writeConfig({
      projects: [Scene.plasmite({ provenance: { policy: { github: "required" } } })],
      sinks: ["slack"],
      flapCycles: 1,
    });
    const d = s.startDaemon();
    await s.until(() => s.slackDelivered().some((a) => a.kind === "open"), "the drift alerts");
    const report = s.withState((st) => st.latestReport("plasmite"));
    const github = report?.channels.find((c) => c.channel === "github");
    assert.equal(github?.status, "drift");
    const codes = new Set(github?.findings.filter((f) => f.severity === "drift").map((f) => f.code));
    assert.ok(codes.has("provenance-workflow-mismatch"), JSON.stringify([...codes]));
    await s.until(
      () => s.withState((st) => st.openIncidents()).every((i) => i.opened_at !== null) && s.slack.received.length > 0,
      "incidents open",
    );
    const open = s.withState((st) => st.openIncidents());
    assert.ok(open.length > 0);
    assert.ok(
      open.every((i) => i.channel === "github" && i.code.startsWith("provenance-") && i.severity === undefined),
      JSON.stringify(open.map((i) => [i.channel, i.code, i.severity])),
    );
    assert.equal(await d.stop(), 0);
  });
});
