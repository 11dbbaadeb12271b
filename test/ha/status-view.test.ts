/**
 * One status view: two `monitor watch` replicas with settings.state.url on a real PostgreSQL each serve the whole
 * cluster's projects from the shared state, whoever owns them, and agree on /api. /readyz reports lease health,
 * /metrics the leases, and POST …/check on the replica that does not own a project is run by its owner.
 */
import { strict as assert } from "node:assert";
import { after, test } from "node:test";
import { HaScene } from "./harness.ts";

let scene: HaScene | null = null;
after(async () => {
  await scene?.close();
});

interface ApiProject {
  project: string;
  tag: string | null;
  status: string | null;
  open_incidents?: unknown[];
}

async function api(base: string): Promise<ApiProject[]> {
  const res = await fetch(`${base}/api/v1/status`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { projects: ApiProject[] };
  return body.projects;
}

test("two replicas serve one consistent status view of all projects", { timeout: 300_000 }, async () => {
  // Cycles come from taking a lease (startup) and from the manual check: no scheduled cycle is in flight to be
  // shared when the check arrives (a running cycle answers a manual check by design).
  const s = (scene = await HaScene.start({ projects: 6, ttl: "3s", renew: "500ms", schedule: "0 0 1 1 *" }));
  s.drift(s.projects.slice(0, 2));
  const a = s.startReplica("va");
  const b = s.startReplica("vb");
  await s.until(
    async () => {
      const owners = [...(await s.owners()).values()];
      return owners.length === 6 && new Set(owners).size === 2 && !owners.includes(null);
    },
    "leases spread over both replicas",
    120_000,
  );
  await s.until(() => a.url() !== null && b.url() !== null, "both servers listening");
  const [ua, ub] = [a.url() as string, b.url() as string];
  await s.until(
    async () => (await api(ua)).every((p) => p.status !== null) && (await api(ub)).every((p) => p.status !== null),
    "every project checked, on both views",
  );
  // Both see every project, with the same tag, status and incidents (the view comes from the shared state).
  await s.until(async () => {
    const [va, vb] = [await api(ua), await api(ub)];
    const key = (ps: ApiProject[]) =>
      JSON.stringify(ps.map((p) => [p.project, p.tag, p.status, p.open_incidents?.length ?? 0]));
    return va.length === 6 && key(va) === key(vb);
  }, "the two replicas' /api/v1/status agree");
  const view = await api(ua);
  assert.deepEqual(
    view.map((p) => p.project),
    s.projects,
  );
  assert.deepEqual(
    view.filter((p) => p.status === "drift").map((p) => p.project),
    s.projects.slice(0, 2),
  );

  const ready = await fetch(`${ua}/readyz`);
  const readiness = (await ready.json()) as { checks: { leases?: boolean } };
  assert.equal(readiness.checks.leases, true, "/readyz reports lease health");
  const metrics = await (await fetch(`${ua}/metrics`)).text();
  const owned = [...metrics.matchAll(/^release_monitor_leases_owned\{project="([^"]+)"\} 1$/gm)].map((m) => m[1]);
  const owners = await s.owners();
  assert.deepEqual(
    owned.sort(),
    s.projects.filter((p) => owners.get(p) === "va"),
    "release_monitor_leases_owned{project} names va's leases",
  );
  assert.match(metrics, /^release_monitor_lease_takeovers_total \d+$/m);

  // A manual check on vb of a project va owns: handed through the state and run by va.
  const target = s.projects.find((p) => owners.get(p) === "va") as string;
  const before = a.logs.filter(
    (l) => l["msg"] === "cycle" && l["project"] === target && l["trigger"] === "manual",
  ).length;
  const res = await fetch(`${ub}/api/v1/projects/${target}/check`, { method: "POST" });
  assert.equal(res.status, 200, await res.clone().text());
  // The owner commits before it logs, and its log reaches us through a pipe: wait for the line, not a sleep.
  const manualOn = (r: typeof a) =>
    r.logs.filter((l) => l["msg"] === "cycle" && l["project"] === target && l["trigger"] === "manual").length;
  await s.until(() => manualOn(a) >= before + 1, "the owner logged the manual cycle");
  assert.equal(manualOn(a), before + 1, "the owner ran the manual cycle, once");
  assert.equal(manualOn(b), 0, "the non-owner did not");
  // The state server is logged without credentials.
  const watching = a.logs.find((l) => l["msg"] === "watching");
  assert.match(String(watching?.["state"]), /^PostgreSQL 127\.0\.0\.1:\d+\/ha$/);
});
