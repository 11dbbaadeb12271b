/**
 * `monitor init` end to end: the real CLI discovers a project from the sim (built-in with --sim, or loopback
 * servers named by --settings), writes a config, and that config passes `config check` and verifies.
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { applyScenario, plasmiteProject } from "../../src/sim/scenarios.ts";
import type { Report } from "../../src/report/types.ts";
import { runCli, simConfigYaml, tempDir } from "../helpers/cli.ts";

const HOUR = 3_600_000;

function statuses(stdout: string): Record<string, string> {
  const report = JSON.parse(stdout) as Report;
  return Object.fromEntries(report.channels.map((c) => [c.channel, c.status]));
}

const ALL_OK = { github: "ok", crates: "ok", npm: "ok", pypi: "ok", homebrew: "ok" };

describe("monitor init --sim plasmite", () => {
  it("writes a config that passes config check and verifies v0.8.0 ok on all five channels", async () => {
    const dir = tempDir();
    const out = join(dir, "monitor.yaml");
    const init = await runCli(["init", "sandover/plasmite", "--sim", "plasmite", "--out", out]);
    assert.equal(init.code, 0, init.stderr);
    const yaml = readFileSync(out, "utf8");
    assert.match(yaml, /^# release-monitor config for sandover\/plasmite/);
    assert.match(yaml, /# from bindings\/node\/package\.json/);
    assert.match(init.stdout, /plasmite v0\.8\.0 {2}OK/);
    const check = await runCli(["config", "check", "--config", out]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /plasmite \(sandover\/plasmite\): github, crates, npm, pypi, homebrew/);
    const verify = await runCli(["verify", "v0.8.0", "--config", out, "--sim", "plasmite", "--json"]);
    assert.equal(verify.code, 0, verify.stdout);
    assert.deepEqual(statuses(verify.stdout), ALL_OK);
    const stale = await runCli(["verify", "v0.8.0", "--config", out, "--sim", "plasmite/stale-formula", "--json"]);
    assert.equal(stale.code, 1);
    assert.equal(statuses(stale.stdout)["homebrew"], "drift");
  });

  it("prints the config to stdout without --out, and refuses to overwrite --out without --force", async () => {
    const dir = tempDir();
    const out = join(dir, "monitor.yaml");
    writeFileSync(out, "keep me\n");
    const refused = await runCli(["init", "sandover/plasmite", "--sim", "plasmite", "--out", out]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--out: .* exists; pass --force/);
    assert.equal(readFileSync(out, "utf8"), "keep me\n");
    const stdout = await runCli(["init", "sandover/plasmite", "--sim", "plasmite"]);
    assert.equal(stdout.code, 0, stdout.stderr);
    assert.match(stdout.stdout, /^projects:\n {2}- name: plasmite$/m);
    assert.match(stdout.stderr, /plasmite v0\.8\.0 {2}OK/);
  });
});

describe("monitor init --settings (loopback servers)", () => {
  let sim: Sim | null = null;
  afterEach(async () => {
    await sim?.close();
    sim = null;
  });

  /** A settings-only file pointing at the running sim. */
  function settingsFile(s: Sim): string {
    const dir = tempDir();
    const path = join(dir, "settings.yaml");
    writeFileSync(path, simConfigYaml(s).split("\nprojects:")[0]!);
    return path;
  }

  async function init(args: string[] = [], repo = "sandover/plasmite") {
    const settings = settingsFile(sim!);
    const out = join(tempDir(), "monitor.yaml");
    const result = await runCli(["init", repo, "--settings", settings, "--out", out, ...args]);
    let yaml = "";
    try {
      yaml = readFileSync(out, "utf8");
    } catch {
      // not written
    }
    return { result, out, yaml };
  }

  it("the clean world: the config copies the settings and verifies ok on all five channels", async () => {
    sim = await startSim({ githubToken: null });
    applyScenario(sim.world, "clean");
    const { result, out, yaml } = await init();
    assert.equal(result.code, 0, result.stderr);
    const api = (sim.settingsOverlay() as { github: { api_url: string } }).github.api_url;
    assert.ok(yaml.includes(`api_url: ${api}`), yaml);
    const verify = await runCli(["verify", "v0.8.0", "--config", out, "--json"]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.deepEqual(statuses(verify.stdout), ALL_OK);
  });

  it("asks each registry URL at most twice: once while discovering (PyPI's lookup and details share it), once verifying", async () => {
    sim = await startSim({ githubToken: null });
    applyScenario(sim.world, "clean");
    const mark = sim.stats.log.length;
    const { result } = await init();
    assert.equal(result.code, 0, result.stderr);
    const asked = sim.stats.log.slice(mark).filter((e) => e.service === "pypi" || e.service === "npm");
    const paths = asked.map((e) => `${e.service} ${e.method} ${e.path}`);
    const times = new Map<string, number>();
    for (const p of paths) times.set(p, (times.get(p) ?? 0) + 1);
    assert.equal(times.get("pypi GET /pypi/plasmite/0.8.0/json"), 2, paths.join("\n"));
    assert.deepEqual(
      [...times].filter(([, n]) => n > 2),
      [],
      `asked more than twice:\n${paths.join("\n")}`,
    );
  });

  it("a repository with no releases: exit 2 saying so, no config", async () => {
    sim = await startSim({ githubToken: null });
    sim.world.addProject(plasmiteProject());
    const { result, yaml } = await init();
    assert.equal(result.code, 2);
    assert.match(result.stderr, /sandover\/plasmite has no published release/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.equal(yaml, "");
  });

  it("an unknown repository: exit 2 naming it", async () => {
    sim = await startSim({ githubToken: null });
    const { result } = await init([], "nobody/nothing");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /repository "nobody\/nothing": not found/);
  });

  it("only some channels: npm and PyPI do not have the version; rejected with the reason, config keeps the rest", async () => {
    sim = await startSim({ githubToken: null });
    sim.world.addProject(plasmiteProject());
    sim.world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 26 * HOUR });
    sim.world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - HOUR, channels: ["github", "crates"] });
    const { result, yaml } = await init();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /rejected npm plasmite \(bindings\/node\/package\.json\): .*not 0\.8\.0/);
    assert.match(result.stderr, /rejected pypi plasmite \(bindings\/python\/pyproject\.toml\): .*not 0\.8\.0/);
    assert.match(yaml, /crates:\n\s+crate: plasmite/);
    assert.doesNotMatch(yaml, /^ {6}npm:/m);
    assert.match(
      yaml,
      /url: https:\/\/github\.com\/\{repo\}\/releases\/download\/\{tag\}\/plasmite_\{version\}_\{platform\}\.tar\.gz/,
    );
    assert.match(yaml, /# rejected npm plasmite/);
    // The formula still at 0.7.2 is the project's Homebrew channel all the same: verify reports it.
    assert.match(yaml, /homebrew:\n\s+tap: sandover\/homebrew-tap/);
    assert.match(result.stdout, /homebrew\s+DRIFT/);
  });

  it("a registry answering 503: exit 3, the channel kept with a could-not-verify comment", async () => {
    sim = await startSim({ githubToken: null });
    applyScenario(sim.world, "clean");
    sim.world.faults.add({ service: "npm", kind: "503" });
    const { result, yaml } = await init();
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /could not verify: npm plasmite: the npm registry could not tell: .*503/);
    assert.match(yaml, /# could not verify: the npm registry could not tell/);
    assert.match(yaml, /npm:\n\s+package: plasmite/);
  });

  it("a Homebrew tap answering 503: exit 3, homebrew kept (guessed from the assets) with a could-not-verify comment", async () => {
    sim = await startSim({ githubToken: null });
    applyScenario(sim.world, "clean", { world: "goreleaser" });
    sim.world.faults.add({ service: "github-api", kind: "503", path: "/repos/tidepool/homebrew-tap/" });
    const { result, out, yaml } = await init([], "tidepool/skiff");
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.stderr,
      /could not verify: homebrew tidepool\/homebrew-tap:Formula\/skiff\.rb: the tap could not be read: .*503/,
    );
    assert.match(
      yaml,
      /# could not verify: the tap could not be read: .*503.*\n(\s+#.*\n)*\s+homebrew:\n\s+tap: tidepool\/homebrew-tap\n/,
    );
    assert.match(
      yaml,
      /url: https:\/\/github\.com\/\{repo\}\/releases\/download\/\{tag\}\/skiff_\{version\}_\{platform\}\.tar\.gz/,
    );
    assert.doesNotMatch(yaml, /&a\d/, "platform lists written out, not as YAML anchors");
    const check = await runCli(["config", "check", "--config", out]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /skiff \(tidepool\/skiff\): github, homebrew\n/);
  });
});

describe("monitor init --sim goreleaser (a GoReleaser Go CLI)", () => {
  it("yields github and homebrew with platform_names, ok; homebrew drift when its formula is stale", async () => {
    const out = join(tempDir(), "monitor.yaml");
    const init = await runCli(["init", "tidepool/skiff", "--sim", "goreleaser", "--out", out]);
    assert.equal(init.code, 0, init.stderr);
    const yaml = readFileSync(out, "utf8");
    assert.match(yaml, /platform_names:\n\s+darwin_amd64: Darwin_x86_64\n/);
    assert.match(yaml, /assets: \[ "skiff_\{version\}_\{platform\}\.tar\.gz" \]/);
    assert.match(yaml, /checksums: checksums\.txt/);
    const check = await runCli(["config", "check", "--config", out]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /skiff \(tidepool\/skiff\): github, homebrew\n/);
    const verify = await runCli(["verify", "v0.8.0", "--config", out, "--sim", "goreleaser", "--json"]);
    assert.equal(verify.code, 0, verify.stdout);
    const ok = statuses(verify.stdout);
    assert.deepEqual([ok["github"], ok["homebrew"]], ["ok", "ok"]);
    const stale = await runCli(["verify", "v0.8.0", "--config", out, "--sim", "goreleaser/stale-formula", "--json"]);
    assert.equal(stale.code, 1);
    assert.equal(statuses(stale.stdout)["homebrew"], "drift");
  });
});

describe("monitor init --sim cargo-dist (a cargo-dist Rust tool)", () => {
  it("yields github with {target} names and .sha256 sidecars, crates and homebrew, ok; each drift scenario detected", async () => {
    const out = join(tempDir(), "monitor.yaml");
    const init = await runCli(["init", "ferrous/rivet", "--sim", "cargo-dist", "--out", out]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /github {4}OK {7}v0\.8\.0 latest, 4\/4 assets \+6 extra, sidecars ok/);
    const yaml = readFileSync(out, "utf8");
    assert.match(
      yaml,
      /platform_names:\n\s+darwin_amd64: x86_64-apple-darwin\n\s+darwin_arm64: aarch64-apple-darwin\n/,
    );
    assert.match(yaml, /assets: \[ "rivet-\{target\}\.tar\.xz" \]/);
    assert.match(yaml, /checksums: \{ sidecar: \.sha256 \}/);
    assert.match(yaml, /# from Cargo\.toml\n\s+crates:\n\s+crate: rivet/);
    assert.match(yaml, /url: https:\/\/github\.com\/\{repo\}\/releases\/download\/\{tag\}\/rivet-\{target\}\.tar\.xz/);
    const check = await runCli(["config", "check", "--config", out]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /rivet \(ferrous\/rivet\): github, crates, homebrew\n/);
    const verify = await runCli(["verify", "v0.8.0", "--config", out, "--sim", "cargo-dist", "--json"]);
    assert.equal(verify.code, 0, verify.stdout);
    const ok = statuses(verify.stdout);
    assert.deepEqual([ok["github"], ok["crates"], ok["homebrew"]], ["ok", "ok", "ok"]);
    const drifts = { "stale-formula": "homebrew", "checksum-mismatch": "github", "crate-missing": "crates" };
    for (const [scenario, channel] of Object.entries(drifts)) {
      const r = await runCli(["verify", "v0.8.0", "--config", out, "--sim", `cargo-dist/${scenario}`, "--json"]);
      assert.equal(r.code, 1, `${scenario}: ${r.stderr}`);
      assert.equal(statuses(r.stdout)[channel], "drift", scenario);
    }
  });
});
