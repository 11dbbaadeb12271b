/**
 * The package-only release shapes end to end, as test/e2e/init.test.ts does the GoReleaser world: the real CLI's
 * `init --sim <world>` writes a config that passes `config check`, verifies ok on the clean scenario and detects each
 * drift scenario, `watch --once` runs one cycle on it, and the shipped examples/<world>.yaml pass `config check`.
 */
import { strict as assert } from "node:assert";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import type { Report } from "../../src/report/types.ts";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { npmLibProject } from "../../src/sim/package-worlds.ts";
import { applyScenario } from "../../src/sim/scenarios.ts";
import { REPO_ROOT, runCli, simConfigYaml, tempDir } from "../helpers/cli.ts";

type Verdicts = Record<string, { status: string; codes: string[] }>;

function verdicts(stdout: string): Verdicts {
  const report = JSON.parse(stdout) as Report;
  return Object.fromEntries(
    report.channels.map((c) => [c.channel, { status: c.status, codes: c.findings.map((f) => f.code) }]),
  );
}

async function initWorld(world: string, repo: string): Promise<{ out: string; yaml: string; stdout: string }> {
  const out = join(tempDir(), "monitor.yaml");
  const init = await runCli(["init", repo, "--sim", world, "--out", out]);
  assert.equal(init.code, 0, init.stderr);
  return { out, yaml: readFileSync(out, "utf8"), stdout: init.stdout };
}

async function verify(config: string, sim: string): Promise<{ code: number; v: Verdicts }> {
  const r = await runCli(["verify", "v0.8.0", "--config", config, "--sim", sim, "--json"]);
  return { code: r.code, v: verdicts(r.stdout) };
}

/** `watch --once` on a copy of the config (its state directory beside it): the cycle's channel statuses. */
async function watchOnce(config: string, sim: string): Promise<Record<string, string>> {
  const copy = join(tempDir(), "monitor.yaml");
  copyFileSync(config, copy);
  const r = await runCli(["watch", "--once", "--no-server", "--sim", sim, "--config", copy]);
  assert.equal(r.code, 0, r.stderr);
  const cycle = `${r.stdout}\n${r.stderr}`
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg: string; channels?: Record<string, string> })
    .find((l) => l.msg === "cycle");
  assert.ok(cycle?.channels, r.stdout + r.stderr);
  return cycle.channels;
}

describe("monitor init --sim npm-lib (a pure npm library)", () => {
  it("yields github (assets: []) and the scoped npm package, ok; next ahead of latest is not drift", async () => {
    const { out, yaml, stdout } = await initWorld("npm-lib", "lattice/kit");
    assert.match(yaml, /github:\n\s+assets: \[\]\n\s+checksums: null\n/);
    assert.match(yaml, /# from package\.json\n\s+npm:\n\s+package: "@lattice\/kit"/);
    assert.doesNotMatch(yaml, /kit-docs/, "the private package.json is no candidate");
    assert.match(stdout, /kit v0\.8\.0 {2}OK/);
    const check = await runCli(["config", "check", "--config", out]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /kit \(lattice\/kit\): github, npm\n/);
    const clean = await verify(out, "npm-lib");
    assert.equal(clean.code, 0, JSON.stringify(clean.v));
    assert.deepEqual([clean.v["github"]?.status, clean.v["npm"]?.status], ["ok", "ok"]);
  });

  it("detects npm missing the version and the latest dist-tag left behind", async () => {
    const { out } = await initWorld("npm-lib", "lattice/kit");
    const missing = await verify(out, "npm-lib/npm-missing");
    assert.equal(missing.code, 1);
    assert.deepEqual(missing.v["npm"], { status: "drift", codes: ["version-missing"] });
    assert.equal(missing.v["github"]?.status, "ok");
    const behind = await verify(out, "npm-lib/latest-behind");
    assert.equal(behind.code, 1);
    assert.deepEqual(behind.v["npm"], { status: "drift", codes: ["version-not-latest"] });
  });

  it("watch --once: one cycle, ok on the clean world, npm drift when latest is left behind", async () => {
    const config = join(REPO_ROOT, "examples/npm-lib.yaml");
    const ok = await watchOnce(config, "npm-lib");
    assert.deepEqual([ok["github"], ok["npm"]], ["ok", "ok"]);
    const behind = await watchOnce(config, "npm-lib/latest-behind");
    assert.equal(behind["npm"], "drift");
  });
});

describe("monitor init --sim python (a Python package)", () => {
  it("yields github (assets: [], the Python files left to pypi) and pypi with PyPI's wheel platforms, ok", async () => {
    const { out, yaml, stdout } = await initWorld("python", "inkwell/quill");
    assert.match(yaml, /# release v0\.8\.0 carries only Python files \(one sdist and 3 wheels\)/);
    assert.match(yaml, /pypi:\n\s+project: quillpy\n\s+platforms: \[ darwin_arm64, linux_amd64, windows_amd64 \]/);
    assert.match(stdout, /quill v0\.8\.0 {2}OK/);
    const check = await runCli(["config", "check", "--config", out]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /quill \(inkwell\/quill\): github, pypi\n/);
    const clean = await verify(out, "python");
    assert.equal(clean.code, 0, JSON.stringify(clean.v));
    assert.deepEqual([clean.v["github"]?.status, clean.v["pypi"]?.status], ["ok", "ok"]);
  });

  it("one wheel differing between the GitHub release and PyPI is pypi sha-mismatch: GitHub's sha256 expected, PyPI's actual", async () => {
    const { out } = await initWorld("python", "inkwell/quill");
    const r = await runCli(["verify", "v0.8.0", "--config", out, "--sim", "python/wheel-mismatch", "--json"]);
    assert.equal(r.code, 1);
    const pypi = (JSON.parse(r.stdout) as Report).channels.find((c) => c.channel === "pypi")!;
    assert.equal(pypi.status, "drift");
    assert.deepEqual(
      pypi.findings.map((f) => [f.code, f.subject]),
      [["sha-mismatch", "quillpy-0.8.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]],
    );
    assert.match(pypi.findings[0]!.expected ?? "", /^GitHub release v0\.8\.0 \(GitHub asset digest\): [0-9a-f]{64}$/);
    assert.match(pypi.findings[0]!.actual ?? "", /^PyPI digests\.sha256: [0-9a-f]{64}$/);
  });

  it("watch --once: one cycle, ok on the clean world, pypi drift on wheel-mismatch", async () => {
    const config = join(REPO_ROOT, "examples/python.yaml");
    const ok = await watchOnce(config, "python");
    assert.deepEqual([ok["github"], ok["pypi"]], ["ok", "ok"]);
    const mismatch = await watchOnce(config, "python/wheel-mismatch");
    assert.equal(mismatch["pypi"], "drift");
  });
});

describe("examples/npm-lib.yaml and examples/python.yaml", () => {
  for (const [file, line] of [
    ["examples/npm-lib.yaml", /kit \(lattice\/kit\): github, npm\n/],
    ["examples/python.yaml", /quill \(inkwell\/quill\): github, pypi\n/],
  ] as const) {
    it(`${file} passes config check`, async () => {
      const check = await runCli(["config", "check", "--config", join(REPO_ROOT, file)]);
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stdout, line);
    });
  }

  it("an unknown scenario of a world is a usage error listing that world's scenarios", async () => {
    const r = await runCli([
      "verify",
      "v0.8.0",
      "--config",
      "examples/npm-lib.yaml",
      "--sim",
      "npm-lib/wheel-mismatch",
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /npm-lib scenarios: clean, .*npm-missing, latest-behind\)/);
  });
});

describe("monitor init on the package worlds: what it cannot tell is said", () => {
  let sim: Sim | null = null;
  afterEach(async () => {
    await sim?.close();
    sim = null;
  });

  async function init(s: Sim, repo: string) {
    const dir = tempDir();
    const settings = join(dir, "settings.yaml");
    writeFileSync(settings, simConfigYaml(s).split("\nprojects:")[0]!);
    const out = join(dir, "monitor.yaml");
    const result = await runCli(["init", repo, "--settings", settings, "--out", out]);
    let yaml = "";
    try {
      yaml = readFileSync(out, "utf8");
    } catch {
      // not written
    }
    return { result, yaml };
  }

  it("a library with no release yet: exit 2 saying so, no config", async () => {
    sim = await startSim({ githubToken: null });
    sim.world.addProject(npmLibProject());
    const { result, yaml } = await init(sim, "lattice/kit");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /lattice\/kit has no published release \(drafts and pre-releases do not count\)/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.equal(yaml, "");
  });

  it("only some channels: npm without the version is rejected with the reason; github kept, verify ok", async () => {
    sim = await startSim({ githubToken: null });
    applyScenario(sim.world, "npm-missing", { world: "npm-lib" });
    const { result, yaml } = await init(sim, "lattice/kit");
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /rejected npm @lattice\/kit \(package\.json\): .*has @lattice\/kit \(latest 0\.7\.2\) but not 0\.8\.0/,
    );
    assert.match(yaml, /# rejected npm @lattice\/kit \(package\.json\)/);
    assert.doesNotMatch(yaml, /^ {6}npm:/m);
    assert.match(yaml, /github:\n\s+assets: \[\]/);
  });

  it("PyPI answering 503: exit 3, pypi kept with a could-not-verify comment and the GitHub release's wheels", async () => {
    sim = await startSim({ githubToken: null });
    applyScenario(sim.world, "clean", { world: "python" });
    sim.world.faults.add({ service: "pypi", kind: "503" });
    const { result, yaml } = await init(sim, "inkwell/quill");
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /could not verify: pypi quillpy: PyPI could not tell: .*503/);
    assert.match(yaml, /# could not verify: PyPI could not tell: .*503/);
    assert.match(yaml, /pypi:\n\s+project: quillpy\n\s+platforms: \[ darwin_arm64, linux_amd64, windows_amd64 \]/);
  });
});

describe("monitor demo --sim <world>", () => {
  it("python: PyPI missing drifts and alerts, then arrives and resolves", async () => {
    const r = await runCli(
      [
        "demo",
        "--sim",
        "python",
        "--listen",
        "127.0.0.1:0",
        "--heal-after",
        "3s",
        "--interval",
        "1s",
        "--duration",
        "7s",
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /quill v0\.8\.0 is out on GitHub only; PyPI arrives in 3s\./);
    const open = r.stdout.indexOf("alert OPEN: quill v0.8.0: PyPI has no quillpy 0.8.0");
    const ok = r.stdout.indexOf("quill v0.8.0  OK");
    assert.ok(open >= 0 && ok > open, r.stdout);
    assert.match(r.stdout, /alert RESOLVE: quill v0\.8\.0: PyPI has no quillpy 0\.8\.0/);
  });

  it("a value that is not a world is a usage error", async () => {
    const r = await runCli(["demo", "--sim", "partial", "--duration", "0"]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--sim: demo takes a world\[\/scenario\] \(worlds: plasmite, .*npm-lib.*python.*\), got "partial"/,
    );
  });
});
