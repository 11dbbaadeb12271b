/**
 * The database goes away under a running replica (`pg_ctl stop -m fast`, which ends its sessions): the replica
 * does not crash, its /readyz turns not ready with lease renewal failing, and once the server is back it is ready
 * again, holds its leases and runs cycles again. Waits on conditions with deadlines only.
 */
import { strict as assert } from "node:assert";
import { after, test } from "node:test";
import { HaScene } from "./harness.ts";

let scene: HaScene | null = null;
after(async () => {
  await scene?.close();
});

interface Ready {
  ready: boolean;
  reason: string | null;
  checks: { leases?: boolean };
}

async function readyz(base: string): Promise<{ status: number; body: Ready }> {
  const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Ready };
}

test(
  "PostgreSQL down under a replica: /readyz not ready, no crash; back up: ready, cycles resume",
  { timeout: 300_000 },
  async () => {
    const s = (scene = await HaScene.start({ projects: 3, ttl: "3s", renew: "500ms", schedule: "*/2 * * * * *" }));
    const r = s.startReplica("oa");
    await s.until(async () => [...(await s.owners()).values()].filter((o) => o === "oa").length === 3, "oa owns all");
    await s.until(() => r.url() !== null, "status server listening");
    const base = r.url() as string;
    await s.until(async () => (await readyz(base)).body.ready, "ready before the outage");

    const downAt = Date.now();
    s.pg.pause();
    let seen: Ready | null = null;
    await s.until(async () => {
      const { status, body } = await readyz(base);
      if (status === 503 && body.checks.leases === false) seen = body;
      return seen !== null;
    }, "/readyz not ready with lease renewal failing");
    const notReadyMs = Date.now() - downAt;
    assert.equal(r.proc.exitCode, null, "the replica is still running");
    assert.equal(r.proc.signalCode, null);
    const ready = seen as Ready | null;
    assert.ok(ready && !ready.ready);
    assert.match(ready.reason ?? "", /lease renewal is failing|state database cannot be read/);

    const cyclesBefore = r.logs.filter((l) => l["msg"] === "cycle").length;
    const upAt = Date.now();
    s.pg.restart();
    await s.until(async () => (await readyz(base)).body.ready, "ready again after the restart", 120_000);
    const readyAgainMs = Date.now() - upAt;
    await s.until(
      () => r.logs.filter((l) => l["msg"] === "cycle").length >= cyclesBefore + 3,
      "cycles resume after the restart",
      120_000,
    );
    const cyclesResumedMs = Date.now() - upAt;
    assert.equal(r.proc.exitCode, null, "the replica never exited");
    const owners = await s.owners();
    assert.deepEqual([...owners.values()], ["oa", "oa", "oa"], "it holds its leases again");
    const fatal = r.logs.filter((l) => l["level"] === 60 || l["level"] === "fatal" || l["raw"] === true);
    assert.deepEqual(fatal, [], "no fatal log, no stray output");
    console.log(
      JSON.stringify({
        test: "db-outage",
        not_ready_after_ms: notReadyMs,
        ready_again_after_ms: readyAgainMs,
        cycles_resumed_after_ms: cyclesResumedMs,
        crashed: false,
      }),
    );
  },
);
