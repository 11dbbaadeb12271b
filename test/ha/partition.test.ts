/**
 * Partition: a replica frozen (SIGSTOP) past the lease TTL, while a Slack delivery it started is in flight and
 * its cycles run, keeps its database connection but not its leases: they expire by the database's clock and the
 * other replica takes them (lease_events, generation bumped). After SIGCONT it delivers nothing for a project it
 * lost until it has taken that project's lease again, and its late writes are refused (E_LEASE_LOST).
 */
import { strict as assert } from "node:assert";
import { after, test } from "node:test";
import { HaScene } from "./harness.ts";

const TTL_MS = 3_000;
let scene: HaScene | null = null;
after(async () => {
  await scene?.close();
});

test(
  "a replica frozen past the TTL delivers nothing stale and its fenced writes are rejected",
  { timeout: 400_000 },
  async () => {
    const s = (scene = await HaScene.start({ projects: 12, ttl: `${TTL_MS}ms`, renew: "500ms" }));
    const a = s.startReplica("pa");
    const b = s.startReplica("pb");
    await s.until(
      async () => {
        const owners = [...(await s.owners()).values()];
        return owners.length === 12 && owners.every((o) => o !== null) && new Set(owners).size === 2;
      },
      "12 leases spread over both replicas",
      120_000,
    );

    // Freeze pb while a delivery it started is in flight.
    s.slack.holdMs = 1_500;
    s.drift(s.projects);
    await s.until(() => s.slack.inFlight.some((d) => d.replica === "pb"), "a delivery by pb in flight");
    b.proc.kill("SIGSTOP");
    const frozenAt = Date.now();
    const { rows: before } = await s.db.query<{ project: string; generation: string }>(
      "SELECT project, generation FROM leases WHERE owner = 'pb'",
    );
    const lostSet = new Set(before.map((r) => r.project));
    assert.ok(lostSet.size > 0, "pb owned projects when frozen");
    await s.until(
      async () => [...(await s.owners()).entries()].every(([p, o]) => !lostSet.has(p) || o === "pa"),
      "pa took every lease of the frozen pb",
      8 * TTL_MS,
    );
    s.slack.holdMs = 0;
    // By generation, not by time: an event's `at` is its transaction's start (now()), and pa's take of a lease pb
    // had just handed back can start before the freeze and commit after the read of `before`.
    for (const r of before) {
      const { rows } = await s.db.query(
        `SELECT 1 FROM lease_events
         WHERE project = $1 AND owner = 'pa' AND previous_owner = 'pb' AND generation > $2`,
        [r.project, r.generation],
      );
      assert.ok(rows.length > 0, `lease_events: pa took ${r.project} from the frozen pb`);
    }
    for (const r of before) {
      const { rows } = await s.db.query<{ generation: string }>("SELECT generation FROM leases WHERE project = $1", [
        r.project,
      ]);
      assert.ok(Number(rows[0]?.generation) > Number(r.generation), `${r.project}: the generation moved past pb's`);
    }

    const resumedAt = Date.now();
    const seen = b.logs.length;
    b.proc.kill("SIGCONT");
    // pb notices: its lease round after the thaw reports the loss (or a fenced write of its is refused).
    await s.until(
      () =>
        b.logs
          .slice(seen)
          .some(
            (l) => l["code"] === "E_LEASE_LOST" || /E_LEASE_LOST|lease on .* lost/.test(JSON.stringify(l["err"] ?? "")),
          ),
      "pb logs E_LEASE_LOST after the thaw",
    );
    // Everything settles: every drift alerted, outbox drained.
    await s.until(
      async () => s.slack.counts("open").size === 12 && (await s.pendingOutbox()) === 0,
      "every incident alerted and the outbox drained",
      120_000,
    );

    // Stale: a post by pb, after the thaw, for a project it lost, before it took that project's lease again.
    const { rows: regained } = await s.db.query<{ project: string; at: Date }>(
      "SELECT project, min(at) AS at FROM lease_events WHERE owner = 'pb' AND at >= to_timestamp($1 / 1000.0) GROUP BY project",
      [frozenAt],
    );
    const regainedAt = new Map(regained.map((r) => [r.project, r.at.getTime()]));
    const stale = s.slack.deliveries.filter(
      (d) =>
        d.replica === "pb" &&
        lostSet.has(d.project) &&
        d.at >= resumedAt &&
        d.at < (regainedAt.get(d.project) ?? Infinity),
    );
    const rejected: Record<string, number> = {};
    for (const l of b.logs.slice(seen)) {
      if (l["code"] !== "E_LEASE_LOST" && !/E_LEASE_LOST|lease on .* lost/.test(JSON.stringify(l["err"] ?? "")))
        continue;
      const msg = String(l["msg"]);
      rejected[msg] = (rejected[msg] ?? 0) + 1;
    }
    process.stdout.write(
      `${JSON.stringify({
        test: "ha-partition",
        lease_ttl_ms: TTL_MS,
        frozen_ms: resumedAt - frozenAt,
        projects_lost: lostSet.size,
        stale_deliveries: stale.length,
        lease_lost_logs: rejected,
        duplicates: [...s.slack.counts("open").values()].reduce((x, y) => x + y, 0) - 12,
      })}\n`,
    );
    assert.equal(stale.length, 0, `stale deliveries by pb: ${JSON.stringify(stale)}`);
    assert.ok(a.proc.exitCode === null, "pa still runs");
  },
);
