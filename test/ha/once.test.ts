/**
 * `monitor watch --once` on a cluster state, next to a live replica: it takes each lease nobody holds, runs those
 * projects and gives the leases back, and reports the projects the live replica owns as owned by it and skips them
 * (exit 0). Real PostgreSQL, real child processes; waits on conditions with deadlines only.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { after, test } from "node:test";
import { HaScene } from "./harness.ts";

const MAIN = join(resolve(import.meta.dirname, "..", ".."), "src", "cli", "main.ts");

let scene: HaScene | null = null;
after(async () => {
  await scene?.close();
});

function runOnce(s: HaScene, id: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const proc = spawn(process.execPath, [MAIN, "watch", "--once", "--config", s.configPath], {
      cwd: s.dir,
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}`,
        MONITOR_LOG_LEVEL: "info",
        MONITOR_REPLICA_ID: id,
        GITHUB_TOKEN: "",
        NO_COLOR: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    proc.on("exit", (code) => done({ code, stdout, stderr }));
  });
}

test(
  "watch --once next to a live replica: runs the free projects, skips the owned ones naming their owner, exit 0",
  { timeout: 300_000 },
  async () => {
    const s = (scene = await HaScene.start({ projects: 4, ttl: "3s", renew: "500ms", schedule: "0 0 1 1 *" }));
    const [p1, p2, p3, p4] = s.projects as [string, string, string, string];
    const live = s.startReplica("live");
    await s.until(
      async () => [...(await s.owners()).values()].filter((o) => o === "live").length === 4,
      "live owns all",
    );
    // Freeze the live replica and give two of its leases back by hand: those are free, the other two stay owned.
    live.proc.kill("SIGSTOP");
    await s.db.query("UPDATE leases SET expires_at = now() WHERE project = ANY($1::text[])", [[p3, p4]]);
    s.drift([p3]);

    const r = await runOnce(s, "once");
    live.proc.kill("SIGCONT");
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.match(r.stdout, new RegExp(`^${p1}: skipped, owned by replica live$`, "m"));
    assert.match(r.stdout, new RegExp(`^${p2}: skipped, owned by replica live$`, "m"));
    assert.doesNotMatch(r.stdout, new RegExp(`${p3}|${p4}`));
    const cycles = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l["msg"] === "cycle");
    assert.deepEqual(cycles.map((c) => c["project"]).sort(), [p3, p4], "it ran the free projects only");
    assert.deepEqual(
      s.slack.deliveries.map((d) => [d.replica, d.project, d.kind]),
      [["once", p3, "open"]],
      "the drift of a project it ran is alerted by it",
    );
    assert.equal(await s.pendingOutbox(), 0, "outbox drained");
    const { rows } = await s.db.query<{ project: string; owner: string; free: boolean }>(
      "SELECT project, owner, expires_at <= now() AS free FROM leases ORDER BY project",
    );
    const byProject = new Map(rows.map((x) => [x.project, x]));
    assert.equal(byProject.get(p3)?.free, true, "it gave its leases back");
    assert.equal(byProject.get(p4)?.free, true);
    const { rows: replicas } = await s.db.query<{ id: string }>("SELECT id FROM replicas ORDER BY id");
    assert.deepEqual(
      replicas.map((x) => x.id),
      ["live"],
      "it never joined the live replicas",
    );
    // The live replica takes them back and goes on.
    await s.until(
      async () => [...(await s.owners()).values()].filter((o) => o === "live").length === 4,
      "live owns all again",
    );
    console.log(
      JSON.stringify({
        test: "watch-once-cluster",
        ran: cycles.length,
        skipped_owned: 2,
        exit: r.code,
        deliveries: s.slack.deliveries.length,
      }),
    );
  },
);
