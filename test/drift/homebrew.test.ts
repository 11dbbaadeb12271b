import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { artifactFor, platformContext } from "../../src/channels/homebrew/check.ts";
import type { ReleasePlan } from "../../src/plan/types.ts";
import type { HomebrewObservation } from "../../src/channels/homebrew/types.ts";
import {
  LATER,
  SOON,
  SUMS,
  TAG,
  assetName,
  assetSha,
  assetUrl,
  at,
  cleanResults,
  codes,
  failed,
  github,
  githubUnreleased,
  homebrew,
  ok,
  plan,
  run,
  sha256,
  verdict,
  type Results,
} from "./builders.ts";

interface Case {
  name: string;
  obs: HomebrewObservation;
  results?: Results;
  /** Leave GitHub out of the run (a `--channels homebrew` verify). */
  withoutGithub?: true;
  plan?: (p: ReleasePlan) => void;
  now?: Date;
  expect: string[];
  status: string;
  finding?: { code: string; subject?: string; includes?: string[]; expected?: string; actual?: string };
}

const WRONG = sha256("tampered");
const ARM = assetName("darwin_arm64");

function art(o: HomebrewObservation, platform: string) {
  const a = o.formula!.artifacts.find((x) => x.resolved_url === assetUrl(platform));
  if (!a) throw new Error(`no artifact for ${platform}`);
  return a;
}

const cases: Case[] = [
  { name: "aligned formula", obs: homebrew(), expect: [], status: "ok" },
  {
    name: "formula not found",
    obs: homebrew((o) => {
      o.found = false;
      o.formula = null;
    }),
    expect: ["formula-missing:drift"],
    status: "drift",
    finding: { code: "formula-missing", subject: "Formula/plasmite.rb" },
  },
  {
    name: "formula behind, inside grace",
    obs: homebrew((o) => {
      o.formula!.version = "0.7.2";
      o.formula!.artifacts = [];
    }),
    now: at(29),
    expect: ["formula-version-mismatch:pending"],
    status: "pending",
    finding: { code: "formula-version-mismatch", expected: "0.8.0", actual: "0.7.2" },
  },
  {
    name: "formula behind, after grace (platform findings are left to the version finding)",
    obs: homebrew((o) => {
      o.formula!.version = "0.7.2";
      o.formula!.artifacts = [];
    }),
    now: at(30),
    expect: ["formula-version-mismatch:drift"],
    status: "drift",
  },
  {
    name: "non-semver formula version: a mismatch, propagation-sensitive",
    obs: homebrew((o) => (o.formula!.version = "nightly")),
    now: SOON,
    expect: ["formula-version-mismatch:pending"],
    status: "pending",
  },
  {
    name: "formula already newer: drift at once",
    obs: homebrew((o) => (o.formula!.version = "0.9.0")),
    now: SOON,
    expect: ["formula-version-mismatch:drift"],
    status: "drift",
    finding: { code: "formula-version-mismatch", includes: ["formula already at 0.9.0"] },
  },
  {
    name: "formula without a version line but with this release's URLs is aligned",
    obs: homebrew((o) => (o.formula!.version = null)),
    expect: [],
    status: "ok",
  },
  {
    name: "platform missing",
    obs: homebrew((o) => (o.formula!.artifacts = o.formula!.artifacts.filter((a) => a.context.os !== "linux"))),
    expect: ["formula-platform-missing:drift"],
    status: "drift",
    finding: { code: "formula-platform-missing", subject: "linux_amd64" },
  },
  {
    name: "platform refused with odie",
    obs: homebrew(),
    plan: (p) => {
      p.homebrew!.artifacts.push({ platform: "linux_arm64", url: assetUrl("linux_arm64"), asset_name: null });
    },
    expect: ["formula-platform-missing:drift"],
    status: "drift",
    finding: { code: "formula-platform-missing", subject: "linux_arm64", includes: ["odie"] },
  },
  {
    name: "url mismatch",
    obs: homebrew((o) => (art(o, "darwin_arm64").resolved_url = assetUrl("darwin_arm64").replace("v0.8.0", "0.8.0"))),
    expect: ["formula-url-mismatch:drift"],
    status: "drift",
    finding: { code: "formula-url-mismatch", subject: "darwin_arm64", expected: assetUrl("darwin_arm64") },
  },
  {
    name: "placeholder sha256",
    obs: homebrew((o) => (art(o, "linux_amd64").sha256 = "PLACEHOLDER_LINUX_AMD64_SHA256")),
    expect: ["formula-placeholder:drift"],
    status: "drift",
    finding: { code: "formula-placeholder", subject: "linux_amd64", actual: "PLACEHOLDER_LINUX_AMD64_SHA256" },
  },
  {
    name: "sha256 differs from the GitHub checksum line",
    obs: homebrew((o) => (art(o, "darwin_arm64").sha256 = WRONG)),
    expect: ["sha-mismatch:drift"],
    status: "drift",
    finding: {
      code: "sha-mismatch",
      subject: ARM,
      expected: `${SUMS}: ${assetSha("darwin_arm64")}`,
      actual: `formula: ${WRONG}`,
    },
  },
  {
    name: "sha256 differs from the GitHub asset digest (no sums line)",
    obs: homebrew((o) => (art(o, "darwin_arm64").sha256 = WRONG)),
    results: { github: ok<"github">(github((o) => (o.checksums!.entries = []))) },
    expect: ["sha-mismatch:drift"],
    status: "drift",
    finding: { code: "sha-mismatch", expected: `GitHub asset digest: ${assetSha("darwin_arm64")}` },
  },
  {
    name: "sha256 differs from deep-downloaded bytes (no digest, no sums)",
    obs: homebrew((o) => (art(o, "darwin_arm64").sha256 = WRONG)),
    results: {
      github: ok<"github">(
        github((o) => {
          o.checksums = null;
          for (const a of o.release!.assets) a.digest = null;
          o.downloads = { [ARM]: { sha256: assetSha("darwin_arm64"), bytes: 5 } };
        }),
      ),
    },
    // only darwin_arm64 was downloaded: the other two have nothing to compare with
    expect: ["sha-mismatch:drift", "digest-unavailable:info"],
    status: "drift",
    finding: { code: "sha-mismatch", expected: `downloaded bytes: ${assetSha("darwin_arm64")}` },
  },
  {
    name: "no GitHub sha256 to compare: info",
    obs: homebrew(),
    results: {
      github: ok<"github">(
        github((o) => {
          o.checksums = null;
          for (const a of o.release!.assets) a.digest = null;
        }),
      ),
    },
    expect: ["digest-unavailable:info"],
    status: "ok",
  },
  {
    name: "tap updated before the GitHub release exists: formula-ahead, pending regardless of grace",
    obs: homebrew(),
    results: { github: ok<"github">(githubUnreleased()) },
    now: new Date("2027-01-01T00:00:00Z"),
    expect: ["formula-ahead:pending"],
    status: "pending",
    finding: { code: "formula-ahead", subject: TAG },
  },
  {
    name: "formula names an asset the release lacks, inside the homebrew grace window: formula-ahead, pending",
    obs: homebrew(),
    results: {
      github: ok<"github">(github((o) => (o.release!.assets = o.release!.assets.filter((a) => a.name !== ARM)))),
    },
    now: SOON,
    expect: ["formula-ahead:pending"],
    status: "pending",
    finding: { code: "formula-ahead", subject: "darwin_arm64", expected: ARM },
  },
  {
    name: "formula names an asset the release lacks, after the grace window: asset-missing, drift",
    obs: homebrew(),
    results: {
      github: ok<"github">(github((o) => (o.release!.assets = o.release!.assets.filter((a) => a.name !== ARM)))),
    },
    expect: ["asset-missing:drift"],
    status: "drift",
    finding: { code: "asset-missing", subject: "darwin_arm64", expected: ARM },
  },
  {
    name: "release is a draft created long ago: release-draft, drift (formula URLs 404 to users)",
    obs: homebrew(),
    results: { github: ok<"github">(github((o) => (o.release!.draft = true))) },
    expect: ["release-draft:drift"],
    status: "drift",
  },
  {
    name: "GitHub probe failed: no cross-check, an info finding, wrong sha not judged",
    obs: homebrew((o) => (art(o, "darwin_arm64").sha256 = WRONG)),
    results: { github: failed("github") },
    expect: ["cross-check-skipped:info"],
    status: "ok",
    finding: { code: "cross-check-skipped", includes: ["E_HTTP_TIMEOUT"] },
  },
  {
    name: "GitHub not checked in this run: no cross-check",
    obs: homebrew(),
    withoutGithub: true,
    expect: ["cross-check-skipped:info"],
    status: "ok",
  },
  {
    name: "formula-ahead still reports content problems (placeholder)",
    obs: homebrew((o) => (art(o, "linux_amd64").sha256 = "PLACEHOLDER")),
    results: { github: ok<"github">(githubUnreleased()) },
    expect: ["formula-ahead:pending", "formula-placeholder:drift"],
    status: "drift",
  },
];

describe("drift/homebrew", () => {
  for (const c of cases) {
    it(c.name, () => {
      const results = cleanResults({ homebrew: ok<"homebrew">(c.obs), ...c.results });
      if (c.withoutGithub) delete results.github;
      const e = run(results, c.now ?? LATER, plan(c.plan));
      assert.deepEqual(codes(e, "homebrew"), c.expect);
      const v = verdict(e, "homebrew");
      assert.equal(v.status, c.status);
      if (c.finding) {
        const f = v.findings.find((x) => x.code === c.finding!.code);
        assert.ok(f, `finding ${c.finding.code}`);
        if (c.finding.subject !== undefined) assert.equal(f.subject, c.finding.subject);
        if (c.finding.expected !== undefined) assert.equal(f.expected, c.finding.expected);
        if (c.finding.actual !== undefined) assert.equal(f.actual, c.finding.actual);
        for (const text of c.finding.includes ?? []) assert.ok(f.message.includes(text), `${f.message} has ${text}`);
      }
    });
  }

  it("formula-ahead never carries in_grace or grace_until", () => {
    const e = run(cleanResults({ github: ok<"github">(githubUnreleased()) }), SOON);
    const v = verdict(e, "homebrew");
    assert.equal(v.findings[0]!.in_grace, undefined);
    assert.equal(v.grace_until, undefined);
  });
});

describe("drift/homebrew platforms", () => {
  const table: [string, ReturnType<typeof platformContext>][] = [
    ["darwin_arm64", { os: "macos", cpu: "arm" }],
    ["darwin_amd64", { os: "macos", cpu: "intel" }],
    ["linux_amd64", { os: "linux", cpu: "intel" }],
    ["linux_x86_64", { os: "linux", cpu: "intel" }],
    ["linux-aarch64", { os: "linux", cpu: "arm" }],
    ["darwin_universal", { os: "macos", cpu: null }],
    ["windows_amd64", { os: "other", cpu: "intel" }],
  ];
  for (const [platform, want] of table) {
    it(platform, () => assert.deepEqual(platformContext(platform), want));
  }

  it("picks the most specific branch; os/cpu null match anything", () => {
    const formula = homebrew((o) => {
      o.formula!.artifacts = [
        { url: "a", resolved_url: "any", sha256: null, context: { os: null, cpu: null }, line: 1 },
        { url: "b", resolved_url: "macos", sha256: null, context: { os: "macos", cpu: null }, line: 2 },
        { url: "c", resolved_url: "macos-arm", sha256: null, context: { os: "macos", cpu: "arm" }, line: 3 },
      ];
    }).formula!;
    assert.equal(artifactFor(formula, "darwin_arm64")?.resolved_url, "macos-arm");
    assert.equal(artifactFor(formula, "darwin_amd64")?.resolved_url, "macos");
    assert.equal(artifactFor(formula, "linux_amd64")?.resolved_url, "any");
    formula.artifacts.shift();
    assert.equal(artifactFor(formula, "linux_amd64"), null);
  });
});
