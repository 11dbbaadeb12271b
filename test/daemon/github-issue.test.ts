/**
 * The github-issue sink end to end: a real daemon in process (createDaemon: state db, outbox, the runtime's HTTP
 * client and Octokit) against the simulated GitHub on loopback. Cycles run on demand (runCycleNow) and the tests
 * wait on daemon events (onCycle, onDelivery) with deadlines, never on fixed sleeps. What is asserted is what
 * GitHub (the sim's world) ends up holding, and what went over the wire (the sim's request log).
 */
import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { DeliveryEvent } from "../../src/alerts/outbox.ts";
import { loadConfigText, type LoadedConfig } from "../../src/config/load.ts";
import { createDaemon, type DaemonBundle } from "../../src/daemon/create.ts";
import type { CycleInfo } from "../../src/daemon/daemon.ts";
import { startServer } from "../../src/server/index.ts";
import { credentialFingerprint, plasmiteProject, startSim, type Sim } from "../../src/sim/index.ts";
import type { Issue } from "../../src/sim/model-github.ts";
import { stateDbPath } from "../../src/state/sqlite.ts";
import { runCli, writeConfig } from "../helpers/cli.ts";

const HOUR = 3_600_000;
const TOKEN = "ghp_issueSinkToken0123456789abcdef";
const USER_AGENT = "release-monitor-test/github-issue (+loopback)";
const REPO = "sandover/plasmite";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "monitor-ghissue-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The sim with plasmite 0.7.2 and 0.8.0 (two hours ago) published everywhere, GitHub accepting only TOKEN. */
async function startWorld(): Promise<Sim> {
  const sim = await startSim({ githubToken: TOKEN });
  cleanups.push(() => sim.close());
  sim.world.addProject(plasmiteProject());
  sim.world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 30 * HOUR });
  sim.world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 2 * HOUR });
  return sim;
}

interface ConfigOptions {
  sink?: Record<string, unknown>;
  /** Include settings.github.token (default true). */
  token?: boolean;
}

function configObject(sim: Sim, o: ConfigOptions = {}): Record<string, unknown> {
  const overlay = sim.settingsOverlay() as { github: Record<string, unknown> };
  const github = { ...overlay.github };
  if (o.token === false) delete github["token"];
  return {
    version: 1,
    settings: {
      ...overlay,
      github,
      http: { retries: 0, request_timeout: "5s", user_agent: USER_AGENT },
      grace: { github: "0", npm: "0", pypi: "0" },
      state_dir: "state",
      watch: { schedule: "0 0 1 1 *", jitter: "0", hot_interval: "0", hot_for: "0" },
      server: { manual_checks_per_minute: 600 },
      alerts: {
        flap_cycles: 1,
        remind_every: "24h",
        retry_base: "50ms",
        retry_max: "400ms",
        sinks: [{ type: "github-issue", min_interval: "0", ...o.sink }],
      },
    },
    projects: [
      {
        name: "plasmite",
        repo: REPO,
        tag_prefix: "v",
        channels: {
          github: {
            platforms: ["linux_amd64", "darwin_amd64", "darwin_arm64"],
            assets: ["plasmite_{version}_{platform}.tar.gz"],
            checksums: "sha256sums.txt",
          },
          npm: { package: "plasmite" },
          pypi: { project: "plasmite", platforms: ["darwin_amd64", "darwin_arm64", "windows_amd64"] },
        },
      },
    ],
  };
}

function load(sim: Sim, dir: string, o: ConfigOptions = {}): LoadedConfig {
  return loadConfigText(JSON.stringify(configObject(sim, o)), join(dir, "monitor.json"), dir, { env: {} });
}

/** One daemon process's worth of state: the bundle, its captured log lines and its delivery events. */
interface Running {
  bundle: DaemonBundle;
  logs: string[];
  deliveries: DeliveryEvent[];
  cycles: CycleInfo[];
  /** Messages its cycles enqueued. */
  enqueued(): number;
  /** Runs one cycle now and waits until the outbox has sent (or dead-lettered) everything enqueued so far. */
  cycle(): Promise<void>;
  /** Waits until every enqueued message is settled (sent or dead). */
  settled(what: string): Promise<void>;
  stop(): Promise<void>;
}

async function until(cond: () => boolean, what: string, timeoutMs = 15_000, tail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${tail?.() ?? ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startDaemon(loaded: LoadedConfig): Promise<Running> {
  const logs: string[] = [];
  const deliveries: DeliveryEvent[] = [];
  const cycles: CycleInfo[] = [];
  const bundle = createDaemon(loaded, {
    logLevel: "debug",
    logDestination: { write: (line) => void logs.push(line) },
    daemon: { flushMs: 3_000, cycleDrainMs: 5_000, idlePollMs: 100 },
  });
  const { daemon } = bundle;
  daemon.onDelivery((e) => deliveries.push(e));
  daemon.onCycle((_r, info) => cycles.push(info));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await daemon.stop();
  };
  cleanups.push(stop);
  await daemon.start();
  const tail = () => logs.slice(-15).join("");
  const enqueued = () => cycles.reduce((n, c) => n + c.alerts, 0);
  // Settled: the outbox holds no pending row (each sent or dead-lettered). Counting rows, not lifecycle messages,
  // because a `group: release` sink gets one rolled-up row for several messages.
  let pending = -1;
  const settled = async (what: string) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      pending = Object.values(await bundle.store.outboxDepth()).reduce((a, b) => a + b, 0);
      if (pending === 0) return;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${pending} outbox row(s) pending\n${tail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until(() => cycles.length >= 1, "the start-up cycle", 15_000, tail);
  await settled("the start-up cycle's alerts");
  return {
    bundle,
    logs,
    deliveries,
    cycles,
    enqueued,
    settled,
    async cycle() {
      const before = cycles.length;
      await daemon.runCycleNow("plasmite");
      await until(() => cycles.length > before, "the cycle recorded", 15_000, tail);
      await settled("the cycle's alerts");
    },
    stop,
  };
}

function issues(sim: Sim): Issue[] {
  const [owner, name] = REPO.split("/") as [string, string];
  return [...(sim.world.github.repo(owner, name)?.issues.values() ?? [])];
}

function onlyIssue(sim: Sim): Issue {
  const all = issues(sim);
  assert.equal(all.length, 1, `exactly one issue (have ${all.map((i) => `#${i.number} ${i.title}`).join(", ")})`);
  return all[0]!;
}

/** Checklist lines of an issue body: [checked, channel] in order. */
function checklist(issue: Issue): [boolean, string][] {
  return (issue.body ?? "")
    .split("\n")
    .map((l) => /^- \[([ x])\] `([^`]+)`/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] === "x", m[2]!]);
}

const issueRequests = (sim: Sim) => sim.stats.log.filter((e) => e.service === "github-api" && /\/issues/.test(e.path));

describe("github-issue sink through the daemon and the outbox (sim GitHub on loopback)", () => {
  it("lifecycle: open creates one labelled issue, a second incident updates and comments, resolves tick and close, drift returning reopens it", async () => {
    const sim = await startWorld();
    const dir = tempDir();
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    const d = await startDaemon(load(sim, dir));

    // 1. npm drift: one issue, labelled, titled, a one-item checklist, no comment yet.
    let issue = onlyIssue(sim);
    assert.equal(issue.title, "Release drift: plasmite v0.8.0");
    assert.deepEqual(
      issue.labels.map((l) => l.name),
      ["release-drift"],
    );
    assert.equal(issue.state, "open");
    assert.ok(issue.body?.startsWith("<!-- release-monitor:plasmite@v0.8.0 -->\n"), issue.body ?? "");
    assert.deepEqual(checklist(issue), [[false, "npm"]]);
    assert.equal(issue.comments.length, 0);

    // 2. PyPI drift as well: the same issue, two open items, one comment.
    sim.world.setHidden("pypi", "plasmite", "0.8.0", true);
    await d.cycle();
    issue = onlyIssue(sim);
    assert.deepEqual(checklist(issue), [
      [false, "npm"],
      [false, "pypi"],
    ]);
    assert.equal(issue.comments.length, 1);
    assert.match(issue.comments[0]!.body, /^\*\*Drift opened:\*\* `pypi`/);
    assert.match(issue.comments[0]!.body, /2 open, 0 resolved\./);
    assert.match(issue.body ?? "", /2 open, 0 resolved\./);

    // 3. npm fixed: its item is ticked, a comment says so, the issue stays open.
    sim.world.setHidden("npm", "plasmite", "0.8.0", false);
    await d.cycle();
    issue = onlyIssue(sim);
    assert.deepEqual(checklist(issue), [
      [true, "npm"],
      [false, "pypi"],
    ]);
    assert.equal(issue.state, "open");
    assert.equal(issue.comments.length, 2);
    assert.match(issue.comments[1]!.body, /^\*\*Resolved:\*\* `npm`/);
    assert.match(issue.body ?? "", /fixed: npm is now ok/);

    // 4. PyPI fixed: every item ticked, the issue is closed as completed, with a comment.
    sim.world.setHidden("pypi", "plasmite", "0.8.0", false);
    await d.cycle();
    issue = onlyIssue(sim);
    assert.deepEqual(checklist(issue), [
      [true, "npm"],
      [true, "pypi"],
    ]);
    assert.equal(issue.state, "closed");
    assert.equal(issue.stateReason, "completed");
    assert.equal(issue.comments.length, 3);
    assert.match(issue.comments[2]!.body, /Every item is resolved \(2\); closing this issue\./);

    // 5. npm drift returns: the same issue reopens (no second issue), npm unticked, a comment says why.
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    await d.cycle();
    issue = onlyIssue(sim);
    assert.equal(issue.number, 1);
    assert.equal(issue.state, "open");
    assert.equal(issue.stateReason, "reopened");
    assert.deepEqual(checklist(issue), [
      [false, "npm"],
      [true, "pypi"],
    ]);
    assert.equal(issue.comments.length, 4);
    assert.match(issue.comments[3]!.body, /^\*\*Drift returned:\*\* `npm`/);
    assert.match(issue.comments[3]!.body, /Reopening: 1 open, 1 resolved\./);

    // A cycle with nothing new changes nothing on GitHub.
    const writes = issueRequests(sim).filter((e) => e.method !== "GET").length;
    await d.cycle();
    assert.equal(issueRequests(sim).filter((e) => e.method !== "GET").length, writes, "no write without a change");

    assert.deepEqual(
      d.deliveries.map((e) => [e.kind, e.outcome]),
      [
        ["open", "sent"],
        ["open", "sent"],
        ["resolve", "sent"],
        ["resolve", "sent"],
        ["reopen", "sent"],
      ],
    );
    await d.stop();
  });

  it("repo override, two incidents in one cycle: one issue in that repo listing both; a repo that does not exist dead-letters with a clear error", async () => {
    const sim = await startWorld();
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    sim.world.setHidden("pypi", "plasmite", "0.8.0", true);
    const tracking = sim.world.github.ensureRepo("acme/release-tracking", Date.now());
    const d = await startDaemon(load(sim, tempDir(), { sink: { repo: "acme/release-tracking", label: "Drift" } }));
    assert.equal(issues(sim).length, 0, "nothing in the project's own repo");
    const all = [...tracking.issues.values()];
    assert.equal(all.length, 1);
    assert.deepEqual(checklist(all[0]!), [
      [false, "npm"],
      [false, "pypi"],
    ]);
    assert.deepEqual(
      all[0]!.labels.map((l) => l.name),
      ["Drift"],
    );
    assert.equal(all[0]!.comments.length, 1, "the second incident's comment");
    await d.stop();

    const e = await startDaemon(load(sim, tempDir(), { sink: { repo: "acme/nowhere" } }));
    assert.deepEqual(
      e.deliveries.map((x) => x.outcome),
      ["dead", "dead"],
    );
    assert.match(
      e.deliveries[0]!.error ?? "",
      /list issues by label: HTTP 404 Not Found: acme\/nowhere does not exist or the token cannot see it$/,
    );
    const dead = e.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l["msg"] === "alert dead-lettered");
    assert.deepEqual(
      dead.map((l) => [l["code"], l["reason"]]),
      [
        ["E_SINK_PERMANENT", "E_HTTP_STATUS"],
        ["E_SINK_PERMANENT", "E_HTTP_STATUS"],
      ],
    );
    await e.stop();
  });

  it("group: release: two incidents of one release are one issue with no comment, their fixes one update with one comment", async () => {
    const sim = await startWorld();
    for (const ch of ["npm", "pypi"] as const) sim.world.setHidden(ch, "plasmite", "0.8.0", true);
    const loaded = load(sim, tempDir(), { sink: { group: "release" } });
    const d = await startDaemon(loaded);
    let issue = onlyIssue(sim);
    const open = checklist(issue);
    assert.ok(open.length >= 2 && open.every(([done]) => !done), JSON.stringify(open));
    assert.equal(issue.comments.length, 0, "one rolled-up open is the create alone");
    const creates = issueRequests(sim).filter((e) => e.method === "POST" && /\/issues$/.test(e.path));
    assert.equal(creates.length, 1);

    for (const ch of ["npm", "pypi"] as const) sim.world.setHidden(ch, "plasmite", "0.8.0", false);
    await d.cycle();
    issue = onlyIssue(sim);
    assert.ok(checklist(issue).every(([done]) => done));
    assert.equal(issue.state, "closed");
    assert.equal(issue.comments.length, 1, "one comment for the rolled-up resolve");
    assert.match(issue.comments[0]!.body, new RegExp(`^\\*\\*Resolved \\(${open.length}\\):\\*\\*`));
    await d.stop();
  });

  it("uses the probes' HTTP client and Octokit: the configured token and user agent, every call seen by the runtime's exchange hook", async () => {
    const sim = await startWorld();
    const dir = tempDir();
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    const loaded = load(sim, dir);
    const logs: string[] = [];
    const bundle = createDaemon(loaded, {
      logLevel: "silent",
      logDestination: { write: (l) => void logs.push(l) },
      daemon: { flushMs: 3_000, idlePollMs: 100 },
    });
    const exchanges: { method: string; host: string; status: number | null }[] = [];
    bundle.daemon.onExchange((e) => exchanges.push({ method: e.method, host: e.host, status: e.status }));
    const sent: DeliveryEvent[] = [];
    bundle.daemon.onDelivery((e) => sent.push(e));
    const results = await bundle.daemon.runOnce();
    assert.equal(results[0]?.error, null);
    assert.deepEqual(
      sent.map((e) => [e.kind, e.outcome]),
      [["open", "sent"]],
    );

    const apiHost = new URL(sim.urls.githubApi).host;
    const probes = sim.stats.log.filter((e) => e.service === "github-api" && /\/releases/.test(e.path));
    const sink = issueRequests(sim);
    assert.ok(probes.length > 0, "the probes called GitHub");
    assert.ok(
      sink.some((e) => e.method === "POST"),
      "the sink created the issue",
    );
    const want = credentialFingerprint(`token ${TOKEN}`);
    const agent = probes[0]!.userAgent ?? "";
    assert.ok(agent.startsWith(`${USER_AGENT} octokit-rest.js/`), `the probes' Octokit user agent: ${agent}`);
    for (const e of [...probes, ...sink]) {
      assert.equal(e.credential, want, `${e.method} ${e.path} carries the configured token`);
      assert.equal(e.userAgent, agent, `${e.method} ${e.path} has the probes' user agent`);
    }
    // Every sink request went through the runtime's HttpClient (its exchange hook saw them all).
    const apiWrites = exchanges.filter((e) => e.host === apiHost && e.method !== "GET");
    assert.equal(apiWrites.length, sink.filter((e) => e.method !== "GET").length);
    assert.ok(apiWrites.length > 0);
    assert.ok(!logs.join("").includes(TOKEN));
  });

  it("restart on the same state_dir: new drift for the tag updates the remembered issue, no duplicate", async () => {
    const sim = await startWorld();
    const dir = tempDir();
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    const loaded = load(sim, dir);
    const first = await startDaemon(loaded);
    assert.equal(onlyIssue(sim).number, 1);
    await first.stop();

    sim.world.setHidden("pypi", "plasmite", "0.8.0", true);
    sim.stats.reset();
    const second = await startDaemon(load(sim, dir));
    const issue = onlyIssue(sim);
    assert.deepEqual(checklist(issue), [
      [false, "npm"],
      [false, "pypi"],
    ]);
    assert.equal(issue.comments.length, 1);
    assert.deepEqual(
      second.deliveries.map((e) => [e.kind, e.outcome]),
      [["open", "sent"]],
      "only the new incident was sent (the npm one was delivered before the restart)",
    );
    const reqs = issueRequests(sim).map((e) => `${e.method} ${e.path.replace(/\?.*/, "")}`);
    assert.ok(reqs.includes(`GET /repos/${REPO}/issues/1`), `the remembered issue was read: ${reqs.join(", ")}`);
    assert.ok(!reqs.includes(`POST /repos/${REPO}/issues`), "no issue was created");
    await second.stop();
  });

  it("state db lost (fresh state_dir) while the issue exists: found by label and marker, reopened, never duplicated", async () => {
    const sim = await startWorld();
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    // Someone else's labelled issue and an issue about another tag come first: the sink must skip them.
    const [owner, name] = REPO.split("/") as [string, string];
    const repo = sim.world.github.repo(owner, name)!;
    const label = () => repo.label("release-drift", () => sim.world.github.nextLabelId());
    repo.openIssue({
      id: sim.world.github.nextIssueId(),
      title: "Release drift: plasmite v0.8.0",
      body: "filed by hand, no marker",
      labels: [label()],
      at: Date.now(),
    });
    repo.openIssue({
      id: sim.world.github.nextIssueId(),
      title: "Release drift: plasmite v0.7.2",
      body: "<!-- release-monitor:plasmite@v0.7.2 -->\nolder tag",
      labels: [label()],
      at: Date.now(),
    });

    const a = await startDaemon(load(sim, tempDir()));
    assert.equal(issues(sim).length, 3);
    const mine = issues(sim).find((i) => i.number === 3)!;
    assert.deepEqual(checklist(mine), [[false, "npm"]]);
    sim.world.setHidden("npm", "plasmite", "0.8.0", false);
    await a.cycle();
    assert.equal(issues(sim).find((i) => i.number === 3)!.state, "closed");
    await a.stop();

    // A new daemon on an empty state dir, drift back: the closed issue is found (state all) and reopened.
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    sim.stats.reset();
    const b = await startDaemon(load(sim, tempDir()));
    assert.deepEqual(
      b.deliveries.map((e) => [e.kind, e.outcome]),
      [["open", "sent"]],
    );
    assert.equal(issues(sim).length, 3, "no new issue");
    const again = issues(sim).find((i) => i.number === 3)!;
    assert.equal(again.state, "open");
    assert.deepEqual(checklist(again), [[false, "npm"]]);
    assert.match(again.comments.at(-1)!.body, /Reopening: 1 open, 0 resolved\./);
    assert.equal(
      issues(sim).find((i) => i.number === 1)!.body,
      "filed by hand, no marker",
      "the hand-filed issue is untouched",
    );
    assert.equal(issues(sim).find((i) => i.number === 2)!.comments.length, 0);
    const reqs = issueRequests(sim);
    assert.ok(
      reqs.some((e) => e.method === "GET" && /labels=release-drift/.test(e.path) && /state=all/.test(e.path)),
      "it listed by label, state all",
    );
    assert.ok(!reqs.some((e) => e.method === "POST" && /\/issues$/.test(e.path.replace(/\?.*/, ""))));

    // Lost again, drift still open: the open incident is already on the checklist, so nothing is written.
    await b.stop();
    sim.stats.reset();
    const c = await startDaemon(load(sim, tempDir()));
    assert.equal(issues(sim).length, 3);
    assert.equal(issues(sim).find((i) => i.number === 3)!.comments.length, again.comments.length);
    assert.ok(!issueRequests(sim).some((e) => e.method !== "GET"), "no write");
    await c.stop();
  });

  it("a write GitHub applied whose answer was lost (truncated response): the outbox retry repeats nothing", async () => {
    const sim = await startWorld();
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    const create = sim.world.faults.add({
      service: "github-api",
      path: new RegExp(`^/repos/${REPO}/issues$`),
      kind: "truncated",
      times: 1,
    });
    const d = await startDaemon(load(sim, tempDir()));
    assert.equal(create.hits(), 1);
    assert.deepEqual(
      d.deliveries.map((e) => e.outcome),
      ["retry", "sent"],
    );
    assert.equal(onlyIssue(sim).comments.length, 0, "one issue, created once");

    const comment = sim.world.faults.add({
      service: "github-api",
      path: new RegExp(`^/repos/${REPO}/issues/1/comments$`),
      kind: "truncated",
      times: 1,
    });
    sim.world.setHidden("pypi", "plasmite", "0.8.0", true);
    await d.cycle();
    assert.equal(comment.hits(), 1);
    assert.deepEqual(
      d.deliveries.slice(2).map((e) => e.outcome),
      ["retry", "sent"],
    );
    const issue = onlyIssue(sim);
    assert.equal(issue.comments.length, 1, "the comment was posted once");
    assert.deepEqual(checklist(issue), [
      [false, "npm"],
      [false, "pypi"],
    ]);
    await d.stop();
  });

  it("5xx from the issues API: the delivery is retried through the outbox until GitHub answers", async () => {
    const sim = await startWorld();
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    const fault = sim.world.faults.add({ service: "github-api", path: `/repos/${REPO}/issues`, kind: "503", times: 3 });
    const d = await startDaemon(load(sim, tempDir()));
    assert.equal(fault.hits(), 3);
    assert.deepEqual(
      d.deliveries.map((e) => e.outcome),
      ["retry", "retry", "retry", "sent"],
    );
    assert.match(
      d.deliveries[0]!.error ?? "",
      /^github-issue sink "github-issue": list issues by label: HTTP 503 \(GitHub server error\)$/,
    );
    assert.equal(onlyIssue(sim).comments.length, 0);
    const failures = d.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l["msg"] === "alert delivery failed; will retry");
    assert.equal(failures.length, 3);
    assert.equal(failures[0]!["code"], "E_SINK_RETRYABLE");
    assert.equal(failures[0]!["reason"], "E_HTTP_STATUS");
    assert.ok(!d.logs.join("").includes(TOKEN), "the token is not in the logs");
    await d.stop();
  });

  it("401 from the issues API: reported with a stable code and what to fix, retried, no crash; the token appears nowhere", async () => {
    const sim = await startWorld();
    sim.world.setHidden("npm", "plasmite", "0.8.0", true);
    const dir = tempDir();
    const fault = sim.world.faults.add({ service: "github-api", path: `/repos/${REPO}/issues`, kind: "401", times: 2 });
    const d = await startDaemon(load(sim, dir));
    const server = await startServer({
      daemon: d.bundle.daemon,
      store: d.bundle.store,
      loaded: d.bundle.runtime.loaded,
      log: d.bundle.runtime.log,
      listen: "127.0.0.1:0",
    });
    cleanups.push(() => server.close());
    assert.equal(fault.hits(), 2);
    assert.deepEqual(
      d.deliveries.map((e) => e.outcome),
      ["retry", "retry", "sent"],
    );
    const err = d.deliveries[0]!.error ?? "";
    assert.match(err, /HTTP 401 Bad credentials/);
    assert.match(err, /settings\.github\.token/, "the error says which setting to fix");
    const failures = d.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l["msg"] === "alert delivery failed; will retry");
    assert.equal(failures.length, 2);
    assert.equal(failures[0]!["code"], "E_SINK_RETRYABLE");
    assert.equal(failures[0]!["reason"], "E_HTTP_AUTH");
    assert.equal(onlyIssue(sim).state, "open");

    // The daemon is still serving; nothing it says or stores holds the token.
    const bodies: string[] = [];
    for (const path of ["/api/v1/status", "/api/v1/projects/plasmite", "/metrics", "/", "/projects/plasmite"]) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      bodies.push(await res.text());
    }
    await d.stop();
    const db = stateDbPath(dir, "state");
    const stored = [db, `${db}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p).toString("latin1"));
    for (const [what, text] of [
      ["logs", d.logs.join("")],
      ["delivery errors", JSON.stringify(d.deliveries)],
      ["status server", bodies.join("\n")],
      ["state db", stored.join("")],
    ] as const) {
      assert.ok(text.length > 0, `${what} captured`);
      assert.ok(!text.includes(TOKEN), `the token is not in the ${what}`);
    }
  });
});

describe("github-issue sink start-up check", () => {
  it("no GitHub token: `config check` and `watch` exit 2 naming the sink entry", async () => {
    const sim = await startWorld();
    const dir = tempDir();
    const path = writeConfig(dir, JSON.stringify(configObject(sim, { token: false })), "monitor.json");
    const env = { GITHUB_TOKEN: "" };
    for (const args of [
      ["config", "check", "--config", path],
      ["watch", "--once", "--config", path],
      ["watch", "--config", path, "--listen", "127.0.0.1:0"],
    ]) {
      const r = await runCli(args, { env, cwd: dir, timeoutMs: 30_000 });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /settings\.alerts\.sinks\[0\]/, r.stderr);
      assert.match(r.stderr, /github-issue/);
      assert.match(r.stderr, /settings\.github\.token|GITHUB_TOKEN/);
    }
    assert.equal(issueRequests(sim).length, 0, "nothing reached GitHub's issues API");

    // With $GITHUB_TOKEN set, the same file passes the check.
    const ok = await runCli(["config", "check", "--config", path], { env: { GITHUB_TOKEN: TOKEN }, cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(!ok.stdout.includes(TOKEN) && !ok.stderr.includes(TOKEN));
  });
});
