import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GithubObservation } from "../../src/channels/github/types.ts";
import type { ReleasePlan } from "../../src/plan/types.ts";
import {
  ASSET_SHA,
  LATER,
  SOON,
  SUMS,
  TAG,
  asset,
  assetName,
  assetSha,
  at,
  cleanResults,
  codes,
  github,
  githubUnreleased,
  ok,
  plan,
  run,
  sha256,
  verdict,
} from "./builders.ts";

interface Case {
  name: string;
  obs: GithubObservation;
  plan?: (p: ReleasePlan) => void;
  now?: Date;
  expect: string[];
  status: string;
  /** A check on the single interesting finding. */
  finding?: { code: string; subject?: string; includes?: string[] };
}

const LINUX = assetName("linux_amd64");
const ARM = assetName("darwin_arm64");
const WRONG = sha256("tampered");

const cases: Case[] = [
  { name: "clean release", obs: github(), expect: [], status: "ok" },
  {
    name: "tag missing",
    obs: github((o) => (o.tag.exists = false)),
    expect: ["tag-missing:drift"],
    status: "drift",
    finding: { code: "tag-missing", subject: TAG },
  },
  {
    name: "release missing (404) is drift: no published_at, no grace",
    obs: githubUnreleased(),
    now: SOON,
    expect: ["release-missing:drift"],
    status: "drift",
    finding: { code: "release-missing", subject: TAG, includes: ["tag exists"] },
  },
  {
    name: "release draft",
    obs: github((o) => {
      o.release!.draft = true;
      o.release!.published_at = null;
    }),
    expect: ["release-draft:drift"],
    status: "drift",
  },
  {
    name: "release prerelease",
    obs: github((o) => (o.release!.prerelease = true)),
    expect: ["release-prerelease:drift"],
    status: "drift",
  },
  {
    name: "asset missing inside the github grace window is pending",
    obs: github((o) => (o.release!.assets = o.release!.assets.filter((a) => a.name !== LINUX))),
    now: at(4),
    expect: ["asset-missing:pending"],
    status: "pending",
    finding: { code: "asset-missing", subject: LINUX },
  },
  {
    name: "asset missing after the github grace window is drift",
    obs: github((o) => (o.release!.assets = o.release!.assets.filter((a) => a.name !== LINUX))),
    now: at(5),
    expect: ["asset-missing:drift"],
    status: "drift",
  },
  {
    name: "unexpected asset",
    obs: github((o) => o.release!.assets.push(asset("plasmite_0.8.0_windows_amd64.zip", sha256("win"), 7))),
    expect: ["asset-unexpected:drift"],
    status: "drift",
    finding: { code: "asset-unexpected", subject: "plasmite_0.8.0_windows_amd64.zip" },
  },
  {
    name: "extra_assets: files the release may carry are not unexpected",
    obs: github((o) => {
      o.release!.assets.push(asset("plasmite-installer.sh", sha256("sh"), 7));
      o.release!.assets.push(asset("plasmite_0.8.0.sbom.json", sha256("sbom"), 7));
    }),
    plan: (p) => (p.github!.extra_assets = ["plasmite-installer.sh", "*.sbom.json"]),
    expect: [],
    status: "ok",
  },
  {
    name: "extra_assets: an absent extra file is never asset-missing",
    obs: github(),
    plan: (p) => (p.github!.extra_assets = ["dist-manifest.json"]),
    expect: [],
    status: "ok",
  },
  {
    name: "extra_assets: a file matching no extra template is still unexpected",
    obs: github((o) => o.release!.assets.push(asset("other.txt", sha256("o"), 7))),
    plan: (p) => (p.github!.extra_assets = ["*.sbom.json"]),
    expect: ["asset-unexpected:drift"],
    status: "drift",
  },
  {
    name: "asset not uploaded (in grace)",
    obs: github((o) => {
      const a = o.release!.assets.find((x) => x.name === ARM)!;
      a.state = "starter";
      a.digest = null;
    }),
    now: SOON,
    expect: ["asset-not-uploaded:pending", "digest-unavailable:info"],
    status: "pending",
    finding: { code: "asset-not-uploaded", subject: ARM, includes: ['"starter"'] },
  },
  {
    name: "checksum file missing",
    obs: github((o) => {
      o.release!.assets = o.release!.assets.filter((a) => a.name !== SUMS);
      o.checksums = null;
    }),
    expect: ["checksum-file-missing:drift"],
    status: "drift",
    finding: { code: "checksum-file-missing", subject: SUMS },
  },
  {
    name: "checksum line missing for an expected asset",
    obs: github((o) => (o.checksums!.entries = o.checksums!.entries.filter((e) => e.name !== ARM))),
    expect: ["checksum-missing:drift"],
    status: "drift",
    finding: { code: "checksum-missing", subject: ARM },
  },
  {
    name: "invalid checksum lines",
    obs: github((o) => o.checksums!.invalid_lines.push({ line: 4, text: "not a sum" })),
    expect: ["checksum-invalid:drift"],
    status: "drift",
    finding: { code: "checksum-invalid", subject: SUMS, includes: ["line 4", "not a sum"] },
  },
  {
    name: "asset digest disagrees with the checksum line",
    obs: github((o) => (o.release!.assets.find((a) => a.name === ARM)!.digest = `sha256:${WRONG.toUpperCase()}`)),
    expect: ["sha-mismatch:drift"],
    status: "drift",
    finding: {
      code: "sha-mismatch",
      subject: ARM,
      includes: [SUMS, "GitHub asset digest", WRONG, assetSha("darwin_arm64")],
    },
  },
  {
    name: "deep: downloaded bytes disagree with line and digest",
    obs: github((o) => {
      o.downloads = Object.fromEntries(o.release!.assets.map((a) => [a.name, { sha256: ASSET(a.name), bytes: 10 }]));
      o.downloads[LINUX] = { sha256: WRONG, bytes: 10 };
    }),
    expect: ["sha-mismatch:drift"],
    status: "drift",
    finding: { code: "sha-mismatch", subject: LINUX, includes: ["downloaded bytes", WRONG] },
  },
  {
    name: "null digest is not a mismatch; one info finding when not deep",
    obs: github((o) => {
      for (const a of o.release!.assets) a.digest = null;
    }),
    expect: ["digest-unavailable:info"],
    status: "ok",
    finding: { code: "digest-unavailable", includes: [ARM, "--deep"] },
  },
  {
    name: "null digest with deep downloads that match: nothing to report",
    obs: github((o) => {
      for (const a of o.release!.assets) a.digest = null;
      o.downloads = Object.fromEntries(o.release!.assets.map((a) => [a.name, { sha256: ASSET(a.name), bytes: 10 }]));
    }),
    expect: [],
    status: "ok",
  },
  {
    name: "null digest + deep download that disagrees with the line",
    obs: github((o) => {
      for (const a of o.release!.assets) a.digest = null;
      o.downloads = { [ARM]: { sha256: WRONG, bytes: 10 } };
    }),
    expect: ["sha-mismatch:drift"],
    status: "drift",
  },
  {
    name: "malformed digest is unusable, not a mismatch",
    obs: github((o) => (o.release!.assets.find((a) => a.name === ARM)!.digest = "sha256:abc123")),
    expect: ["digest-unavailable:info"],
    status: "ok",
    finding: { code: "digest-unavailable", includes: ["sha256:abc123"] },
  },
  {
    name: "not latest with expect_latest=true: older latest is lag (in grace)",
    obs: github((o) => (o.latest_release_tag = "v0.7.2")),
    plan: (p) => (p.expect_latest = true),
    now: SOON,
    expect: ["version-not-latest:pending"],
    status: "pending",
  },
  {
    name: "not latest with expect_latest=true: older latest after grace is drift",
    obs: github((o) => (o.latest_release_tag = "v0.7.2")),
    plan: (p) => (p.expect_latest = true),
    expect: ["version-not-latest:drift"],
    status: "drift",
  },
  {
    name: "not latest with expect_latest=true: a newer latest is drift at once",
    obs: github((o) => (o.latest_release_tag = "v0.9.0")),
    plan: (p) => (p.expect_latest = true),
    now: SOON,
    expect: ["version-not-latest:drift"],
    status: "drift",
    finding: { code: "version-not-latest", includes: ["v0.9.0", TAG] },
  },
  {
    name: "not latest with expect_latest=auto: not checked",
    obs: github((o) => (o.latest_release_tag = "v0.9.0")),
    expect: [],
    status: "ok",
  },
  {
    name: "no checksum file planned: sums are not required",
    obs: github((o) => {
      o.release!.assets = o.release!.assets.filter((a) => a.name !== SUMS);
      o.checksums = null;
    }),
    plan: (p) => (p.github!.checksum_file = null),
    expect: [],
    status: "ok",
  },
  {
    name: "assets: [] with checksums: null: attached files are not judged, nor their digests",
    obs: github((o) => {
      for (const a of o.release!.assets) a.digest = null;
      o.checksums = null;
    }),
    plan: (p) => {
      p.github!.assets = [];
      p.github!.checksum_file = null;
    },
    expect: [],
    status: "ok",
  },
  {
    name: "assets: []: the release itself is still checked (draft, latest)",
    obs: github((o) => {
      o.release!.assets = [];
      o.release!.draft = true;
      o.latest_release_tag = "v0.7.2";
    }),
    plan: (p) => {
      p.github!.assets = [];
      p.github!.checksum_file = null;
      p.expect_latest = true;
    },
    expect: ["release-draft:drift", "version-not-latest:drift"],
    status: "drift",
  },
  {
    name: "assets: []: a missing release is still drift",
    obs: githubUnreleased(),
    plan: (p) => {
      p.github!.assets = [];
      p.github!.checksum_file = null;
    },
    expect: ["release-missing:drift"],
    status: "drift",
  },
];

// ---------------------------------------------------------------- checksums: { sidecar: ".sha256" } (cargo-dist)

/** The clean release with a `<asset>.sha256` sidecar beside each tarball instead of the checksum file. */
function sidecared(mutate?: (o: GithubObservation) => void): GithubObservation {
  return github((o) => {
    const tarballs = o.release!.assets.filter((a) => a.name !== SUMS);
    o.release!.assets = tarballs.flatMap((a, i) => [a, asset(`${a.name}.sha256`, sha256(`sidecar ${i}`), 20 + i)]);
    o.checksums = null;
    o.sidecars = Object.fromEntries(
      tarballs.map((a) => [
        a.name,
        { name: `${a.name}.sha256`, state: "read" as const, sha256: ASSET(a.name), named: a.name },
      ]),
    );
    mutate?.(o);
  });
}
const sidecarPlan = (p: ReleasePlan): void => {
  p.github!.checksum_file = null;
  p.github!.checksum_sidecar = ".sha256";
};

cases.push(
  {
    name: "sidecars: each asset's .sha256 agrees; the sidecars are not unexpected assets",
    obs: sidecared(),
    plan: sidecarPlan,
    expect: [],
    status: "ok",
  },
  {
    name: "sidecars: a sidecar that disagrees with the asset's digest is sha-mismatch naming the sidecar",
    obs: sidecared((o) => {
      const s = o.sidecars![ARM]!;
      if (s.state === "read") s.sha256 = WRONG;
    }),
    plan: sidecarPlan,
    expect: ["sha-mismatch:drift"],
    status: "drift",
    finding: { code: "sha-mismatch", subject: ARM, includes: [`${ARM}.sha256 says ${WRONG}`] },
  },
  {
    name: "sidecars: a missing sidecar is checksum-missing (pending in grace, drift after)",
    obs: sidecared((o) => {
      o.release!.assets = o.release!.assets.filter((a) => a.name !== `${LINUX}.sha256`);
      o.sidecars![LINUX] = { name: `${LINUX}.sha256`, state: "missing" };
    }),
    plan: sidecarPlan,
    expect: ["checksum-missing:drift"],
    status: "drift",
    finding: { code: "checksum-missing", subject: LINUX, includes: [`no ${LINUX}.sha256`] },
  },
  {
    name: "sidecars: a missing sidecar inside the grace window is pending",
    obs: sidecared((o) => (o.sidecars![LINUX] = { name: `${LINUX}.sha256`, state: "missing" })),
    plan: sidecarPlan,
    now: at(4),
    expect: ["checksum-missing:pending"],
    status: "pending",
  },
  {
    name: "sidecars: an unreadable sidecar (5xx) is unknown, not drift and not ok",
    obs: sidecared((o) => (o.sidecars![LINUX] = { name: `${LINUX}.sha256`, state: "unreadable", error: "HTTP 503" })),
    plan: sidecarPlan,
    expect: ["checksum-unreadable:unknown"],
    status: "unknown",
    finding: { code: "checksum-unreadable", subject: `${LINUX}.sha256`, includes: ["HTTP 503"] },
  },
  {
    name: "sidecars: text that is not a sha256 line, or a line for another file, is checksum-invalid",
    obs: sidecared((o) => {
      o.sidecars![LINUX] = { name: `${LINUX}.sha256`, state: "invalid", text: "<html>" };
      o.sidecars![ARM] = { name: `${ARM}.sha256`, state: "read", sha256: ASSET(ARM), named: "other.tar.gz" };
    }),
    plan: sidecarPlan,
    expect: ["checksum-invalid:drift", "checksum-invalid:drift"],
    status: "drift",
  },
  {
    name: "sidecars: a bare-hex sidecar (no name) is fine",
    obs: sidecared((o) => {
      const s = o.sidecars![ARM]!;
      if (s.state === "read") s.named = null;
    }),
    plan: sidecarPlan,
    expect: [],
    status: "ok",
  },
  {
    name: "sidecars: a missing asset is asset-missing only (its sidecar is not asked for)",
    obs: sidecared((o) => {
      o.release!.assets = o.release!.assets.filter((a) => !a.name.startsWith(LINUX));
      delete o.sidecars![LINUX];
    }),
    plan: sidecarPlan,
    expect: ["asset-missing:drift"],
    status: "drift",
  },
  {
    name: "sidecars: --deep bytes that disagree with the sidecar are sha-mismatch",
    obs: sidecared((o) => {
      o.release!.assets.find((a) => a.name === ARM)!.digest = null;
      o.downloads = Object.fromEntries(
        o.release!.assets.map((a) => [a.name, { sha256: a.name === ARM ? WRONG : ASSET(a.name), bytes: 1 }]),
      );
    }),
    plan: sidecarPlan,
    expect: ["sha-mismatch:drift"],
    status: "drift",
    finding: { code: "sha-mismatch", subject: ARM, includes: ["downloaded bytes says"] },
  },
);

/** The true sha256 of any asset on the clean release. */
function ASSET(name: string): string {
  return ASSET_SHA[name] ?? sha256("sums");
}

describe("drift/github", () => {
  for (const c of cases) {
    it(c.name, () => {
      const p = plan(c.plan);
      const e = run(cleanResults({ github: ok<"github">(c.obs) }), c.now ?? LATER, p);
      assert.deepEqual(codes(e, "github"), c.expect);
      assert.equal(verdict(e, "github").status, c.status);
      if (c.finding) {
        const f = verdict(e, "github").findings.find((x) => x.code === c.finding!.code);
        assert.ok(f, `finding ${c.finding.code}`);
        if (c.finding.subject !== undefined) assert.equal(f.subject, c.finding.subject);
        for (const text of c.finding.includes ?? []) assert.ok(f.message.includes(text), `${f.message} has ${text}`);
        assert.ok(!f.message.includes("\n"));
      }
    });
  }

  it("sha-mismatch names both sources and values in expected/actual", () => {
    const obs = github((o) => (o.release!.assets.find((a) => a.name === ARM)!.digest = `sha256:${WRONG}`));
    const f = verdict(run(cleanResults({ github: ok<"github">(obs) })), "github").findings[0]!;
    assert.equal(f.expected, `${SUMS}: ${assetSha("darwin_arm64")}`);
    assert.equal(f.actual, `GitHub asset digest: ${WRONG}`);
  });

  it("in-grace findings carry in_grace and the verdict carries grace_until", () => {
    const obs = github((o) => (o.release!.assets = o.release!.assets.filter((a) => a.name !== LINUX)));
    const v = verdict(run(cleanResults({ github: ok<"github">(obs) }), at(2)), "github");
    assert.equal(v.findings[0]!.in_grace, true);
    assert.equal(v.grace_until, "2026-07-29T02:25:00.000Z");
  });
});
