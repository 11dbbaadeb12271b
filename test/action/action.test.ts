/**
 * The reusable action: action.yml's inputs against what src/action/run.ts reads, and the script run as the runner
 * runs it (a workspace with .github/monitor.yaml, GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and
 * RUNNER_TEMP as temp files, the INPUT_* variables action.yml's step sets) against the sim. Summary, annotations and
 * outputs are asserted from the files the runner would read.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { ACTION_INPUTS, inputEnvName, resolveTag, stepExitCode, type ActionInput } from "../../src/action/run.ts";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import { REPO_ROOT, simConfigYaml, tempDir } from "../helpers/cli.ts";

const HOUR = 3_600_000;
const SCRIPT = join(REPO_ROOT, "src/action/run.ts");

interface ActionYaml {
  inputs: Record<string, { default?: string; required?: boolean; description: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: { id?: string; uses?: string; run?: string; env?: Record<string, string> }[] };
}

const action = parse(readFileSync(join(REPO_ROOT, "action.yml"), "utf8")) as ActionYaml;

describe("action.yml", () => {
  it("declares exactly the inputs the script reads, with the script's defaults", () => {
    assert.deepEqual(Object.keys(action.inputs).sort(), Object.keys(ACTION_INPUTS).sort());
    for (const [name, def] of Object.entries(ACTION_INPUTS)) {
      assert.equal(action.inputs[name]?.default ?? null, def, `inputs.${name}.default`);
      assert.ok(action.inputs[name]?.description, `inputs.${name}.description`);
    }
  });

  it("is a composite action whose verify step passes every input as INPUT_<NAME> to the script", () => {
    assert.equal(action.runs.using, "composite");
    assert.ok(action.runs.steps.some((s) => s.uses?.startsWith("actions/setup-node@")));
    const step = action.runs.steps.find((s) => s.id === "verify");
    assert.ok(step?.run?.includes("src/action/run.ts"), step?.run);
    const expected = Object.fromEntries(
      (Object.keys(ACTION_INPUTS) as ActionInput[]).map((n) => [inputEnvName(n), `\${{ inputs.${n} }}`]),
    );
    assert.deepEqual(step?.env, expected);
    assert.equal(action.outputs["status"]?.value, "${{ steps.verify.outputs.status }}");
    assert.equal(action.outputs["report"]?.value, "${{ steps.verify.outputs.report }}");
  });
});

describe("fail-on threshold", () => {
  it("maps the CLI's exit codes as the README says", () => {
    const table = [0, 1, 3, 4, 2, 70].map((code) => [
      code,
      stepExitCode(code, "drift"),
      stepExitCode(code, "unknown"),
      stepExitCode(code, "pending"),
    ]);
    assert.deepEqual(table, [
      [0, 0, 0, 0],
      [1, 1, 1, 1],
      [3, 0, 3, 3],
      [4, 0, 0, 4],
      [2, 2, 2, 2],
      [70, 70, 70, 70],
    ]);
  });
});

describe("tag from the triggering event", () => {
  const event = (body: object) => {
    const path = join(tempDir(), "event.json");
    writeFileSync(path, JSON.stringify(body));
    return path;
  };
  it("the input wins, then a release event's tag_name, then a refs/tags/ ref", () => {
    assert.equal(resolveTag({ INPUT_TAG: "v1.0.0", GITHUB_REF: "refs/tags/v2.0.0" }), "v1.0.0");
    const release = event({ action: "published", release: { tag_name: "v0.8.0" } });
    assert.equal(resolveTag({ INPUT_TAG: "", GITHUB_EVENT_PATH: release, GITHUB_REF: "refs/heads/main" }), "v0.8.0");
    const push = event({ ref: "refs/tags/v0.9.0" });
    assert.equal(resolveTag({ GITHUB_EVENT_PATH: push }), "v0.9.0");
    assert.equal(resolveTag({ GITHUB_REF: "refs/tags/v0.7.2" }), "v0.7.2");
  });
  it("a branch ref without the input is an error naming the input", () => {
    const dispatch = event({ ref: "refs/heads/main", inputs: {} });
    assert.throws(
      () => resolveTag({ GITHUB_EVENT_PATH: dispatch, GITHUB_REF: "refs/heads/main" }),
      /input tag: required .*refs\/heads\/main/,
    );
  });
});

interface Run {
  code: number;
  stdout: string;
  outputs: string;
  summary: string;
  workspace: string;
}

describe("the action's script against the sim, as the runner runs it", () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim({ githubToken: null });
    sim.world.addProject(plasmiteProject());
    sim.world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 26 * HOUR });
    sim.world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 2 * HOUR, formula: "stale" });
  });
  after(() => sim.close());

  function runAction(inputs: Partial<Record<ActionInput, string>>, tag = "v0.8.0"): Promise<Run> {
    const workspace = tempDir("rm-action-");
    mkdirSync(join(workspace, ".github"));
    writeFileSync(join(workspace, ".github/monitor.yaml"), simConfigYaml(sim));
    const files = {
      GITHUB_EVENT_PATH: join(workspace, "event.json"),
      GITHUB_OUTPUT: join(workspace, "output.txt"),
      GITHUB_STEP_SUMMARY: join(workspace, "summary.md"),
    };
    writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify({ action: "published", release: { tag_name: tag } }));
    writeFileSync(files.GITHUB_OUTPUT, "");
    writeFileSync(files.GITHUB_STEP_SUMMARY, "");
    // What action.yml's step sets: every input, "" when unset and without a default.
    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "",
      NO_COLOR: "1",
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: "release",
      GITHUB_REF: `refs/tags/${tag}`,
      RUNNER_TEMP: workspace,
      ...files,
    };
    for (const name of Object.keys(ACTION_INPUTS) as ActionInput[]) {
      const def = ACTION_INPUTS[name];
      env[inputEnvName(name)] = inputs[name] ?? (name === "token" ? "sim-token" : (def ?? ""));
    }
    return new Promise((done) => {
      execFile(process.execPath, [SCRIPT], { cwd: workspace, env, timeout: 60_000 }, (err, stdout) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        done({
          code,
          stdout,
          outputs: readFileSync(files.GITHUB_OUTPUT, "utf8"),
          summary: readFileSync(files.GITHUB_STEP_SUMMARY, "utf8"),
          workspace,
        });
      });
    });
  }

  it("drift (stale formula): the step fails, ::error for homebrew, outputs status and report, summary written", async () => {
    const r = await runAction({});
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stdout,
      /release-monitor: monitor verify v0\.8\.0 --config \.github\/monitor\.yaml --wait 30m --github/,
    );
    assert.match(r.stdout, /^::error title=plasmite v0\.8\.0 homebrew%3A formula-version-mismatch::/m);
    assert.match(r.outputs, /^status=drift$/m);
    const report = /^report=(.+)$/m.exec(r.outputs)?.[1] ?? "";
    assert.ok(report.startsWith(r.workspace), r.outputs);
    const parsed = JSON.parse(readFileSync(report, "utf8")) as { schema: string; tag: string; status: string };
    assert.deepEqual([parsed.schema, parsed.tag, parsed.status], ["release-monitor/report@1", "v0.8.0", "drift"]);
    assert.match(r.summary, /plasmite/);
    assert.match(r.summary, /homebrew/);
    assert.match(r.summary, /drift/);
  });

  it("ok: the step passes with status=ok and no error annotations", async () => {
    const r = await runAction({ channels: "github, crates npm" });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /--channel github crates npm/);
    assert.doesNotMatch(r.stdout, /^::error/m);
    assert.match(r.outputs, /^status=ok$/m);
    assert.match(r.summary, /ok/);
  });

  it("unknown (npm answers 503): fails under fail-on unknown, passes with a warning under fail-on drift", async () => {
    const fault = sim.world.faults.add({ service: "npm", kind: "503" });
    try {
      const strict = await runAction({ wait: "0", channels: "npm" });
      assert.equal(strict.code, 3, strict.stdout);
      assert.match(strict.outputs, /^status=unknown$/m);
      const lenient = await runAction({ wait: "0", channels: "npm", "fail-on": "drift" });
      assert.equal(lenient.code, 0, lenient.stdout);
      assert.match(lenient.stdout, /^::warning title=release-monitor::v0\.8\.0 is unknown; not failing the step/m);
      assert.match(lenient.outputs, /^status=unknown$/m);
    } finally {
      fault.remove();
    }
  });

  it("a bad input fails the step with an ::error naming it, status=error", async () => {
    const r = await runAction({ "fail-on": "sometimes" });
    assert.equal(r.code, 2);
    assert.match(r.outputs, /^status=error$/m);
    assert.match(r.stdout, /^::error title=release-monitor::input fail-on: must be one of drift, unknown, pending/m);
  });

  it("a missing config: the CLI's error, status=error", async () => {
    const r = await runAction({ config: "nope.yaml" });
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.outputs, /^status=error$/m);
  });
});
