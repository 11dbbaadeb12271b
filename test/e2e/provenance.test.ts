/**
 * Provenance through the CLI (issue 13): `monitor verify` as a child process against the simulated registries,
 * either `--sim <scenario>` (the CLI starts the sim) or a sim started here (to script a world or read its request
 * log). One case per finding code under `required`, the tampered bundle and the missing trusted root (never ok),
 * and the policies: required → drift (exit 1), warn → warning with the channel status unchanged, off → no
 * attestation request, grace → pending, and a non-default npm registry's missing attestations (mirror_absence).
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { startSim } from "../../src/sim/index.ts";
import type { World as SimWorld } from "../../src/sim/world.ts";
import { plasmiteProject, type ScenarioName } from "../../src/sim/scenarios.ts";
import { PLASMITE_PROJECTS_YAML } from "../../src/sim/config-yaml.ts";
import type { PublishOptions } from "../../src/sim/spec.ts";
import type { RequestLogEntry } from "../../src/sim/stats.ts";
import type { ChannelReport, ProvenanceChannelReport, Report } from "../../src/report/types.ts";
import { runCli, simConfigYaml, tempDir, writeConfig, type CliResult } from "../helpers/cli.ts";

const HOUR = 3_600_000;

interface Run {
  result: CliResult;
  report: Report;
}

function parse(result: CliResult): Report {
  try {
    return JSON.parse(result.stdout) as Report;
  } catch {
    return assert.fail(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** `provenance:` lines for the plasmite project (4-space keys), e.g. `policy: { github: required }`. */
function provenanceYaml(lines: readonly string[]): string {
  return lines.length === 0 ? "" : `    provenance:\n${lines.map((l) => `      ${l}\n`).join("")}`;
}

/** `verify v0.8.0 --sim <scenario> --json` with the plasmite project's `provenance:` block set to `lines`. */
async function viaScenario(scenario: ScenarioName, lines: readonly string[] = []): Promise<Run> {
  const config = writeConfig(tempDir(), `version: 1\n${PLASMITE_PROJECTS_YAML}${provenanceYaml(lines)}`);
  const result = await runCli(["verify", "v0.8.0", "--config", config, "--sim", scenario, "--json"]);
  return { result, report: parse(result) };
}

/**
 * A sim started here: plasmite 0.7.2 fully attested a day ago, then `setup`, then verify through a config file
 * (the sim's trust as files; npm.registry is the sim, which is not npm's default registry: a "mirror").
 */
async function viaWorld(
  setup: (publish: (opts?: PublishOptions) => void, world: SimWorld) => void,
  lines: readonly string[] = [],
  settings: { mirrorAbsence?: "drift" } = {},
): Promise<Run & { log: RequestLogEntry[] }> {
  const sim = await startSim({ githubToken: null });
  try {
    sim.world.addProject(plasmiteProject());
    sim.world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 26 * HOUR });
    setup((opts = {}) => {
      sim.world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 2 * HOUR, ...opts });
    }, sim.world);
    let yaml = simConfigYaml(sim, { token: "sim-token-123456", project: provenanceYaml(lines) });
    if (settings.mirrorAbsence) {
      yaml = yaml.replace(/( {4}npm_keys: .*\n)/, `$1    mirror_absence: ${settings.mirrorAbsence}\n`);
      assert.match(yaml, /mirror_absence: drift/);
    }
    sim.stats.log.length = 0;
    const result = await runCli(["verify", "v0.8.0", "--config", writeConfig(tempDir(), yaml), "--json"]);
    return { result, report: parse(result), log: [...sim.stats.log] };
  } finally {
    await sim.close();
  }
}

function channel(report: Report, name: string): ChannelReport {
  const ch = report.channels.find((c) => c.channel === name);
  assert.ok(ch, `channel ${name} in the report`);
  return ch;
}

function prov(report: Report, name: string): ProvenanceChannelReport {
  assert.ok(report.provenance, "the report has a provenance block");
  const p = report.provenance.channels.find((c) => c.channel === name);
  assert.ok(p, `provenance channel ${name}`);
  return p;
}

const codes = (ch: { findings: readonly { code: string; severity: string }[] }) =>
  JSON.stringify(ch.findings.map((f) => `${f.code}/${f.severity}`));

/** Under `required`: the code is a drift finding on the channel and in its provenance block entry; exit 1. */
function assertRequiredDrift(run: Run, name: string, code: string): void {
  const ch = channel(run.report, name);
  const p = prov(run.report, name);
  assert.equal(run.result.code, 1, `exit 1; ${name} ${ch.status} ${codes(ch)}\n${run.result.stderr}`);
  assert.equal(ch.status, "drift", codes(ch));
  assert.ok(
    ch.findings.some((f) => f.code === code && f.severity === "drift"),
    `${name} has ${code}/drift: ${codes(ch)}`,
  );
  assert.equal(p.status, "drift");
  assert.ok(
    p.findings.some((f) => f.code === code),
    `provenance ${name} has ${code}: ${codes(p)}`,
  );
  assert.equal(run.report.provenance?.status, "drift");
}

describe("provenance: one scenario per finding code, under required", { concurrency: 2 }, () => {
  it("provenance-missing: no GitHub build attestations (plasmite as it is today)", async () => {
    const run = await viaScenario("plasmite-today", ["policy: { github: required }"]);
    assertRequiredDrift(run, "github", "provenance-missing");
    assert.equal(prov(run.report, "github").signature, "absent");
  });

  it("provenance-signature-invalid: a tampered GitHub bundle", async () => {
    const run = await viaScenario("provenance-tampered", ["policy: { github: required }"]);
    assertRequiredDrift(run, "github", "provenance-signature-invalid");
    assert.equal(prov(run.report, "github").signature, "invalid");
  });

  it("provenance-digest-mismatch: npm's attestation names another sha512 than dist.integrity", async () => {
    const run = await viaWorld(
      (publish) => publish({ provenance: { npm: { wrongDigest: true } } }),
      ["policy: { npm: required }"],
    );
    assertRequiredDrift(run, "npm", "provenance-digest-mismatch");
    assert.equal(prov(run.report, "npm").subjects_matched, false);
    assert.equal(prov(run.report, "npm").signature, "verified", "the signature itself is good");
  });

  it("provenance-commit-mismatch: GitHub assets built from a commit that is not the tag's", async () => {
    const run = await viaScenario("provenance-wrong-commit", ["policy: { github: required }"]);
    assertRequiredDrift(run, "github", "provenance-commit-mismatch");
    assert.notEqual(prov(run.report, "github").commit, run.report.provenance?.expected.commit);
  });

  it("provenance-repository-mismatch: npm published from a fork", async () => {
    const run = await viaScenario("provenance-repository-mismatch", ["policy: { npm: required }"]);
    assertRequiredDrift(run, "npm", "provenance-repository-mismatch");
    assert.equal(prov(run.report, "npm").repository, "forker/plasmite");
  });

  it("provenance-workflow-mismatch: GitHub assets built by nightly.yml on main", async () => {
    const run = await viaScenario("provenance-other-workflow", ["policy: { github: required }"]);
    assertRequiredDrift(run, "github", "provenance-workflow-mismatch");
    assert.equal(prov(run.report, "github").workflow, ".github/workflows/nightly.yml");
  });

  it("publisher-not-trusted: npm published by hand where trusted_publisher.npm is required", async () => {
    const run = await viaScenario("provenance-hand-published", ["trusted_publisher: { npm: required }"]);
    assertRequiredDrift(run, "npm", "publisher-not-trusted");
  });

  it("release-attestation-mismatch: an immutable release's attestation leaves out an asset", async () => {
    const run = await viaScenario("provenance-release-attestation-mismatch", ["policy: { github: required }"]);
    assertRequiredDrift(run, "github", "release-attestation-mismatch");
    const f = channel(run.report, "github").findings.find((x) => x.code === "release-attestation-mismatch");
    assert.match(f?.expected ?? "", /plasmite_0\.8\.0_linux_amd64\.tar\.gz/);
    assert.doesNotMatch(f?.actual ?? "", /linux_amd64/);
  });

  it("provenance-downgrade: npm 0.8.0 by hand after an attested, trusted-published 0.7.2", async () => {
    const run = await viaScenario("provenance-hand-published", ["policy: { npm: required }"]);
    assertRequiredDrift(run, "npm", "provenance-downgrade");
    const f = channel(run.report, "npm").findings.find((x) => x.code === "provenance-downgrade");
    assert.match(f?.message ?? "", /0\.7\.2/);
  });
});

describe("provenance: commit source", { concurrency: 2 }, () => {
  it("built and published from main: ok with commit build-metadata, every commit the metadata's source_sha", async () => {
    const run = await viaScenario("provenance-build-metadata", [
      "commit: build-metadata",
      "policy: { github: required, npm: required, pypi: required, crates: required }",
    ]);
    assert.equal(run.result.code, 0, run.result.stderr);
    const block = run.report.provenance;
    assert.ok(block);
    assert.equal(block.status, "ok", JSON.stringify(block.channels.map((c) => [c.channel, c.status, codes(c)])));
    const expected = block.expected.commit;
    assert.match(expected ?? "", /^[0-9a-f]{40}$/);
    const github = channel(run.report, "github").observed as { tag?: { commit_sha?: string } };
    assert.notEqual(expected, github.tag?.commit_sha, "the metadata's source_sha is not the tag's commit");
    for (const c of block.channels) assert.equal(c.commit, expected, `${c.channel} commit`);
  });

  it("the same release with commit tag (the default): provenance-commit-mismatch on every attested channel", async () => {
    const run = await viaScenario("provenance-build-metadata", ["policy: { github: required }"]);
    assertRequiredDrift(run, "github", "provenance-commit-mismatch");
    for (const name of ["npm", "pypi", "crates"]) {
      assert.ok(
        prov(run.report, name).findings.some((f) => f.code === "provenance-commit-mismatch"),
        `${name}: ${codes(prov(run.report, name))}`,
      );
    }
  });

  it("build-metadata with no build run to read: the expected commit is null and the verdict unknown, never ok", async () => {
    const run = await viaScenario("clean", ["commit: build-metadata"]);
    assert.equal(run.report.provenance?.expected.commit, null);
    assert.equal(run.report.provenance?.status, "unknown");
    assert.match(run.result.stderr, /build-metadata: the expected commit is unknown/);
  });
});

describe("provenance: tampered bundles and a missing trusted root are never ok", { concurrency: 2 }, () => {
  it("tampered (default warn): signature invalid, provenance drift; the channel keeps its status with a warning", async () => {
    const run = await viaScenario("provenance-tampered");
    const p = prov(run.report, "github");
    assert.equal(p.signature, "invalid");
    assert.equal(p.status, "drift");
    assert.equal(run.report.provenance?.status, "drift");
    const ch = channel(run.report, "github");
    assert.equal(ch.status, "ok", codes(ch));
    assert.ok(ch.findings.some((f) => f.code === "provenance-signature-invalid" && f.severity === "warning"));
    assert.equal(run.result.code, 0);
  });

  it("no trusted root (warn): no signature verified, provenance unknown, channel statuses unchanged, exit 0", async () => {
    const run = await viaScenario("no-trusted-root");
    const block = run.report.provenance;
    assert.ok(block);
    assert.equal(block.status, "unknown");
    for (const c of block.channels) {
      assert.notEqual(c.signature, "verified", c.channel);
      // crates.io's trustpub_data is a registry assertion (not-applicable): the only channel that can be ok.
      if (c.signature !== "not-applicable")
        assert.notEqual(c.status, "ok", `${c.channel} is never ok without a trusted root`);
    }
    assert.equal(prov(run.report, "crates").signature, "not-applicable");
    assert.equal(prov(run.report, "github").signature, "unknown");
    assert.equal(run.report.status, "ok");
    assert.equal(run.result.code, 0);
  });

  it("no trusted root (required): the required channel is unknown, exit 3", async () => {
    const run = await viaScenario("no-trusted-root", ["policy: { github: required }"]);
    assert.equal(prov(run.report, "github").signature, "unknown");
    assert.equal(channel(run.report, "github").status, "unknown");
    assert.equal(channel(run.report, "npm").status, "ok", "warn channels keep their status");
    assert.equal(run.result.code, 3, run.result.stderr);
  });
});

describe("provenance: policies", { concurrency: 2 }, () => {
  it("warn: a downgrade is a warning and the channel stays ok; the block still says drift", async () => {
    const run = await viaScenario("provenance-hand-published");
    const npm = channel(run.report, "npm");
    assert.equal(npm.status, "ok", codes(npm));
    assert.ok(
      npm.findings.some((f) => f.code === "provenance-downgrade" && f.severity === "warning"),
      codes(npm),
    );
    assert.equal(prov(run.report, "npm").status, "drift");
    assert.equal(run.report.status, "ok");
    assert.equal(run.result.code, 0);
  });

  it("off: no attestation request at all, the block's channels skipped", async () => {
    const off = "policy: { github: off, crates: off, npm: off, pypi: off, homebrew: off }";
    const run = await viaWorld((publish) => publish(), [off]);
    assert.equal(run.result.code, 0, run.result.stderr);
    const asked = run.log.filter(
      (e) =>
        e.path.includes("/attestations/") ||
        e.path.includes("/integrity/") ||
        e.service === "github-blobs" ||
        e.service === "sigstore" ||
        e.path.includes("/actions/"),
    );
    assert.deepEqual(
      asked.map((e) => `${e.service} ${e.path}`),
      [],
    );
    assert.ok(run.log.length > 0, "the request log saw the channel probes");
    for (const c of run.report.provenance?.channels ?? []) assert.equal(c.status, "skipped", c.channel);
  });

  it("the same world with warn: the attestation endpoints were asked (the off case can fail)", async () => {
    const run = await viaWorld((publish) => publish());
    assert.ok(
      run.log.some((e) => e.path.includes("/attestations/sha256:")),
      "GitHub attestations asked",
    );
    assert.ok(
      run.log.some((e) => e.path.includes("/integrity/")),
      "PyPI Integrity API asked",
    );
    assert.equal(prov(run.report, "github").signature, "verified");
  });

  it("grace: attestations absent inside provenance.grace are pending, exit 4", async () => {
    const run = await viaWorld(
      (publish) => publish({ publishedAt: Date.now() - 60_000, provenance: { github: null } }),
      ["policy: { github: required }", "grace: 30m"],
    );
    const gh = channel(run.report, "github");
    assert.equal(gh.status, "pending", codes(gh));
    assert.ok(
      gh.findings.some((f) => f.code === "provenance-missing" && f.severity === "pending" && f.in_grace === true),
    );
    assert.equal(prov(run.report, "github").status, "pending");
    assert.equal(run.result.code, 4, run.result.stderr);
  });

  it("past the grace the same absence is drift", async () => {
    const run = await viaWorld(
      (publish) => publish({ provenance: { github: null } }),
      ["policy: { github: required }", "grace: 30m"],
    );
    assertRequiredDrift(run, "github", "provenance-missing");
  });

  it("mirror_absence unknown (default): npm without attestations on a non-default registry is unknown, not drift", async () => {
    const run = await viaWorld(
      (publish) => publish({ provenance: { npm: { stripped: true } } }),
      ["policy: { npm: required }"],
    );
    const p = prov(run.report, "npm");
    assert.equal(p.status, "unknown", codes(p));
    assert.ok(!p.findings.some((f) => f.code === "provenance-missing" || f.code === "provenance-downgrade"), codes(p));
    assert.notEqual(channel(run.report, "npm").status, "drift");
    assert.equal(run.result.code, 3, run.result.stderr);
  });

  it("mirror_absence drift: the same absence is drift, and so is the provenance it lost since 0.7.2", async () => {
    const run = await viaWorld(
      (publish) => publish({ provenance: { npm: { stripped: true } } }),
      ["policy: { npm: required }"],
      { mirrorAbsence: "drift" },
    );
    assertRequiredDrift(run, "npm", "provenance-missing");
    assertRequiredDrift(run, "npm", "provenance-downgrade");
  });
});

describe("provenance: GitHub's attestation list is read page by page", () => {
  it("150 earlier nightly attestations per digest: the release workflow's, on page 2, is found and verified", async () => {
    const run = await viaWorld(
      (publish) => publish({ provenance: { github: { earlier: 150 } } }),
      ["policy: { github: required }"],
    );
    const gh = prov(run.report, "github");
    assert.equal(gh.status, "ok", codes(gh));
    assert.equal(gh.signature, "verified");
    assert.equal(channel(run.report, "github").status, "ok", codes(channel(run.report, "github")));
    const lists = run.log.filter((e) => e.service === "github-api" && /\/attestations\/sha256:/.test(e.path));
    const paged = lists.filter((e) => /[?&]after=/.test(e.path)).map((e) => e.path.replace(/\?.*$/, ""));
    // Each built asset's digest: page 1 (per_page=100), then page 2 through the Link header's `after` cursor.
    assert.ok(paged.length >= 1, lists.map((e) => e.path).join("\n"));
    for (const d of paged) {
      assert.equal(lists.filter((e) => e.path.startsWith(`${d}?`)).length, 2, d);
    }
    assert.ok(lists.every((e) => /[?&]per_page=100/.test(e.path)));
  });
});

describe("provenance: crates.io's run_id followed to the Actions run", { concurrency: 2 }, () => {
  it("clean: the run is release-publish.yml on the tag's commit; crates ok, its workflow reported", async () => {
    const run = await viaScenario("clean", ["policy: { crates: required }"]);
    const crates = prov(run.report, "crates");
    assert.equal(crates.status, "ok", codes(crates));
    assert.equal(crates.workflow, ".github/workflows/release-publish.yml");
    assert.equal(crates.signature, "not-applicable");
  });

  it("a run of nightly.yml on another commit: commit and workflow mismatches, each with both values", async () => {
    const run = await viaScenario("provenance-crates-run-mismatch", ["policy: { crates: required }"]);
    assertRequiredDrift(run, "crates", "provenance-commit-mismatch");
    assertRequiredDrift(run, "crates", "provenance-workflow-mismatch");
    const p = prov(run.report, "crates");
    const tagCommit = run.report.provenance?.expected.commit ?? "";
    assert.match(tagCommit, /^[0-9a-f]{40}$/);
    const commit = p.findings.find((f) => f.code === "provenance-commit-mismatch" && /Actions run/.test(f.message));
    assert.ok(commit, codes(p));
    assert.equal(commit.expected, tagCommit);
    assert.match(commit.actual ?? "", /^[0-9a-f]{40}$/);
    assert.notEqual(commit.actual, tagCommit);
    const wf = p.findings.find((f) => f.code === "provenance-workflow-mismatch");
    assert.equal(wf?.actual, ".github/workflows/nightly.yml");
    assert.match(wf?.expected ?? "", /release-publish\.yml/);
    // trustpub_data.sha itself is the tag's commit: only the run disagrees.
    assert.equal(p.commit, tagCommit);
  });

  it("the run cannot be read (503): unknown, never drift, and the crate's own checks still hold", async () => {
    const run = await viaWorld(
      (publish, world) => {
        world.faults.add({ service: "github-api", path: /\/actions\/runs\/\d+$/, kind: "503" });
        publish();
      },
      ["policy: { crates: required }"],
    );
    const p = prov(run.report, "crates");
    assert.equal(p.status, "unknown", codes(p));
    assert.deepEqual(p.findings, []);
    assert.equal(channel(run.report, "crates").status, "unknown");
    assert.ok(run.log.some((e) => e.service === "github-api" && /\/actions\/runs\/\d+$/.test(e.path)));
  });

  it("crates_run: off reads no Actions run", async () => {
    const run = await viaWorld((publish) => publish(), ["policy: { crates: required }", "crates_run: off"]);
    assert.equal(prov(run.report, "crates").status, "ok");
    assert.ok(!run.log.some((e) => /\/actions\/runs\/\d+$/.test(e.path)));
  });
});
