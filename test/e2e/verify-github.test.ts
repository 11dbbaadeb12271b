/**
 * `monitor verify --github` end to end: the real CLI against the sim, with $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY and
 * $RUNNER_TEMP pointing at temp files as on a runner; the annotations, outputs and summary are read back from them.
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import type { Report } from "../../src/report/types.ts";
import { runCli, simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

const HOUR = 3_600_000;

function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      out[heredoc[1]!] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (line.includes("=")) {
      out[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return out;
}

describe("monitor verify --github", () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim({ githubToken: null });
    sim.world.addProject(plasmiteProject());
    sim.world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 26 * HOUR });
    sim.world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 2 * HOUR, formula: "stale" });
  });
  after(() => sim.close());

  async function run(tag: string) {
    const dir = tempDir();
    const config = writeConfig(dir, simConfigYaml(sim));
    const env = {
      GITHUB_OUTPUT: join(dir, "output"),
      GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
      RUNNER_TEMP: dir,
    };
    // The runner creates both files before the step; earlier steps may have written to them.
    writeFileSync(env.GITHUB_OUTPUT, "earlier=1\n");
    writeFileSync(env.GITHUB_STEP_SUMMARY, "# earlier step\n");
    const result = await runCli(["verify", tag, "--config", config, "--github"], { env });
    return {
      result,
      outputs: parseOutputs(readFileSync(env.GITHUB_OUTPUT, "utf8")),
      summary: readFileSync(env.GITHUB_STEP_SUMMARY, "utf8"),
      dir,
    };
  }

  it("drift: an ::error per finding, status=drift, the report@1 file, the Markdown summary appended", async () => {
    const { result, outputs, summary, dir } = await run("v0.8.0");
    assert.equal(result.code, 1, result.stderr);
    const annotations = result.stdout.split("\n").filter((l) => l.startsWith("::"));
    assert.ok(annotations.length >= 1, result.stdout);
    assert.ok(
      annotations.some((l) => /^::error title=plasmite v0\.8\.0 homebrew%3A formula-version-mismatch::\S/.test(l)),
      annotations.join("\n"),
    );
    for (const l of annotations) assert.match(l, /^::(error|warning|notice) title=[^:]+::[^\n\r]+$/);
    assert.equal(outputs["earlier"], "1");
    assert.equal(outputs["status"], "drift");
    assert.ok(outputs["report"]?.startsWith(dir), outputs["report"]);
    const report = JSON.parse(readFileSync(outputs["report"]!, "utf8")) as Report;
    assert.equal(report.schema, "release-monitor/report@1");
    assert.equal(report.status, "drift");
    assert.equal(report.channels.find((c) => c.channel === "homebrew")?.status, "drift");
    assert.ok(summary.startsWith("# earlier step\n"), summary);
    assert.match(summary, /plasmite/);
    assert.match(summary, /drift/);
  });

  it("ok: no annotations, status=ok", async () => {
    const { result, outputs, summary } = await run("v0.7.2");
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.deepEqual(
      result.stdout.split("\n").filter((l) => l.startsWith("::error")),
      [],
    );
    assert.equal(outputs["status"], "ok");
    assert.match(summary, /ok/);
  });

  it("--github with --json is a usage error", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, simConfigYaml(sim));
    const result = await runCli(["verify", "v0.8.0", "--config", config, "--github", "--json"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--github/);
  });
});
