/**
 * The cargo-dist Rust tool shape end to end (the real CLI): examples/cargo-dist.yaml (written by `monitor init
 * ferrous/rivet --sim cargo-dist`) verifies ok on the clean world and reports each drift scenario; `watch --once`
 * reports drift in one cycle; a sidecar that answers 503 makes GitHub unknown, never ok or drift.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PLASMITE_PROJECTS_YAML } from "../../src/sim/config-yaml.ts";
import { startSim } from "../../src/sim/index.ts";
import { applyScenario } from "../../src/sim/scenarios.ts";
import type { Report } from "../../src/report/types.ts";
import { REPO_ROOT, runCli, simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

const EXAMPLE = join(REPO_ROOT, "examples/cargo-dist.yaml");
const TARBALL_ARM = "rivet-aarch64-apple-darwin.tar.xz";

function parse(stdout: string): Report {
  return JSON.parse(stdout) as Report;
}
function statuses(report: Report): Record<string, string> {
  return Object.fromEntries(report.channels.map((c) => [c.channel, c.status]));
}
function codes(report: Report, channel: string): string[] {
  return report.channels.find((c) => c.channel === channel)?.findings.map((f) => f.code) ?? [];
}

describe("cargo-dist world: monitor verify --sim cargo-dist[/<scenario>] with examples/cargo-dist.yaml", () => {
  it("clean: github (sidecars checked), crates and homebrew ok", async () => {
    const r = await runCli(["verify", "v0.8.0", "--config", EXAMPLE, "--sim", "cargo-dist", "--json"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = parse(r.stdout);
    assert.deepEqual(statuses(report), {
      github: "ok",
      crates: "ok",
      npm: "skipped",
      pypi: "skipped",
      homebrew: "ok",
    });
    const github = report.channels.find((c) => c.channel === "github")!;
    const sidecars = (github.observed as { sidecars?: Record<string, { state: string }> }).sidecars ?? {};
    assert.deepEqual(Object.keys(sidecars).sort(), [
      "rivet-aarch64-apple-darwin.tar.xz",
      "rivet-aarch64-unknown-linux-gnu.tar.xz",
      "rivet-x86_64-apple-darwin.tar.xz",
      "rivet-x86_64-unknown-linux-gnu.tar.xz",
    ]);
    assert.ok(Object.values(sidecars).every((s) => s.state === "read"));
    // What real cargo-dist attaches beside the archives is allowed by extra_assets, not unexpected.
    assert.deepEqual((github.observed as { extra_assets?: string[] }).extra_assets, [
      "rivet-installer.sh",
      "rivet-installer.ps1",
      "dist-manifest.json",
      "source.tar.gz",
      "source.tar.gz.sha256",
      "sha256.sum",
    ]);
    assert.deepEqual(github.findings, []);
    const text = await runCli(["verify", "v0.8.0", "--config", EXAMPLE, "--sim", "cargo-dist"]);
    assert.match(text.stdout, /github {4}OK {7}v0\.8\.0 latest, 4\/4 assets \+6 extra, sidecars ok/);
  });

  it("drift: a stale formula, a sidecar that disagrees (plain and --deep), crates.io without the version", async () => {
    const stale = await runCli([
      "verify",
      "v0.8.0",
      "--config",
      EXAMPLE,
      "--sim",
      "cargo-dist/stale-formula",
      "--json",
    ]);
    assert.equal(stale.code, 1);
    assert.equal(statuses(parse(stale.stdout))["homebrew"], "drift");
    assert.deepEqual(codes(parse(stale.stdout), "homebrew"), ["formula-version-mismatch"]);

    for (const deep of [[], ["--deep"]]) {
      const args = ["verify", "v0.8.0", "--config", EXAMPLE, "--sim", "cargo-dist/checksum-mismatch", "--json"];
      const bad = await runCli([...args, ...deep]);
      assert.equal(bad.code, 1, bad.stderr);
      const report = parse(bad.stdout);
      assert.equal(statuses(report)["github"], "drift");
      const f = report.channels.find((c) => c.channel === "github")!.findings.find((x) => x.code === "sha-mismatch");
      assert.equal(f?.subject, TARBALL_ARM, JSON.stringify(report.channels[0]?.findings));
      assert.match(f.expected ?? "", new RegExp(`^${TARBALL_ARM}\\.sha256: [0-9a-f]{64}$`));
    }

    const crates = await runCli([
      "verify",
      "v0.8.0",
      "--config",
      EXAMPLE,
      "--sim",
      "cargo-dist/crate-missing",
      "--json",
    ]);
    assert.equal(crates.code, 1);
    assert.deepEqual(statuses(parse(crates.stdout)), {
      github: "ok",
      crates: "drift",
      npm: "skipped",
      pypi: "skipped",
      homebrew: "ok",
    });
    assert.deepEqual(codes(parse(crates.stdout), "crates"), ["version-missing"]);
  });

  it("a sidecar that answers 503 is unknown (exit 3): could not tell, never ok", async () => {
    const sim = await startSim({ githubToken: null });
    try {
      applyScenario(sim.world, "clean", { world: "cargo-dist" });
      sim.world.faults.add({ service: "github-download", path: /aarch64-apple-darwin\.tar\.xz\.sha256/, kind: "503" });
      const example = readFileSync(EXAMPLE, "utf8");
      const settings = simConfigYaml(sim).split(PLASMITE_PROJECTS_YAML)[0] ?? "";
      const config = writeConfig(tempDir(), `${settings}${example.slice(example.indexOf("projects:\n"))}`);
      const r = await runCli(["verify", "v0.8.0", "--config", config, "--json"]);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      const report = parse(r.stdout);
      assert.equal(statuses(report)["github"], "unknown");
      assert.deepEqual(codes(report, "github"), ["checksum-unreadable"]);
    } finally {
      await sim.close();
    }
  });
});

describe("cargo-dist world: monitor watch --once --sim cargo-dist/<scenario>", () => {
  it("one cycle reports the stale formula as drift and queues its alert", async () => {
    const dir = tempDir();
    const example = readFileSync(EXAMPLE, "utf8");
    const sinks = "settings:\n  state_dir: state\n  alerts:\n    flap_cycles: 1\n    sinks:\n      - type: log\n";
    assert.ok(example.includes("\nsettings:\n"));
    const config = writeConfig(dir, example.replace("\nsettings:\n", `\n${sinks}`));
    const r = await runCli(["watch", "--once", "--no-server", "--sim", "cargo-dist/stale-formula", "--config", config]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr
      .split("\n")
      .concat(r.stdout.split("\n"))
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const cycle = lines.find((l) => l["msg"] === "cycle");
    assert.ok(cycle, r.stdout + r.stderr);
    assert.equal(cycle["project"], "rivet");
    assert.equal(cycle["status"], "drift");
    assert.deepEqual(cycle["channels"], {
      github: "ok",
      crates: "ok",
      npm: "skipped",
      pypi: "skipped",
      homebrew: "drift",
    });
    const alert = lines.find((l) => l["msg"] === "alert queued");
    assert.match(
      String(alert?.["summary"]),
      /rivet v0\.8\.0: formula ferrous\/homebrew-tap:Formula\/rivet\.rb@main is at 0\.7\.2/,
    );
  });
});
