/**
 * The github-issue sink in a cluster: two `monitor watch` replicas on one PostgreSQL state deliver to the sim's
 * GitHub; every project drifts, and one replica is killed with SIGKILL while deliveries are in flight (the sim's
 * GitHub answers slowly). The sink is idempotent across replicas: one issue per (project, tag), each with its
 * incident's checklist item, and the outbox drained. Waits on conditions with deadlines only.
 */
import { strict as assert } from "node:assert";
import { after, test } from "node:test";
import type { Issue } from "../../src/sim/model-github.ts";
import { HaScene } from "./harness.ts";

let scene: HaScene | null = null;
after(async () => {
  await scene?.close();
});

function issuesOf(s: HaScene, project: string): Issue[] {
  return [...(s.sim.world.github.repo("acme", project)?.issues.values() ?? [])];
}

/** Checklist lines of an issue body: [checked, channel]. */
function checklist(issue: Issue): [boolean, string][] {
  return (issue.body ?? "")
    .split("\n")
    .map((l) => /^- \[([ x])\] `([^`]+)`/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] === "x", m[2] as string]);
}

test(
  "github-issue sink, two replicas, kill -9 mid-delivery: one issue per (project, tag), checklists whole, outbox drained",
  { timeout: 300_000 },
  async () => {
    const s = (scene = await HaScene.start({
      projects: 8,
      ttl: "3s",
      renew: "500ms",
      schedule: "*/2 * * * * *",
      sinks: [{ type: "github-issue", min_interval: "0" }],
    }));
    const a = s.startReplica("ga");
    s.startReplica("gb");
    await s.until(
      async () => {
        const owners = [...(await s.owners()).values()];
        return owners.length === 8 && new Set(owners).size === 2 && !owners.includes(null);
      },
      "leases spread over both replicas",
      120_000,
    );
    // ga's projects by the lease table's word at each moment: leases keep moving to their preferred replica after
    // both replicas hold some, so a snapshot taken here can be stale by the kill.
    const leasedBy = async (id: string): Promise<string[]> => {
      const owners = await s.owners();
      return s.projects.filter((p) => owners.get(p) === id);
    };
    // Slow GitHub (and registries): each delivery takes several slow requests, so a kill lands inside one.
    s.sim.setLatency(600);
    s.drift(s.projects);
    const issueRequests = () =>
      s.sim.stats.log.filter((e) => e.service === "github-api" && /\/repos\/acme\/[^/]+\/issues/.test(e.path));
    // Kill inside a delivery: ga has sent GitHub issue requests for its projects and some of their outbox rows are
    // still pending. Often one of those issues already exists with its row not yet marked sent (counted below).
    const pendingOf = async (projects: readonly string[]): Promise<string[]> => {
      const { rows } = await s.db.query<{ project: string }>(
        "SELECT DISTINCT project FROM outbox WHERE state = 'pending' AND project = ANY($1::text[])",
        [projects],
      );
      return rows.map((r) => r.project);
    };
    let unmarkedAtKill: string[] = [];
    let ofA: string[] = [];
    let heldSince = 0;
    await s.until(
      async () => {
        heldSince = Date.now();
        ofA = await leasedBy("ga");
        const pending = await pendingOf(ofA);
        unmarkedAtKill = pending.filter((p) => issuesOf(s, p).length > 0);
        return pending.length > 0 && issueRequests().some((e) => ofA.some((p) => e.path.includes(`/acme/${p}/`)));
      },
      "ga mid-delivery: issue requests sent, outbox rows still pending",
      120_000,
    );
    await s.kill9("ga");
    const inFlightAtKill = ofA.filter((p) => issuesOf(s, p).length === 0).length;
    assert.equal(a.proc.signalCode, "SIGKILL");
    // Every lease ga held when last looked at (a hand-over in the instant before the kill is a takeover too) moves to
    // gb. The outbox can drain before the last of them changes hands (a project whose alerts were all delivered needs
    // no takeover to drain): wait for both, then check the figures.
    const takenFromA = async (): Promise<string[]> => (await s.takeovers("ga", heldSince, 3000)).map((t) => t.project);
    await s.until(
      async () => {
        const taken = new Set(await takenFromA());
        return (
          s.projects.every((p) => issuesOf(s, p).length >= 1) &&
          (await s.pendingOutbox()) === 0 &&
          ofA.every((p) => taken.has(p)) &&
          (await leasedBy("gb")).length === s.projects.length
        );
      },
      "every project's issue, outbox drained, every lease of the killed replica taken",
      180_000,
    );
    s.sim.setLatency(0);
    const perProject = s.projects.map((p) => issuesOf(s, p));
    const duplicates = perProject.reduce((n, is) => n + Math.max(0, is.length - 1), 0);
    const missingChecklist = perProject.filter((is) => !is.some((i) => checklist(i).some(([, c]) => c === "npm")));
    const takeovers = await takenFromA();
    const figures = {
      test: "ha-github-issue",
      replicas: 2,
      projects: s.projects.length,
      kills: 1,
      ga_projects: ofA.length,
      ga_issues_missing_at_kill: inFlightAtKill,
      ga_created_unmarked_at_kill: unmarkedAtKill.length,
      issues: perProject.reduce((n, is) => n + is.length, 0),
      duplicates,
      checklist_missing: missingChecklist.length,
      outbox_pending: await s.pendingOutbox(),
      takeovers: takeovers.length,
      issue_requests: issueRequests().length,
    };
    console.log(JSON.stringify(figures));
    for (const [i, is] of perProject.entries()) {
      assert.equal(
        is.length,
        1,
        `one issue for ${s.projects[i]} (have ${is.map((x) => `#${x.number} ${x.title}`).join(", ")})`,
      );
      assert.match(is[0]?.body ?? "", new RegExp(`^<!-- release-monitor:${s.projects[i]}@v1\\.0\\.0 -->`));
    }
    assert.equal(missingChecklist.length, 0, "every incident's checklist item present");
    assert.equal(figures.outbox_pending, 0);
    assert.deepEqual(
      [...new Set(takeovers)].sort(),
      [...takeovers].sort(),
      "each of the killed replica's leases changed hands once",
    );
    for (const p of ofA) assert.ok(takeovers.includes(p), `the survivor took ${p}'s lease from the killed replica`);
  },
);
