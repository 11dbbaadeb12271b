/**
 * Homebrew verdicts on releases the tap cannot serve (issue 10 items 1 and 2): the real CLI as a child process
 * against the simulated registries (`--sim <scenario>`, or a world scripted in-process).
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { join } from "node:path";
import { startSim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import type { PublishOptions } from "../../src/sim/spec.ts";
import type { ChannelReport, Report } from "../../src/report/types.ts";
import { REPO_ROOT, runCli, simConfigYaml, tempDir, writeConfig, type CliResult } from "../helpers/cli.ts";

const HOUR = 3_600_000;
const EXAMPLE = join(REPO_ROOT, "examples/plasmite.yaml");

function parse(r: CliResult): Report {
  try {
    return JSON.parse(r.stdout) as Report;
  } catch {
    return assert.fail(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

function channel(report: Report, name: string): ChannelReport {
  const ch = report.channels.find((c) => c.channel === name);
  assert.ok(ch, `channel ${name} in the report`);
  return ch;
}

/** 0.8.0 published with `opts` into a fresh sim; verify through a config pointing at it (GitHub token set). */
async function verifyPublished(opts: PublishOptions, args: string[] = ["--json"]): Promise<CliResult> {
  const sim = await startSim({ githubToken: null });
  try {
    sim.world.addProject(plasmiteProject());
    sim.world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 26 * HOUR });
    sim.world.publish("plasmite", "0.8.0", opts);
    const config = writeConfig(tempDir(), simConfigYaml(sim, { token: "sim-token-123456" }));
    return await runCli(["verify", "v0.8.0", "--config", config, ...args]);
  } finally {
    await sim.close();
  }
}

describe("homebrew: a formula naming an asset the release lacks", () => {
  it("release published long ago: homebrew drift with asset-missing (platform, asset name), exit 1", async () => {
    const r = await runCli(["verify", "v0.8.0", "--config", EXAMPLE, "--sim", "missing-asset", "--json"]);
    const report = parse(r);
    const brew = channel(report, "homebrew");
    assert.equal(brew.status, "drift", JSON.stringify(brew.findings));
    const missing = brew.findings.find((f) => f.code === "asset-missing");
    assert.ok(missing, JSON.stringify(brew.findings));
    assert.equal(missing.severity, "drift");
    assert.equal(missing.subject, "linux_amd64");
    assert.equal(missing.expected, "plasmite_0.8.0_linux_amd64.tar.gz");
    assert.ok(!brew.findings.some((f) => f.code === "formula-ahead"), "no longer 'not on the release yet'");
    assert.equal(r.code, 1, r.stderr);
  });

  it("release published inside the homebrew grace window: formula-ahead, pending", async () => {
    const r = await verifyPublished({ publishedAt: Date.now() - 60_000, omitAssets: ["linux_amd64"] });
    const brew = channel(parse(r), "homebrew");
    assert.equal(brew.status, "pending", JSON.stringify(brew.findings));
    const ahead = brew.findings.find((f) => f.code === "formula-ahead");
    assert.ok(ahead, JSON.stringify(brew.findings));
    assert.equal(ahead.in_grace, true);
    assert.ok(brew.grace_until, "grace_until is reported");
  });
});

describe("homebrew: a draft release is not a release", () => {
  it("draft created long ago: homebrew drift (release-draft), never ok; the github line counts the draft's assets", async () => {
    const r = await runCli(["verify", "v0.8.0", "--config", EXAMPLE, "--sim", "draft", "--json"]);
    const report = parse(r);
    const brew = channel(report, "homebrew");
    assert.equal(brew.status, "drift", JSON.stringify(brew.findings));
    assert.ok(
      brew.findings.some((f) => f.code === "release-draft" && f.severity === "drift"),
      JSON.stringify(brew.findings),
    );
    const gh = channel(report, "github");
    assert.ok(gh.findings.some((f) => f.code === "release-draft"));
    assert.ok(
      !gh.findings.some((f) => f.code === "checksum-file-missing"),
      `sha256sums.txt is on the draft: ${JSON.stringify(gh.findings)}`,
    );
    assert.equal(r.code, 1);

    const text = await runCli(["verify", "v0.8.0", "--config", EXAMPLE, "--sim", "draft"]);
    const line = text.stdout.split("\n").find((l) => /^\s+github\s/.test(l)) ?? "";
    assert.match(line, /3\/3 assets/, line);
    assert.doesNotMatch(line, /no sums file/, line);
    assert.match(text.stdout, /homebrew\s+DRIFT/);
  });

  it("a fresh draft (created inside the homebrew grace window) is pending, never ok", async () => {
    const r = await verifyPublished({ publishedAt: Date.now(), draft: true });
    const brew = channel(parse(r), "homebrew");
    assert.equal(brew.status, "pending", JSON.stringify(brew.findings));
    assert.ok(brew.findings.some((f) => f.code === "release-draft" && f.in_grace === true));
  });
});
