/**
 * `monitor release` recovery paths and conditional gates, end to end: the real CLI as a child process against the
 * rehearsal world (src/sim/release-rehearsal.ts) served by this test process, so the test can script the sim
 * between runs and read its Actions directly.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { plasmiteWorkflowsWithPartialRelease } from "../../src/sim/model-actions.ts";
import { CLI } from "../helpers/cli.ts";
import { listAll } from "../helpers/real-ergo.ts";
import { createHarness, GIT_ENV, gitAsync, REPO, TAG, type Harness } from "./harness.ts";

const HAS_SCRIPT = spawnSync("script", ["--version"]).status === 0;

interface Summary {
  outcome: string;
  path: string;
  failed_step: string | null;
  steps: { name: string; status: string; detail: string }[];
  runs: { build: { id: number } | null; publish: { id: number } | null };
  recovery: string[];
  decisions: string[];
  blocker: { task_id: string | null } | null;
}

const parse = (stdout: string): Summary => JSON.parse(stdout) as Summary;
const step = (s: Summary, name: string) => s.steps.find((x) => x.name === name)!;

function closeBlocker(s: Summary): void {
  const close = s.recovery.find((c) => c.includes(" done "));
  assert.ok(close, s.recovery.join("\n"));
  const [program, ...args] = close.split(" ");
  assert.equal(spawnSync(program!, args, { stdio: "ignore" }).status, 0);
}

const publishDispatches = (h: Harness) =>
  h.sim.world.actions
    .runs(REPO, { event: "workflow_dispatch" })
    .filter((r) => r.workflow.file === "release-publish.yml")
    .reverse();

describe("monitor release: publish-only rerun (--build-run-id)", { timeout: 180_000 }, () => {
  it("refuses a run of another workflow with the run/workflow mismatch diagnosis, then reruns publish from the release run", async () => {
    const h = await createHarness();
    try {
      h.sim.world.actions.script("release-publish.yml", [
        { conclusion: "failure", failJob: "publish-preflight", rehearsal: false },
      ]);
      const first = await h.cli(["--mode", "live", "--yes", "--json"]);
      assert.equal(first.code, 1, `${first.stdout}\n${first.stderr}`);
      const s1 = parse(first.stdout);
      assert.equal(s1.failed_step, "publish");
      closeBlocker(s1);
      const tagObject = h.originTags()[TAG];
      const dispatched = h.sim.world.actions.dispatchCount("release-publish.yml");
      const tasks = listAll(h.work).length;

      // the mistake the seed describes: the failed release-publish run's id instead of the release build's
      const wrong = s1.runs.publish!.id;
      const refused = await h.cli(["--mode", "live", "--yes", "--json", "--build-run-id", String(wrong)]);
      assert.equal(refused.code, 2, `${refused.stdout}\n${refused.stderr}`);
      const s2 = parse(refused.stdout);
      assert.equal(s2.outcome, "refused");
      assert.equal(s2.failed_step, "build");
      assert.match(
        step(s2, "build").detail,
        new RegExp(
          `^refused: run/workflow mismatch: --build-run-id ${wrong} \\(\\S+\\) is a run of workflow release-publish \\(\\.github/workflows/release-publish\\.yml\\), not release \\(release\\.yml\\)`,
        ),
      );
      assert.ok(
        s2.decisions.includes(
          `build: immediate fix: choose a successful release run and validate it with: bash skills/plasmite-release-manager/scripts/inspect_release_build_metadata.sh --run-id <id> --expect-tag ${TAG}`,
        ),
        s2.decisions.join("\n"),
      );
      assert.equal(s2.blocker, null, "a refused input is not an incident: no blocker");
      assert.equal(listAll(h.work).length, tasks);
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), dispatched, "nothing dispatched");
      assert.match(readFileSync(h.evidence, "utf8"), /\*\*Mode: live · Path: publish-only · Result: refused\*\*/);

      const buildId = s1.runs.build!.id;
      const rerun = await h.cli(["--mode", "live", "--yes", "--json", "--build-run-id", String(buildId)]);
      assert.equal(rerun.code, 0, `${rerun.stdout}\n${rerun.stderr}`);
      const s3 = parse(rerun.stdout);
      assert.equal(s3.outcome, "complete");
      assert.equal(s3.path, "publish-only");
      assert.match(step(s3, "build").detail, new RegExp(`^publish-only: --build-run-id ${buildId} validated`));
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), dispatched + 1, "one publish dispatch");
      const last = publishDispatches(h).at(-1)!;
      assert.deepEqual(
        [last.inputs["build_run_id"], last.inputs["release_tag"], last.inputs["rehearsal"]],
        [String(buildId), "", "false"],
      );
      assert.equal(last.buildRunId, buildId);
      assert.equal(h.originTags()[TAG], tagObject, "no new tag");
      assert.equal(h.sim.world.actions.pushes.length, 1);
      assert.equal(h.sim.world.actions.runCount("release.yml"), 1, "nothing rebuilt");
      const report = readFileSync(h.evidence, "utf8");
      assert.match(report, /\*\*Mode: live · Path: publish-only · Result: complete\*\*/);
      assert.match(report, new RegExp(`- Path: publish-only — --build-run-id ${buildId}: publish-only rerun`));
    } finally {
      await h.close();
    }
  });

  it("verifies tap alignment and never rewrites the tap: an unaligned tap stops the rerun before any dispatch", async () => {
    const h = await createHarness();
    try {
      h.sim.world.actions.script("release-publish.yml", [
        { conclusion: "failure", failJob: "publish-preflight", rehearsal: false },
      ]);
      const first = parse((await h.cli(["--mode", "live", "--yes", "--json"])).stdout);
      assert.equal(first.failed_step, "publish");
      closeBlocker(first);
      // someone reverts the tap formula on the tap's origin
      h.git(h.tapWork, ["reset", "--quiet", "--hard", "HEAD~1"]);
      h.git(h.tapWork, ["push", "--quiet", "--force", "origin", "main"]);
      const tapHead = h.tapOriginHead();
      const dispatched = h.sim.world.actions.dispatchCount("release-publish.yml");
      const r = await h.cli(["--mode", "live", "--yes", "--json", "--build-run-id", String(first.runs.build!.id)]);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      const s = parse(r.stdout);
      assert.equal(s.failed_step, "homebrew");
      assert.match(
        step(s, "homebrew").detail,
        /publish-only rerun from build run \d+: the tap formula is not aligned with 0\.9\.0/,
      );
      assert.equal(h.tapOriginHead(), tapHead, "the tap is not rewritten");
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), dispatched);
    } finally {
      await h.close();
    }
  });

  it("refuses a build run whose release-metadata is for another tag", async () => {
    const h = await createHarness();
    try {
      // v0.8.0 gets a real build run in the sim (a push of that tag), whose metadata says v0.8.0
      const [other] = h.sim.world.actions.onTagPushed(REPO, "v0.8.0", h.git(h.work, ["rev-parse", "v0.8.0^{commit}"]));
      h.git(h.work, ["tag", "-a", TAG, "-m", `Release ${TAG}`]);
      await gitAsync(h.work, ["push", "--quiet", "origin", TAG]);
      await new Promise<void>((resolve) => {
        const wait = (): void => {
          if (h.sim.world.actions.run(REPO, other!.id)?.finalized) resolve();
          else setImmediate(wait);
        };
        wait();
      });
      const r = await h.cli(["--mode", "live", "--yes", "--json", "--build-run-id", String(other!.id)]);
      assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(
        step(parse(r.stdout), "build").detail,
        /refused: metadata\.json of run \d+: tag v0\.8\.0 != v0\.9\.0/,
      );
      assert.equal(h.sim.world.actions.dispatchCount("release-publish.yml"), 0);
    } finally {
      await h.close();
    }
  });
});

describe("monitor release: conditional gates (when.changed)", { timeout: 120_000 }, () => {
  const gates = [
    {
      name: "cargo-audit",
      run: ["node", "-e", "require('fs').writeFileSync('audit-ran', ''); console.log('0 vulnerabilities')"],
      when: { changed: ["Cargo.lock", "**/Cargo.lock"] },
    },
  ];

  it("only docs changed since base_tag: the gate is skipped and the evidence names the diff base", async () => {
    const h = await createHarness({ gates, releaseChanges: { "docs/guide.md": "# guide\n" } });
    try {
      const r = await h.cli(["--json"]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(
        step(parse(r.stdout), "gates").detail,
        /^no gate ran; skipped \(no matching changes\): cargo-audit$/,
      );
      assert.ok(!existsSync(join(h.work, "audit-ran")), "the gate did not run");
      assert.match(
        readFileSync(h.evidence, "utf8"),
        /- Gate cargo-audit: skipped: no matching changes \(Cargo\.lock, \*\*\/Cargo\.lock\) since v0\.8\.0 \(git diff --name-only v0\.8\.0 HEAD: 2 files\)/,
      );
    } finally {
      await h.close();
    }
  });

  it("Cargo.lock changed since base_tag: the gate runs", async () => {
    const h = await createHarness({ gates, releaseChanges: { "Cargo.lock": "# lockfile\nversion = 4\n# bumped\n" } });
    try {
      const r = await h.cli(["--json"]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(step(parse(r.stdout), "gates").detail, /^1 gates passed: cargo-audit$/);
      assert.ok(existsSync(join(h.work, "audit-ran")), "the gate ran");
      assert.match(
        readFileSync(h.evidence, "utf8"),
        /- Gate cargo-audit: passed in [\d.]+s — .* — conditional: runs: Cargo\.lock changed since v0\.8\.0/,
      );
    } finally {
      await h.close();
    }
  });
});

describe("monitor release: immutable release check", { timeout: 120_000 }, () => {
  it("a release attestation that leaves out an asset fails verify", async () => {
    const h = await createHarness();
    try {
      h.sim.world.github.repo("sandover", "plasmite")!.attestationOmits.add("sha256sums.txt");
      const r = await h.cli(["--mode", "live", "--yes", "--json"]);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      const s = parse(r.stdout);
      assert.equal(s.failed_step, "verify");
      assert.match(
        step(s, "verify").detail,
        /immutable release check: sha256sums\.txt is not a subject of the release attestation/,
      );
    } finally {
      await h.close();
    }
  });
});

describe("monitor release: bypass confirmation on a terminal", { timeout: 120_000 }, () => {
  it(
    "live asks to type the channel list back after the tag; a mismatch refuses (exit 2) before any step",
    { skip: !HAS_SCRIPT && "needs script(1) for a pty" },
    async () => {
      const h = await createHarness({ workflows: plasmiteWorkflowsWithPartialRelease() });
      try {
        const command = [
          process.execPath,
          CLI,
          "release",
          TAG,
          "--config",
          h.config,
          "--mode",
          "live",
          "--skip-channel",
          "pypi",
          "--allow-partial",
        ].join(" ");
        const child = spawn("script", ["-qec", command, "/dev/null"], {
          env: { ...process.env, ...GIT_ENV },
          stdio: ["pipe", "pipe", "pipe"],
        });
        let out = "";
        let answered = 0;
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString("utf8");
          if (answered === 0 && out.includes(`Type ${TAG} to continue`)) {
            answered = 1;
            child.stdin.write(`${TAG}\r`);
          }
          if (answered === 1 && out.includes("Type pypi to confirm the bypass")) {
            answered = 2;
            child.stdin.write("npm\r");
          }
        });
        const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
        assert.equal(code, 2, out);
        assert.match(out, /Partial release: pypi will NOT get v0\.9\.0 \(allow_partial_release=true\)/);
        assert.match(out, /bypass confirmation "npm" does not match pypi: nothing was done/);
        assert.equal(h.sim.world.actions.pushes.length, 0);
        assert.ok(!existsSync(h.checkpoint), "no step ran");
      } finally {
        await h.close();
      }
    },
  );
});
