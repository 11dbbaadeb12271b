/**
 * Scenario tests: the real CLI as a child process against the simulated registries, one world per case.
 * Every finding code, every fault kind (which must give unknown: never ok, never drift) and every exit code.
 */
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import type { PublishOptions } from "../../src/sim/spec.ts";
import type { World } from "../../src/sim/world.ts";
import type { Report } from "../../src/report/types.ts";
import { runCli, simConfigYaml, tempDir, writeConfig, type CliResult } from "../helpers/cli.ts";

const HOUR = 3_600_000;
type FaultSpec = Parameters<World["faults"]["add"]>[0];

interface Case {
  name: string;
  /** Scripts the world; the project "plasmite" already exists with 0.7.2 published a day ago. */
  setup: (w: World) => void;
  tag?: string;
  args?: string[];
  token?: string;
  expectExit: number;
  expect?: { channel: string; status: string; code?: string }[];
}

async function runCase(c: Case): Promise<{ result: CliResult; report: Report }> {
  const sim = await startSim({ githubToken: null });
  try {
    sim.world.addProject(plasmiteProject());
    sim.world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 26 * HOUR });
    c.setup(sim.world);
    const dir = tempDir();
    const config = writeConfig(dir, simConfigYaml(sim, c.token ? { token: c.token } : {}));
    const result = await runCli(["verify", c.tag ?? "v0.8.0", "--config", config, "--json", ...(c.args ?? [])]);
    let report: Report;
    try {
      report = JSON.parse(result.stdout) as Report;
    } catch {
      assert.fail(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
    }
    return { result, report };
  } finally {
    await sim.close();
  }
}

const pub =
  (opts: PublishOptions = {}) =>
  (w: World) => {
    w.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 2 * HOUR, ...opts });
  };

function check(c: Case) {
  it(c.name, async () => {
    const { result, report } = await runCase(c);
    assert.equal(
      result.code,
      c.expectExit,
      `exit code\n${JSON.stringify(report.channels.map((x) => [x.channel, x.status, x.findings.map((f) => f.code)]))}\n${result.stderr}`,
    );
    for (const e of c.expect ?? []) {
      const ch = report.channels.find((x) => x.channel === e.channel);
      assert.ok(ch, `channel ${e.channel} in report`);
      assert.equal(ch.status, e.status, `${e.channel} status; findings ${JSON.stringify(ch.findings)}`);
      if (e.code)
        assert.ok(
          ch.findings.some((f) => f.code === e.code),
          `${e.channel} has ${e.code}: ${JSON.stringify(ch.findings)}`,
        );
    }
  });
}

describe("monitor verify: report@1 and exit codes", () => {
  it("a clean release is ok on every channel, exit 0, with the report@1 fields", async () => {
    const { result, report } = await runCase({ name: "clean", setup: pub(), expectExit: 0 });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(report.schema, "release-monitor/report@1");
    assert.equal(report.project, "plasmite");
    assert.equal(report.tag, "v0.8.0");
    assert.equal(report.version, "0.8.0");
    assert.equal(report.status, "ok");
    assert.ok(!Number.isNaN(Date.parse(report.checked_at)));
    assert.deepEqual(
      report.channels.map((c) => c.channel),
      ["github", "crates", "npm", "pypi", "homebrew"],
    );
    for (const c of report.channels) {
      assert.equal(c.status, "ok", `${c.channel}: ${JSON.stringify(c.findings)}`);
      assert.ok(c.observed && typeof c.observed === "object");
      assert.ok(Array.isArray(c.findings));
      assert.ok(c.evidence.length > 0 && c.evidence.every((e) => typeof e.url === "string" && "status" in e));
    }
  });

  check({
    name: "pending only → exit 4",
    setup: pub({ publishedAt: Date.now(), channels: ["github", "crates"] }),
    expectExit: 4,
    expect: [{ channel: "npm", status: "pending", code: "version-missing" }],
  });
});

describe("monitor verify: every finding code from a scenario", { concurrency: 3 }, () => {
  const cases: Case[] = [
    {
      name: "tag-missing",
      setup: pub(),
      tag: "v0.9.9",
      expectExit: 1,
      expect: [{ channel: "github", status: "drift", code: "tag-missing" }],
    },
    {
      name: "release-missing",
      setup: pub({ githubRelease: false }),
      expectExit: 1,
      expect: [{ channel: "github", status: "drift", code: "release-missing" }],
    },
    {
      name: "release-draft",
      setup: pub({ draft: true }),
      token: "sim-token-123456",
      expectExit: 1,
      expect: [{ channel: "github", status: "drift", code: "release-draft" }],
    },
    {
      name: "release-prerelease",
      setup: pub({ prerelease: true }),
      expectExit: 1,
      expect: [{ channel: "github", status: "drift", code: "release-prerelease" }],
    },
    {
      name: "asset-missing",
      setup: pub({ omitAssets: ["darwin_arm64"] }),
      expectExit: 1,
      expect: [{ channel: "github", status: "drift", code: "asset-missing" }],
    },
    {
      name: "asset-unexpected",
      setup: pub({ extraAssets: [{ name: "plasmite_0.8.0_linux_arm64.tar.gz", size: 100 }] }),
      expectExit: 1,
      expect: [{ channel: "github", status: "drift", code: "asset-unexpected" }],
    },
    {
      name: "checksum-missing",
      setup: pub({ skipChecksumLineFor: "linux_amd64" }),
      expectExit: 1,
      expect: [{ channel: "github", status: "drift", code: "checksum-missing" }],
    },
    {
      name: "sha-mismatch (checksum file vs digest)",
      setup: pub({ corruptChecksumFor: "darwin_amd64" }),
      expectExit: 1,
      expect: [{ channel: "github", status: "drift", code: "sha-mismatch" }],
    },
    {
      name: "sha-mismatch (API digest vs bytes, --deep)",
      setup: pub({ corruptDigestFor: "linux_amd64" }),
      args: ["--deep"],
      expectExit: 1,
      expect: [{ channel: "github", status: "drift", code: "sha-mismatch" }],
    },
    {
      name: "sha-mismatch (formula vs GitHub)",
      setup: pub({ corruptFormulaFor: "darwin_arm64" }),
      expectExit: 1,
      expect: [{ channel: "homebrew", status: "drift", code: "sha-mismatch" }],
    },
    {
      name: "formula-version-mismatch",
      setup: pub({ formula: "stale" }),
      expectExit: 1,
      expect: [{ channel: "homebrew", status: "drift", code: "formula-version-mismatch" }],
    },
    {
      name: "formula-url-mismatch",
      setup: (w) => {
        pub()(w);
        w.setFormulaText(
          "plasmite",
          (w.formulaText("plasmite") ?? "").replace(
            "plasmite_0.8.0_linux_amd64.tar.gz",
            "plasmite_0.8.0_linux_x86_64.tar.gz",
          ),
        );
      },
      expectExit: 1,
      expect: [{ channel: "homebrew", status: "drift", code: "formula-url-mismatch" }],
    },
    {
      name: "formula-placeholder",
      setup: pub({ formula: "placeholder" }),
      expectExit: 1,
      expect: [{ channel: "homebrew", status: "drift", code: "formula-placeholder" }],
    },
    {
      name: "formula-ahead (tap updated before the GitHub release)",
      setup: pub({ channels: ["crates", "npm", "pypi", "homebrew"], githubRelease: false }),
      expectExit: 1,
      expect: [{ channel: "homebrew", status: "pending", code: "formula-ahead" }],
    },
    {
      name: "version-missing",
      setup: pub({ channels: ["github", "crates", "pypi", "homebrew"] }),
      expectExit: 1,
      expect: [{ channel: "npm", status: "drift", code: "version-missing" }],
    },
    {
      name: "version-not-latest",
      setup: (w) => {
        pub()(w);
        w.setDistTag("plasmite", "latest", "0.7.2");
      },
      args: ["--latest"],
      expectExit: 1,
      expect: [{ channel: "npm", status: "drift", code: "version-not-latest" }],
    },
    {
      name: "yanked",
      setup: (w) => {
        pub()(w);
        w.yank("pypi", "plasmite", "0.8.0", "broken wheel");
      },
      expectExit: 1,
      expect: [{ channel: "pypi", status: "drift", code: "yanked" }],
    },
    {
      name: "deprecated",
      setup: (w) => {
        pub()(w);
        w.deprecate("plasmite", "0.8.0", "use 0.8.1");
      },
      expectExit: 1,
      expect: [{ channel: "npm", status: "drift", code: "deprecated" }],
    },
    {
      name: "file-missing",
      setup: pub({ omitPypiFiles: ["windows_amd64"] }),
      expectExit: 1,
      expect: [{ channel: "pypi", status: "drift", code: "file-missing" }],
    },
    {
      name: "null digests are not a mismatch",
      setup: pub({ nullDigest: true }),
      expectExit: 0,
      expect: [{ channel: "github", status: "ok", code: "digest-unavailable" }],
    },
  ];
  for (const c of cases) check(c);
});

describe("monitor verify: every fault kind gives unknown, never ok or drift", { concurrency: 3 }, () => {
  const kinds: FaultSpec["kind"][] = [
    "500",
    "502",
    "503",
    "429",
    "timeout",
    "reset",
    "truncated",
    "malformed-json",
    "html",
  ];
  for (const kind of kinds) {
    check({
      name: `npm ${kind}`,
      setup: (w) => {
        pub()(w);
        w.faults.add({ service: "npm", kind, ...(kind === "429" ? { retryAfterSec: 0 } : {}) });
      },
      expectExit: 3,
      expect: [
        { channel: "npm", status: "unknown", code: "probe-failed" },
        { channel: "github", status: "ok" },
      ],
    });
  }
  check({
    name: "GitHub primary rate limit (reset an hour away)",
    setup: (w) => {
      pub()(w);
      w.faults.add({ service: "github-api", kind: "403-ratelimit" });
    },
    expectExit: 3,
    expect: [
      { channel: "github", status: "unknown", code: "probe-failed" },
      { channel: "homebrew", status: "unknown", code: "probe-failed" },
      { channel: "npm", status: "ok" },
    ],
  });
  check({
    name: "a fault on one channel does not hide drift elsewhere (exit 1)",
    setup: (w) => {
      pub({ channels: ["github", "crates", "npm", "homebrew"] })(w);
      w.faults.add({ service: "crates-index", kind: "503" });
    },
    expectExit: 1,
    expect: [
      { channel: "crates", status: "unknown", code: "probe-failed" },
      { channel: "pypi", status: "drift", code: "version-missing" },
    ],
  });
});

describe("monitor verify: usage errors exit 2", () => {
  let sim: Sim;
  let config: string;
  before(async () => {
    sim = await startSim();
    config = writeConfig(tempDir(), simConfigYaml(sim));
  });
  after(() => sim.close());

  for (const bad of ["v1;rm -rf /", "../x", "v1.0/../../etc", "$(id)", ""]) {
    it(`rejects tag ${JSON.stringify(bad)}`, async () => {
      const r = await runCli(["verify", bad, "--config", config]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /tag/);
    });
  }

  it("rejects a bad config with the exact path, exit 2", async () => {
    const dir = tempDir();
    const path = writeConfig(
      dir,
      simConfigYaml(sim).replace("crates: { crate: plasmite }", "crates: { crate: plasmite, crat: x }"),
    );
    const r = await runCli(["verify", "v0.8.0", "--config", path]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /projects\[0\]\.channels\.crates\.crat: unknown key/);
    const check = await runCli(["config", "check", "--config", path]);
    assert.equal(check.code, 2);
    assert.match(check.stderr, /projects\[0\]\.channels\.crates\.crat: unknown key/);
  });

  it("rejects unknown flags and channels", async () => {
    assert.equal((await runCli(["verify", "v0.8.0", "--config", config, "--bogus"])).code, 2);
    const r = await runCli(["verify", "v0.8.0", "--config", config, "--channel", "rubygems"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--channel: unknown channel "rubygems"/);
    const w = await runCli(["verify", "v0.8.0", "--config", config, "--wait", "soon"]);
    assert.equal(w.code, 2);
    assert.match(w.stderr, /--wait/);
  });

  it("a missing config file is a usage error", async () => {
    const r = await runCli(["verify", "v0.8.0", "--config", "/nonexistent/monitor.yaml"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read config/);
  });
});
