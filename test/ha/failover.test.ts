/**
 * Failover: three `monitor watch` replicas on one PostgreSQL state, 30 projects drifting in three waves, a fake
 * Slack receiver. Each wave, one replica is killed with SIGKILL (the first while its cycles run, the next two while
 * a Slack delivery it started is in flight), then restarted with the same replica id. Afterwards every incident
 * was alerted once (at most one duplicate per kill), none was lost, the outbox drained, and every takeover of a
 * killed replica's lease came within 2 × lease_ttl of its last renewal, by the database's clock (lease_events).
 * The figures are printed as one JSON line (the bench and docs/deploy.md quote them).
 */
import { strict as assert } from "node:assert";
import { after, test } from "node:test";
import { HaScene } from "./harness.ts";

const TTL_MS = 3_000;
const REPLICAS = ["r1", "r2", "r3"];
let scene: HaScene | null = null;
after(async () => {
  await scene?.close();
});

test(
  "three replicas, 30 drifting projects, three kill -9s: every incident alerted, none lost, fast takeover",
  { timeout: 600_000 },
  async () => {
    const s = (scene = await HaScene.start({ projects: 30, ttl: `${TTL_MS}ms`, renew: "500ms" }));
    for (const id of REPLICAS) s.startReplica(id);
    await s.until(
      async () => [...(await s.owners()).values()].filter((o) => o !== null).length === 30,
      "all 30 leases owned",
      120_000,
    );
    await s.until(
      async () => new Set((await s.owners()).values()).size === 3,
      "leases spread over the three replicas",
      60_000,
    );

    const waves = [s.projects.slice(0, 10), s.projects.slice(10, 20), s.projects.slice(20, 30)];
    const figures: { kind: string; replica: string; takeoverMs: number; dbMs: number }[] = [];
    for (const [i, wave] of waves.entries()) {
      s.slack.holdMs = 400;
      s.drift(wave);
      let victim: string;
      let kind: string;
      if (i === 0) {
        // Mid-cycle: the owner of the wave's first project, as soon as it has committed a cycle that saw the drift.
        const owners = await s.owners();
        victim = owners.get(wave[0] as string) ?? "r1";
        kind = "mid-cycle";
        const r = s.replicas.get(victim);
        const seen = r?.logs.length ?? 0;
        await s.until(
          () => (r?.logs.slice(seen) ?? []).some((l) => l["msg"] === "cycle" && l["status"] === "drift"),
          `${victim} cycling on the drift`,
        );
      } else {
        // Mid-delivery: whoever has a Slack post in flight right now.
        kind = "mid-delivery";
        await s.until(() => s.slack.inFlight.length > 0, "a delivery in flight");
        victim = s.slack.inFlight[0]?.replica ?? "r1";
      }
      const killedAt = await s.kill9(victim);
      s.slack.holdMs = 0;
      // Every lease the victim held is taken by a live replica.
      await s.until(
        async () => [...(await s.owners()).values()].every((o) => o !== null && o !== victim),
        `${victim}'s leases taken over`,
        8 * TTL_MS,
      );
      const takeovers = await s.takeovers(victim, killedAt - 1_000, TTL_MS);
      assert.ok(takeovers.length > 0, `lease_events record the takeover of ${victim}'s projects`);
      for (const t of takeovers) {
        assert.ok(t.sinceLastRenewalMs !== null, "the taken lease had been renewed");
        assert.ok(
          (t.sinceLastRenewalMs ?? Infinity) <= 2 * TTL_MS,
          `${t.project}: taken ${t.sinceLastRenewalMs} ms after ${victim}'s last renewal (DB clock), over 2 × TTL`,
        );
      }
      figures.push({
        kind,
        replica: victim,
        takeoverMs: Math.max(...takeovers.map((t) => t.at - killedAt)),
        dbMs: Math.max(...takeovers.map((t) => t.sinceLastRenewalMs ?? 0)),
      });
      s.startReplica(victim);
      await s.until(
        async () => [...(await s.owners()).values()].includes(victim),
        `${victim} back and owning projects again`,
        8 * TTL_MS,
      );
    }

    await s.until(
      async () => s.slack.counts("open").size === 30 && (await s.pendingOutbox()) === 0,
      "every incident alerted and the outbox drained",
      120_000,
    );
    const opens = s.slack.counts("open");
    const delivered = [...opens.values()].reduce((a, b) => a + b, 0);
    const duplicates = delivered - opens.size;
    const lost = s.projects.filter((p) => !opens.has(p)).length;
    const result = {
      test: "ha-failover",
      replicas: REPLICAS.length,
      projects: s.projects.length,
      lease_ttl_ms: TTL_MS,
      kills: figures.length,
      kill_kinds: figures.map((f) => f.kind),
      expected: s.projects.length,
      delivered,
      duplicates,
      most_for_one_incident: Math.max(...opens.values()),
      lost,
      worst_takeover_ms: Math.max(...figures.map((f) => f.takeoverMs)),
      worst_takeover_db_ms: Math.max(...figures.map((f) => f.dbMs)),
      open_incidents: await s.openIncidents(),
      outbox_pending: await s.pendingOutbox(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    assert.equal(lost, 0, "no incident lost");
    assert.ok(
      duplicates <= figures.length,
      `at most one duplicate per kill (${duplicates} for ${figures.length} kills)`,
    );
    for (const [project, n] of opens) assert.ok(n <= 1 + figures.length, `${project} alerted ${n} times`);
    assert.equal(result.open_incidents, 30, "every drift is an open incident in the shared state");
    assert.equal(result.outbox_pending, 0, "outbox drained");
  },
);
