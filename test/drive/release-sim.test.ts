/**
 * `monitor release <tag> --sim <scenario>`: the offline rehearsal, as a CLI child process. Each scenario builds its
 * own temp repositories with bare origins and runs the driver against the simulated GitHub (Actions included);
 * `--keep --json` leaves the repositories for these assertions (the bare origin's tags, the tap commit) and reports
 * the dispatch calls the sim's Actions received. Blockers go to the real ergo 6.0.0, first on PATH.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { openStateStore } from "../../src/state/sqlite.ts";
import { runCli, type CliResult } from "../helpers/cli.ts";
import { listAll, REAL_ERGO } from "../helpers/real-ergo.ts";

const TAG = "v0.9.0";

interface Dispatch {
  workflow: string;
  run_id: number;
  inputs: Record<string, string>;
  conclusion: string | null;
}

interface Phase {
  label: string;
  outcome: string;
  path: string;
  failed_step: string | null;
  steps: { name: string; status: string; detail: string }[];
  runs: { build: { id: number } | null; publish: { id: number } | null };
  verify: { status: string; channels: { channel: string; status: string; note: string }[] } | null;
  blocker: { task_id: string | null } | null;
  decisions: string[];
}

interface SimOut {
  schema: string;
  scenario: string;
  phases: Phase[];
  sim: {
    root: string;
    evidence_report: string;
    dispatches: Dispatch[];
    dispatches_total: number;
    tag_pushes: { tag: string; sha: string }[];
    origin_tags: string[];
  };
}

async function rehearse(
  scenario: string,
  extra: string[] = [],
  keep = true,
): Promise<{ r: CliResult; out: SimOut | null }> {
  const r = await runCli(
    ["release", TAG, "--sim", scenario, ...(keep ? ["--keep"] : []), "--json", "--agent", "tester@ci", ...extra],
    {
      env: { PATH: `${dirname(REAL_ERGO)}:${process.env["PATH"] ?? ""}` },
      cwd: "/tmp",
      timeoutMs: 150_000,
    },
  );
  try {
    return { r, out: JSON.parse(r.stdout) as SimOut };
  } catch {
    return { r, out: null };
  }
}

function parsed(x: { r: CliResult; out: SimOut | null }): SimOut {
  assert.ok(x.out, `stdout is not JSON:\n${x.r.stdout}\n${x.r.stderr}`);
  return x.out;
}

const git = (args: string[]): string => execFileSync("git", args, { encoding: "utf8" }).trim();

/** The bare project origin's tags: ref → sha (annotated tags also as `ref^{}`). */
function originTags(root: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const line of git(["ls-remote", "--tags", join(root, "plasmite.git")])
    .split("\n")
    .filter(Boolean)) {
    const [sha = "", ref = ""] = line.split(/\s+/);
    tags[ref.replace(/^refs\/tags\//, "")] = sha;
  }
  return tags;
}

const tapSubject = (root: string): string =>
  git(["--git-dir", join(root, "homebrew-tap.git"), "log", "-1", "--format=%s", "main"]);

const SECTIONS = [
  "## Release Context",
  "## Resume Checkpoint",
  "## QA Gate Evidence",
  "## Release Mechanics",
  "## Delivery Verification",
  "## Blockers and Decisions",
  "## Delivery",
];

function evidence(out: SimOut): string {
  const text = readFileSync(out.sim.evidence_report, "utf8");
  let at = -1;
  for (const s of SECTIONS) {
    const i = text.indexOf(`\n${s}\n`);
    assert.ok(i > at, `section ${s} in order`);
    at = i;
  }
  return text;
}

/** The text of one `## ` section. */
function section(text: string, title: string): string {
  const start = text.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, title);
  const end = text.indexOf("\n## ", start + 4);
  return text.slice(start, end < 0 ? undefined : end);
}

function cleanup(out: SimOut | null): void {
  if (out) rmSync(out.sim.root, { recursive: true, force: true });
}

describe("monitor release --sim", { timeout: 300_000 }, () => {
  it("happy --mode live --yes: tags, aligns the tap, rehearses and publishes once each, every channel ok", async () => {
    const x = await rehearse("happy", ["--mode", "live", "--yes"]);
    try {
      assert.equal(x.r.code, 0, `${x.r.stdout}\n${x.r.stderr}`);
      const out = parsed(x);
      assert.equal(out.schema, "release-monitor/release-sim@1");
      const [run] = out.phases;
      assert.equal(run?.outcome, "complete");
      assert.equal(run.path, "normal");
      assert.deepEqual(
        out.sim.dispatches.map((d) => [d.workflow, d.inputs["release_tag"], d.inputs["rehearsal"], d.conclusion]),
        [
          ["release-publish.yml", TAG, "true", "success"],
          ["release-publish.yml", TAG, "false", "success"],
        ],
      );
      const tags = originTags(out.sim.root);
      const head = git(["-C", join(out.sim.root, "plasmite"), "rev-parse", "HEAD"]);
      assert.equal(tags[`${TAG}^{}`], head, "the annotated tag on the bare origin peels to the release commit");
      assert.equal(tapSubject(out.sim.root), "plasmite: update to 0.9.0");
      const text = evidence(out);
      assert.match(
        text,
        /^# Release Evidence Report: v0\.9\.0\n\n\*\*Mode: live · Path: normal · Result: complete\*\*\n/,
      );
      assert.match(text, /- Gate cargo-audit: skipped: no matching changes \(Cargo\.lock\) since v0\.8\.0/);
      assert.match(
        text,
        /- Immutable release: ok — release v0\.9\.0 is immutable; its release attestation covers all 4 assets/,
      );
      for (const c of ["github", "crates", "npm", "pypi", "homebrew"])
        assert.match(
          section(text, "Delivery"),
          new RegExp(`\\| ${c} \\| ok \\(observed [^)]+\\) \\| http://127\\.0\\.0\\.1:\\d+/`),
        );
    } finally {
      cleanup(x.out);
    }
  });

  it("gate-fails: nothing tagged or dispatched; the blocker links from the gate section to its ergo id", async () => {
    const x = await rehearse("gate-fails", ["--mode", "live", "--yes"]);
    try {
      assert.equal(x.r.code, 1, `${x.r.stdout}\n${x.r.stderr}`);
      const out = parsed(x);
      assert.equal(out.phases[0]?.failed_step, "gates");
      assert.deepEqual(out.sim.dispatches, []);
      assert.equal(originTags(out.sim.root)[TAG], undefined);
      assert.equal(tapSubject(out.sim.root), "plasmite: update to 0.8.0");
      const task = out.phases[0].blocker?.task_id;
      assert.ok(task, "a blocker was filed");
      assert.ok(listAll(join(out.sim.root, "plasmite")).some((t) => t.id === task && t.kind === "task"));
      const text = evidence(out);
      const anchor = `blocker-${task.toLowerCase()}`;
      assert.ok(section(text, "QA Gate Evidence").includes(`- Blocker filed: [ergo ${task}](#${anchor})`), text);
      assert.ok(section(text, "Blockers and Decisions").includes(`<a id="${anchor}"></a>Blocker (gates,`), text);
      assert.match(text, /\*\*Mode: live · Path: normal · Result: failed\*\*/);
    } finally {
      cleanup(x.out);
    }
  });

  it("build-fails: the tag is pushed, the build fails, the tap and the registries are untouched", async () => {
    const x = await rehearse("build-fails", ["--mode", "live", "--yes"]);
    try {
      assert.equal(x.r.code, 1, `${x.r.stdout}\n${x.r.stderr}`);
      const out = parsed(x);
      assert.equal(out.phases[0]?.failed_step, "build");
      assert.deepEqual(out.sim.dispatches, []);
      assert.deepEqual(
        out.sim.tag_pushes.map((t) => t.tag),
        [TAG],
      );
      assert.ok(originTags(out.sim.root)[TAG]);
      assert.equal(tapSubject(out.sim.root), "plasmite: update to 0.8.0");
      assert.match(section(evidence(out), "Release Mechanics"), /- Blocker filed: \[ergo [A-Z0-9]+\]/);
    } finally {
      cleanup(x.out);
    }
  });

  it("publish-fails-then-fixed needs --resume; with it, the second run publishes once more and re-tags nothing", async () => {
    const refused = await rehearse("publish-fails-then-fixed", ["--mode", "live", "--yes"], false);
    assert.equal(refused.r.code, 2, refused.r.stderr);
    assert.match(refused.r.stderr, /needs --resume/);
    const x = await rehearse("publish-fails-then-fixed", ["--mode", "live", "--yes", "--resume"]);
    try {
      assert.equal(x.r.code, 0, `${x.r.stdout}\n${x.r.stderr}`);
      const out = parsed(x);
      assert.deepEqual(
        out.phases.map((p) => [p.outcome, p.failed_step]),
        [
          ["failed", "publish"],
          ["complete", null],
        ],
      );
      assert.equal(out.sim.dispatches_total, 3);
      assert.deepEqual(
        out.sim.dispatches.map((d) => [d.inputs["release_tag"], d.inputs["rehearsal"]]),
        [[TAG, "false"]],
      );
      assert.deepEqual(out.sim.tag_pushes, [], "no tag push in the resumed run");
      assert.equal(tapSubject(out.sim.root), "plasmite: update to 0.9.0");
      assert.match(evidence(out), /- Outcome: complete/);
    } finally {
      cleanup(x.out);
    }
  });

  it("credential-fix-rerun: the recovery dispatches publish once with build_run_id, no new tag", async () => {
    const x = await rehearse("credential-fix-rerun", ["--mode", "live", "--yes"]);
    try {
      assert.equal(x.r.code, 0, `${x.r.stdout}\n${x.r.stderr}`);
      const out = parsed(x);
      const [failed, rerun] = out.phases;
      assert.equal(failed?.failed_step, "publish");
      assert.equal(rerun?.outcome, "complete");
      assert.equal(rerun.path, "publish-only");
      const buildId = failed.runs.build?.id;
      assert.ok(buildId);
      assert.deepEqual(
        out.sim.dispatches.map((d) => [d.inputs["build_run_id"], d.inputs["release_tag"], d.inputs["rehearsal"]]),
        [[String(buildId), "", "false"]],
        "one publish dispatch, by build_run_id",
      );
      assert.deepEqual(out.sim.tag_pushes, []);
      assert.deepEqual(
        rerun.steps.filter((s) => s.status === "skipped").map((s) => s.name),
        ["gates", "tag", "rehearsal"],
      );
      const text = evidence(out);
      assert.match(text, /\*\*Mode: live · Path: publish-only · Result: complete\*\*/);
      assert.match(text, new RegExp(`- Path: publish-only — --build-run-id ${buildId}: publish-only rerun`));
    } finally {
      cleanup(x.out);
    }
  });

  it("registry-down-bypass --skip-channel pypi --allow-partial: dispatch carries the flags, pypi is skipped, a silence is recorded", async () => {
    const x = await rehearse("registry-down-bypass", [
      "--mode",
      "live",
      "--yes",
      "--skip-channel",
      "pypi",
      "--allow-partial",
    ]);
    try {
      assert.equal(x.r.code, 0, `${x.r.stdout}\n${x.r.stderr}`);
      const out = parsed(x);
      const [run] = out.phases;
      assert.equal(run?.path, "bypass");
      for (const d of out.sim.dispatches) {
        assert.equal(d.inputs["skip_pypi"], "true");
        assert.equal(d.inputs["allow_partial_release"], "true");
        assert.equal(d.inputs["skip_npm"], "false", "only the named channel is skipped");
      }
      assert.equal(out.sim.dispatches.length, 2);
      const pypi = run.verify?.channels.find((c) => c.channel === "pypi");
      assert.deepEqual(pypi, {
        channel: "pypi",
        status: "skipped",
        note: "bypassed by maintainer: tester@ci",
        evidence_url: null,
      });
      assert.equal(run.verify?.status, "ok", "skipped, not drift");
      assert.ok(
        run.decisions.some((d) => d.startsWith("bypass: tester@ci bypassed pypi for v0.9.0")),
        run.decisions.join("\n"),
      );
      const store = openStateStore(join(out.sim.root, ".monitor-state", "monitor.db"));
      try {
        const [s] = await store.silences();
        assert.equal(s?.project, "plasmite");
        assert.equal(s.channel, "pypi");
        assert.equal(s.reason, "bypassed by maintainer: tester@ci");
        assert.ok(Date.parse(s.until) > Date.now());
      } finally {
        await store.close();
      }
      const text = evidence(out);
      assert.match(section(text, "Blockers and Decisions"), /- Decision: bypass: tester@ci bypassed pypi/);
      assert.match(section(text, "Delivery"), /\| pypi \| skipped \(bypassed by maintainer: tester@ci\) \| — \|/);
    } finally {
      cleanup(x.out);
    }
  });

  it("registry-down-bypass without a bypass: the live publish fails on PyPI (fail-closed)", async () => {
    const x = await rehearse("registry-down-bypass", ["--mode", "live", "--yes"]);
    try {
      assert.equal(x.r.code, 1, `${x.r.stdout}\n${x.r.stderr}`);
      assert.equal(parsed(x).phases[0]?.failed_step, "publish");
    } finally {
      cleanup(x.out);
    }
  });

  it("a bypass against plasmite's current release-publish.yml is refused: it defines no skip inputs", async () => {
    const x = await rehearse("happy", ["--mode", "live", "--yes", "--skip-channel", "pypi", "--allow-partial"], false);
    assert.equal(x.r.code, 2, x.r.stderr);
    assert.match(
      x.r.stderr,
      /refused: \.github\/workflows\/release-publish\.yml at origin\/main defines no "skip_pypi", "allow_partial_release" workflow_dispatch input \(it has: build_run_id, release_tag, rehearsal\)/,
    );
    assert.match(x.r.stderr, /all-channels-or-nothing/);
  });
});
