/**
 * `monitor release` end to end: the real CLI as a child process, real git repositories with bare origins (the
 * project and the Homebrew tap), the simulated registries with GitHub Actions, and the real ergo 6.0.0.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createBlockerTask, ErgoClient } from "../../src/ergo/client.ts";
import type { ErgoListItem } from "../../src/ergo/parse.ts";
import { CLI } from "../helpers/cli.ts";
import { bodyOf, listAll, REAL_ERGO } from "../helpers/real-ergo.ts";
import { createHarness, GIT_ENV, gitAsync, keepArtifact, REPO, TAG, until, type Harness } from "./harness.ts";

const HAS_SCRIPT = spawnSync("script", ["--version"]).status === 0;

interface Summary {
  schema: string;
  outcome: string;
  exit_code: number;
  failed_step: string | null;
  base_tag: string | null;
  steps: { name: string; status: string; detail: string; actions?: string[] }[];
  runs: {
    build: { id: number; url: string } | null;
    rehearsal: { id: number } | null;
    publish: { id: number; conclusion: string } | null;
  };
  failed_jobs: { name: string; url: string }[];
  verify: { status: string; channels: { channel: string; status: string }[] } | null;
  blocker: { epic_id: string | null; task_id: string | null; created: boolean } | null;
  recovery: string[];
  alternatives: string[];
  decisions: string[];
  evidence_report: string;
}

function parse(stdout: string): Summary {
  try {
    return JSON.parse(stdout) as Summary;
  } catch {
    assert.fail(`stdout is not JSON:\n${stdout}`);
  }
}

const step = (s: Summary, name: string) => s.steps.find((x) => x.name === name)!;

type Task = ErgoListItem & { body: string };

function blockerTasks(h: Harness): { epic: ErgoListItem | undefined; tasks: Task[] } {
  const items = listAll(h.work);
  const epic = items.find((t) => t.kind === "epic" && t.title === `Release blockers: ${TAG}`);
  const tasks = items.filter((t) => epic !== undefined && t.epic_id === epic.id);
  return { epic, tasks: tasks.map((t) => ({ ...t, body: bodyOf(h.work, t.id) })) };
}

const SECTIONS = [
  "## Release Context",
  "## Resume Checkpoint",
  "## QA Gate Evidence",
  "## Release Mechanics",
  "## Delivery Verification",
  "## Blockers and Decisions",
];

function assertReport(text: string): void {
  assert.ok(text.startsWith(`# Release Evidence Report: ${TAG}\n`));
  let at = -1;
  for (const s of SECTIONS) {
    const i = text.indexOf(`\n${s}\n`);
    assert.ok(i > at, `section ${s} in order`);
    at = i;
  }
}

describe("monitor release", { timeout: 180_000 }, () => {
  it("dry-run reads everything, prints every would-do command and changes nothing", async () => {
    const h = await createHarness();
    try {
      const tags = h.originTags();
      const tapHead = h.tapOriginHead();
      const r = await h.cli([]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.deepEqual(h.originTags(), tags, "origin tags unchanged");
      assert.equal(h.tapOriginHead(), tapHead, "tap origin unchanged");
      assert.equal(h.git(h.work, ["tag", "--list", TAG]), "", "no local tag");
      assert.equal(h.git(h.tapWork, ["status", "--porcelain"]), "", "tap checkout untouched");
      assert.match(readFileSync(join(h.tapWork, "Formula/plasmite.rb"), "utf8"), /version "0\.8\.0"/);
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 0);
      assert.equal(h.sim.world.actions.pushes.length, 0);
      assert.equal(h.sim.world.actions.runCount("release.yml"), 0);
      assert.deepEqual(listAll(h.work), [], "no ergo writes");
      for (const want of [
        `tag -a ${TAG} -m 'Release ${TAG}'`,
        `push origin ${TAG}`,
        `commit -m 'plasmite: update to 0.9.0' -- Formula/plasmite.rb`,
        `POST /repos/${REPO}/actions/workflows/release-publish.yml/dispatches {"ref":"main","inputs":{"release_tag":"${TAG}","rehearsal":"true"},"return_run_details":true}`,
        `"rehearsal":"false"`,
        `gh workflow run release-publish.yml --repo ${REPO} --ref main -f release_tag=${TAG} -f rehearsal=false`,
      ]) {
        assert.ok(r.stdout.includes(want), `stdout lists: ${want}\n${r.stdout}`);
      }
      assert.match(r.stdout, /dry-run plan checked: nothing was changed/);
      assert.match(r.stdout, /✔ gates +ok +2 gates passed/);
      const report = readFileSync(h.evidence, "utf8");
      assertReport(report);
      assert.match(report, /- Mode: dry-run/);
      assert.match(report, /- Base tag: v0\.8\.0/);
      assert.match(report, /Planned actions \(dry-run, nothing was changed\)/);
    } finally {
      await h.close();
    }
  });

  it("live: tags, builds, aligns the tap, rehearses, publishes once each and verifies every channel", async () => {
    const h = await createHarness();
    try {
      const r = await h.cli(["--mode", "live", "--yes", "--json", "--agent", "tester@ci"]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const s = parse(r.stdout);
      assert.equal(s.schema, "release-monitor/release-run@1");
      assert.equal(s.outcome, "complete");
      assert.equal(s.base_tag, "v0.8.0");
      assert.deepEqual(
        s.steps.map((x) => [x.name, x.status]),
        [
          ["context", "ok"],
          ["preconditions", "ok"],
          ["gates", "ok"],
          ["tag", "ok"],
          ["build", "ok"],
          ["homebrew", "ok"],
          ["rehearsal", "ok"],
          ["publish", "ok"],
          ["verify", "ok"],
        ],
      );
      const head = h.git(h.work, ["rev-parse", "HEAD"]);
      const tags = h.originTags();
      assert.equal(tags[`${TAG}^{}`], head, "annotated tag on origin peels to HEAD");
      assert.notEqual(tags[TAG], head, "annotated: the ref is a tag object");
      assert.equal(h.sim.world.actions.pushes.length, 1);
      assert.equal(h.sim.world.actions.runCount("release.yml"), 1);
      assert.match(step(s, "build").detail, /metadata tag v0\.9\.0, version 0\.9\.0, source_sha/);

      const tapHead = h.tapOriginHead();
      assert.equal(
        h.git(h.root, ["--git-dir", h.tapOrigin, "log", "-1", "--format=%s", tapHead]),
        "plasmite: update to 0.9.0",
      );
      const formula = h.git(h.root, ["--git-dir", h.tapOrigin, "show", `${tapHead}:Formula/plasmite.rb`]);
      assert.match(formula, /version "0\.9\.0"/);
      for (const a of h.sim.world.artifacts("plasmite", "0.9.0").assets.filter((x) => x.platform)) {
        assert.ok(formula.includes(`/download/${TAG}/${a.name}"`), a.name);
        assert.ok(
          formula.includes(`sha256 "${a.content.sha256()}"`),
          `sha256 of ${a.name} = the release asset's bytes`,
        );
      }

      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 2);
      const publishRuns = h.sim.world.actions.runs(REPO).filter((x) => x.workflow.file === "release-publish.yml");
      assert.deepEqual(publishRuns.map((x) => x.rehearsal).sort(), [false, true], "one rehearsal, one live run");
      assert.equal(s.runs.publish?.conclusion, "success");
      assert.equal(s.verify?.status, "ok");
      assert.deepEqual(
        s.verify?.channels.map((c) => c.status),
        ["ok", "ok", "ok", "ok", "ok"],
      );
      assert.deepEqual(blockerTasks(h).tasks, []);

      const report = readFileSync(h.evidence, "utf8");
      assertReport(report);
      assert.match(report, /- Outcome: complete/);
      assert.match(report, /- Agent: tester@ci/);
      for (const run of [s.runs.build, s.runs.rehearsal, s.runs.publish])
        assert.ok(report.includes(String(run?.id)), `run ${run?.id} in the report`);
      assert.ok(report.includes(s.runs.build!.url));
      assert.match(report, /Tag push: pushed v0\.9\.0/);
      assert.match(
        report,
        /homebrew tap: Formula\/plasmite\.rb: 0\.8\.0 → 0\.9\.0; commit [0-9a-f]{40}; pushed; aligned/,
      );
      assert.match(report, /- npm: ok/);
      assert.match(report, /- Homebrew: ok/);
      assert.ok(!report.includes("_pending_"), "nothing left pending in a complete report");
      const cp = JSON.parse(readFileSync(h.checkpoint, "utf8")) as { outcome: string; schema: string };
      assert.equal(cp.schema, "release-monitor/checkpoint@1");
      assert.equal(cp.outcome, "complete");
      keepArtifact(h.evidence, "evidence-happy-v0.9.0.md");
    } finally {
      await h.close();
    }
  });

  it("a failing QA gate stops before the tag, logs the gate and files a blocker", async () => {
    const h = await createHarness({
      gates: [
        { name: "fmt", run: ["node", "-e", "console.log('fmt ok')"] },
        {
          name: "unit-tests",
          run: [
            "node",
            "-e",
            "console.log('running 3 tests'); console.error('test queue::overflow ... FAILED'); process.exit(3)",
          ],
        },
        { name: "never-runs", run: ["node", "-e", "require('fs').writeFileSync('ran', '')"] },
      ],
    });
    try {
      const r = await h.cli(["--mode", "live", "--yes"]);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /FAILED at gates/);
      assert.match(r.stdout, /✘ gates +failed +QA gate unit-tests failed: node -e .* — exit 3/);
      assert.match(
        r.stdout,
        /recovery: \S+ergo --dir \S+ done [A-Z0-9]+\n +then: monitor release v0\.9\.0 --config \S+ --mode live\n/,
      );
      assert.equal(h.originTags()[TAG], undefined, "no tag on origin");
      assert.equal(h.git(h.work, ["tag", "--list", TAG]), "");
      assert.equal(h.sim.world.actions.pushes.length, 0);
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 0);
      assert.ok(!existsSync(join(h.work, "ran")), "gates after the failure do not run");
      const log = readFileSync(join(h.work, ".scratch/release/logs/unit-tests.log"), "utf8");
      assert.match(log, /running 3 tests/);
      assert.match(log, /test queue::overflow \.\.\. FAILED/);
      assert.match(log, /# exit: 3/);

      const { epic, tasks } = blockerTasks(h);
      assert.ok(epic, "epic Release blockers: v0.9.0");
      assert.equal(tasks.length, 1);
      assert.equal(tasks[0]!.title, `[release-blocker][${TAG}] gates: gate unit-tests failed`);
      assert.ok(
        tasks[0]!.body.startsWith("## Goal\n"),
        `no leading blank line: ${JSON.stringify(tasks[0]!.body.slice(0, 20))}`,
      );
      assert.match(tasks[0]!.body, /failing command: node -e/);
      assert.match(tasks[0]!.body, /log: test queue::overflow \.\.\. FAILED/);
      assert.match(tasks[0]!.body, /## Automated Validation Gates/);
      const report = readFileSync(h.evidence, "utf8");
      assertReport(report);
      assert.match(report, /Gate unit-tests: FAILED \(exit 3\)/);
      assert.match(
        report,
        new RegExp(
          `Blocker \\(gates, [^)]+\\): gates: gate unit-tests failed — task ${tasks[0]!.id} in epic ${epic.id}`,
        ),
      );
    } finally {
      await h.close();
    }
  });

  it("a failed build files a blocker with the failed jobs and their URLs, and publishes nothing", async () => {
    const h = await createHarness();
    try {
      h.sim.world.actions.script("release.yml", [
        { conclusion: "failure", failJob: "build-platform (x86_64-apple-darwin)" },
      ]);
      const tapHead = h.tapOriginHead();
      const r = await h.cli(["--mode", "live", "--yes", "--json"]);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      const s = parse(r.stdout);
      assert.equal(s.outcome, "failed");
      assert.equal(s.failed_step, "build");
      const runId = s.runs.build!.id;
      const failed = s.failed_jobs.find((j) => j.name === "build-platform (x86_64-apple-darwin)");
      assert.ok(failed, JSON.stringify(s.failed_jobs));
      assert.match(failed.url, new RegExp(`/actions/runs/${runId}/job/\\d+$`));
      assert.ok(h.originTags()[TAG], "the tag was pushed before the build");
      assert.equal(h.tapOriginHead(), tapHead, "tap untouched");
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 0);
      assert.ok(
        s.recovery.some((c) => c.startsWith(`gh run rerun ${runId} --failed`)),
        s.recovery.join("\n"),
      );
      assert.ok(s.recovery.some((c) => c.endsWith("--mode live --resume")));

      const { tasks } = blockerTasks(h);
      assert.equal(tasks.length, 1);
      assert.equal(s.blocker?.task_id, tasks[0]!.id);
      const body = tasks[0]!.body;
      assert.match(body, new RegExp(`run_id: ${runId}; run_url: \\S+/actions/runs/${runId}`));
      assert.ok(body.includes(`failed job: build-platform (x86_64-apple-darwin) — ${failed.url}`), body);
      assert.ok(body.includes(`gh run rerun ${runId} --failed`), body);
      const report = readFileSync(h.evidence, "utf8");
      assertReport(report);
      assert.match(report, /- Outcome: failed/);
      assert.ok(report.includes(`  - build-platform (x86_64-apple-darwin): ${failed.url}`));
      keepArtifact(h.evidence, "evidence-build-failure-v0.9.0.md");
    } finally {
      await h.close();
    }
  });

  it("a publish failure, a fix, then --resume: a publish-only rerun (no re-tag, no rebuild, one more dispatch)", async () => {
    const h = await createHarness();
    try {
      const world = h.sim.world;
      world.actions.honorReturnRunDetails = false; // 204: the driver must find its run by polling
      world.actions.script("release-publish.yml", [
        { conclusion: "failure", failJob: "publish-npm", rehearsal: false },
      ]);
      const first = await h.cli(["--mode", "live", "--yes", "--json"]);
      assert.equal(first.code, 1, `${first.stdout}\n${first.stderr}`);
      const s1 = parse(first.stdout);
      assert.equal(s1.failed_step, "publish");
      assert.ok(s1.failed_jobs.some((j) => j.name === "publish-npm" && /\/job\/\d+$/.test(j.url)));
      assert.deepEqual(
        [...world.artifacts("plasmite", "0.9.0").published].sort(),
        ["crates", "pypi"],
        "a partial release",
      );
      const tagObject = h.originTags()[TAG];
      const tapHead = h.tapOriginHead();
      assert.equal(world.actions.dispatchCount("release-publish.yml"), 2);
      const { tasks } = blockerTasks(h);
      assert.equal(tasks.length, 1);
      assert.match(tasks[0]!.body, /failed job: publish-npm — \S+\/job\/\d+/);
      assert.match(tasks[0]!.body, /publish-only rerun/);

      const again = await h.cli(["--mode", "live", "--yes"]);
      assert.equal(again.code, 2, "a live release in progress needs --resume");
      assert.match(again.stderr, /--resume/);

      // the fix: npm credentials repaired (next publish run succeeds by default) and the blocker closed
      // closed with the exact command the failed run printed (`ergo --dir <repo> done <task>`)
      const close = s1.recovery.find((c) => c.includes(" done "));
      assert.equal(close, `${REAL_ERGO} --dir ${h.work} done ${tasks[0]!.id}`);
      assert.match(s1.recovery.at(-1) ?? "", /^monitor release v0\.9\.0 --config \S+ --mode live --resume$/);
      assert.deepEqual(s1.alternatives, [
        `gh workflow run release-publish.yml --repo ${REPO} --ref main -f release_tag=${TAG} -f rehearsal=false`,
      ]);
      const [program, ...args] = close.split(" ");
      assert.equal(spawnSync(program!, args, { cwd: h.root, stdio: "ignore" }).status, 0);
      assert.equal(listAll(h.work).find((t) => t.id === tasks[0]!.id)?.state, "done");
      const resumed = await h.cli(["--mode", "live", "--yes", "--resume", "--json"]);
      assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
      const s2 = parse(resumed.stdout);
      assert.equal(s2.outcome, "complete");
      assert.deepEqual(
        s2.steps.map((x) => [x.name, x.status]),
        [
          ["context", "ok"],
          ["preconditions", "ok"],
          ["gates", "done"],
          ["tag", "done"],
          ["build", "ok"],
          ["homebrew", "done"],
          ["rehearsal", "done"],
          ["publish", "ok"],
          ["verify", "ok"],
        ],
      );
      assert.equal(h.originTags()[TAG], tagObject, "tag object unchanged");
      assert.equal(world.actions.pushes.length, 1, "no second tag push");
      assert.equal(world.actions.runCount("release.yml"), 1, "build not re-run");
      assert.equal(world.actions.dispatchCount("release.yml"), 0);
      assert.equal(world.actions.dispatchCount("release-publish.yml"), 3, "exactly one more publish dispatch");
      assert.equal(h.tapOriginHead(), tapHead, "tap not touched again");
      assert.notEqual(s2.runs.publish?.id, s1.runs.publish?.id);
      assert.equal(s2.runs.build?.id, s1.runs.build?.id);
      assert.ok(
        s2.decisions.some((d) => d.startsWith("resume: tag already done")),
        s2.decisions.join("\n"),
      );
      assert.equal(s2.verify?.status, "ok");
      const report = readFileSync(h.evidence, "utf8");
      assertReport(report);
      assert.match(report, /- Outcome: complete/);
      assert.match(report, /Blocker \(publish, /);
      keepArtifact(h.evidence, "evidence-publish-failure-resumed-v0.9.0.md");
    } finally {
      await h.close();
    }
  });

  it("SIGINT while waiting for the build leaves a consistent checkpoint (exit 130); --resume completes", async () => {
    const h = await createHarness();
    try {
      // The build run is held in_progress, so the SIGINT lands while the CLI waits on it, however slow the machine.
      h.sim.world.actions.script("release.yml", [{ conclusion: "success", hold: true }]);
      const child = h.start(["--mode", "live", "--yes"]);
      await until(() => child.stderr().includes("waiting for release run"), 30_000, "the build wait");
      child.signal("SIGINT");
      const r = await child.done;
      assert.equal(h.sim.world.actions.releaseHeld("release.yml"), 1, "the build run was still held at the SIGINT");
      assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /interrupted at build/);
      const cp = JSON.parse(readFileSync(h.checkpoint, "utf8")) as {
        outcome: string;
        current_step: string;
        steps: Record<string, { status: string }>;
        facts: { build_run?: { id: number }; remote_tag?: { commit: string } };
      };
      assert.equal(cp.outcome, "interrupted");
      assert.equal(cp.current_step, "build");
      assert.equal(cp.steps["tag"]?.status, "ok");
      assert.equal(cp.steps["build"]?.status, "interrupted");
      assert.equal(cp.steps["homebrew"]?.status, "pending");
      assert.ok(cp.facts.build_run?.id, "the build run id is in the checkpoint");
      assert.match(readFileSync(h.evidence, "utf8"), /- Outcome: interrupted/);
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 0);

      const resumed = await h.cli(["--mode", "live", "--yes", "--resume"]);
      assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
      assert.match(resumed.stdout, /✔ tag +done/);
      assert.equal(h.sim.world.actions.pushes.length, 1);
      assert.equal(h.sim.world.actions.runCount("release.yml"), 1);
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 2);
    } finally {
      await h.close();
    }
  });

  it("SIGINT while waiting for the live publish run: --resume attaches to that run instead of dispatching again", async () => {
    const h = await createHarness();
    try {
      h.sim.world.actions.script("release-publish.yml", [{ conclusion: "success", rehearsal: false, hold: true }]);
      const child = h.start(["--mode", "live", "--yes"]);
      await until(
        () => child.stderr().includes("publish: waiting for release-publish.yml run"),
        30_000,
        "the publish wait",
      );
      // The live run is held in_progress: the SIGINT cannot lose a race against its completion.
      child.signal("SIGINT");
      const r = await child.done;
      assert.equal(r.code, 130, `${r.stdout}\n${r.stderr}`);
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 2);
      assert.equal(h.sim.world.actions.heldRuns("release-publish.yml").length, 1, "the live run is still in progress");
      const resuming = h.start(["--mode", "live", "--yes", "--resume", "--json"]);
      await until(
        () => resuming.stderr().includes("publish: waiting for release-publish.yml run"),
        30_000,
        "the resumed publish wait",
      );
      assert.equal(h.sim.world.actions.releaseHeld("release-publish.yml"), 1);
      const resumed = await resuming.done;
      assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
      const s = parse(resumed.stdout);
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 2, "no second live dispatch");
      assert.equal(step(s, "rehearsal").status, "done");
      assert.ok(
        s.decisions.some((d) => d.startsWith("attached to the publish run")),
        s.decisions.join("\n"),
      );
      assert.equal(s.verify?.status, "ok");
    } finally {
      await h.close();
    }
  });

  it("live without a TTY and without --yes refuses (exit 2) and changes nothing", async () => {
    const h = await createHarness();
    try {
      const r = await h.cli(["--mode", "live"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /refusing a live release of v0\.9\.0 without confirmation/);
      assert.equal(h.sim.world.actions.pushes.length, 0);
      assert.equal(h.git(h.work, ["tag", "--list", TAG]), "");
      const bad = await h.cli(["--mode", "sideways"]);
      assert.equal(bad.code, 2);
    } finally {
      await h.close();
    }
  });

  it(
    "live on a terminal asks to type the tag; a mismatch refuses (exit 2) before any step",
    { skip: !HAS_SCRIPT && "needs script(1) for a pty" },
    async () => {
      const h = await createHarness();
      try {
        // script(1) gives the CLI a pseudo-terminal, so stdin and stderr are TTYs as for an operator.
        const command = [process.execPath, CLI, "release", TAG, "--config", h.config, "--mode", "live"].join(" ");
        const child = spawn("script", ["-qec", command, "/dev/null"], {
          env: { ...process.env, ...GIT_ENV },
          stdio: ["pipe", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString("utf8");
          if (out.includes(`Type ${TAG} to continue`) && !out.includes("v0.9.1")) child.stdin.write("v0.9.1\r");
        });
        const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
        assert.equal(code, 2, out);
        assert.match(out, /Live release of plasmite v0\.9\.0: tags, pushes and publishes for real/);
        assert.match(out, /confirmation "v0\.9\.1" does not match v0\.9\.0: nothing was done/);
        assert.equal(h.sim.world.actions.pushes.length, 0);
        assert.ok(!existsSync(h.checkpoint), "no step ran");
      } finally {
        await h.close();
      }
    },
  );

  it("open blockers stop the run at preconditions with their ids, and no blocker is filed about them", async () => {
    const h = await createHarness();
    try {
      const client = new ErgoClient({ dir: h.work, binary: REAL_ERGO });
      const open = await createBlockerTask(client, { tag: TAG, title: "npm token expired", body: "## Goal\n\nx\n" });
      const before = listAll(h.work);
      const r = await h.cli(["--mode", "live", "--yes", "--json"]);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      const s = parse(r.stdout);
      assert.equal(s.failed_step, "preconditions");
      assert.match(
        step(s, "preconditions").detail,
        new RegExp(`release blockers: 1 open: ${open.taskId} \\[release-blocker\\]`),
      );
      assert.equal(s.blocker, null, "no new blocker");
      assert.deepEqual(listAll(h.work), before, "ergo unchanged: no blocker about the blockers");
      assert.deepEqual(s.recovery, [
        `${REAL_ERGO} --dir ${h.work} done ${open.taskId}`,
        `monitor release ${TAG} --config ${h.config} --mode live`,
      ]);
      assert.ok(
        s.decisions.some((d) => d.includes(`already blocked by open blocker(s) ${open.taskId}`)),
        s.decisions.join("\n"),
      );
      assert.equal(h.originTags()[TAG], undefined);
    } finally {
      await h.close();
    }
  });

  it("an upstream that cannot answer makes the run unknown (exit 3), never ok or failed", async () => {
    const h = await createHarness();
    try {
      h.sim.world.faults.add({ service: "github-api", path: `/repos/${REPO}/actions/secrets`, kind: "503" });
      const r = await h.cli(["--mode", "live", "--yes", "--json"]);
      assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
      const s = parse(r.stdout);
      assert.equal(s.outcome, "unknown");
      assert.equal(s.failed_step, "preconditions");
      assert.match(step(s, "preconditions").detail, /could not check: actions secrets/);
      assert.equal(s.blocker, null, "no blocker for an upstream outage");
      assert.equal(h.originTags()[TAG], undefined);
      assert.deepEqual(blockerTasks(h).tasks, []);
    } finally {
      await h.close();
    }
  });

  it("a tag already on the remote at another commit stops the release at the tag step", async () => {
    const h = await createHarness();
    try {
      h.git(h.work, ["tag", "-a", TAG, "-m", "premature", "HEAD~1"]);
      await gitAsync(h.work, ["push", "--quiet", "origin", TAG]);
      h.git(h.work, ["tag", "-d", TAG]);
      const before = h.originTags()[TAG];
      const r = await h.cli(["--mode", "live", "--yes"]);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /✘ tag +failed +v0\.9\.0 on origin points at [0-9a-f]{40}, but HEAD is [0-9a-f]{40}/);
      assert.equal(h.originTags()[TAG], before, "the pushed tag is never moved");
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 0);
    } finally {
      await h.close();
    }
  });
});
