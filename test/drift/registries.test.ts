/** crates.io, npm and PyPI checks: one minimal case per finding, table-driven. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChannelId } from "../../src/channels.ts";
import type { ReleasePlan } from "../../src/plan/types.ts";
import type { ChannelProbeResult } from "../../src/channels/registry.ts";
import {
  asset,
  failed,
  github,
  CRATE_SHA,
  LATER,
  NPM_SHA1,
  NPM_SHA512,
  PYPI_FILES,
  SOON,
  at,
  cleanResults,
  codes,
  crates,
  npm,
  ok,
  plan,
  pypi,
  run,
  sha256,
  verdict,
} from "./builders.ts";

/** Any one channel's probe result. */
type AnyResult = { [C in ChannelId]: ChannelProbeResult<C> }[ChannelId];

interface Case {
  name: string;
  result: AnyResult;
  plan?: (p: ReleasePlan) => void;
  now?: Date;
  expect: string[];
  finding?: { code: string; subject?: string; includes?: string[]; expected?: string; actual?: string };
}

const WRONG = sha256("tampered");

const cratesCases: Case[] = [
  { name: "clean", result: ok<"crates">(crates()), expect: [] },
  {
    name: "version missing (API 404, not in index) inside grace",
    result: ok<"crates">(
      crates((o) => {
        o.api_version = null;
        o.index.entries = o.index.entries.filter((e) => e.vers !== "0.8.0");
      }),
    ),
    now: at(9),
    expect: ["version-missing:pending"],
    finding: { code: "version-missing", subject: "0.8.0", includes: ["plasmite 0.8.0"] },
  },
  {
    name: "version missing after grace",
    result: ok<"crates">(
      crates((o) => {
        o.api_version = null;
        o.index = { found: false, entries: [] };
      }),
    ),
    now: at(10),
    expect: ["version-missing:drift"],
    finding: { code: "version-missing", includes: ["no file for the crate"] },
  },
  {
    name: "API has it, sparse index does not yet",
    result: ok<"crates">(crates((o) => (o.index.entries = o.index.entries.filter((e) => e.vers !== "0.8.0")))),
    plan: (p) => (p.expect_latest = true),
    now: SOON,
    expect: ["version-missing:pending"],
    finding: { code: "version-missing", subject: "sparse index" },
  },
  {
    name: "index has it, API 404: present",
    result: ok<"crates">(crates((o) => (o.api_version = null))),
    expect: [],
  },
  {
    name: "yanked (API, with message)",
    result: ok<"crates">(
      crates((o) => {
        o.api_version = { ...o.api_version!, yanked: true, yank_message: "broken build" };
        o.index.entries[1]!.yanked = true;
      }),
    ),
    expect: ["yanked:drift"],
    finding: { code: "yanked", includes: ["broken build", "API and index"] },
  },
  {
    name: "yanked in the index, not in the API: the index decides, the disagreement is reported with both values",
    result: ok<"crates">(crates((o) => (o.index.entries[1]!.yanked = true))),
    expect: ["yanked:drift", "index-api-disagree:drift"],
    finding: { code: "index-api-disagree", expected: "index: true", actual: "API: false" },
  },
  {
    name: "yanked in the API, not in the index: not yanked (cargo resolves it), the disagreement is a lag",
    result: ok<"crates">(crates((o) => (o.api_version = { ...o.api_version!, yanked: true, yank_message: "x" }))),
    now: SOON,
    expect: ["index-api-disagree:pending"],
    finding: { code: "index-api-disagree", expected: "index: false", actual: "API: true" },
  },
  {
    name: "a cached API document's yank state is not compared",
    result: ok<"crates">(
      crates((o) => {
        o.api_cached = true;
        o.index.entries[1]!.yanked = true;
      }),
    ),
    expect: ["yanked:drift"],
    finding: { code: "yanked", includes: ["(index)"] },
  },
  {
    name: "API answer missing at the deadline: pending with the reason, the index verdict stands",
    result: ok<"crates">(
      crates((o) => {
        o.api_version = null;
        o.api_pending = { reason: "the crates.io API answer did not arrive before the deadline", deadline: true };
      }),
    ),
    expect: ["cross-check-skipped:pending"],
    finding: { code: "cross-check-skipped", includes: ["did not arrive before the deadline", "pending"] },
  },
  {
    name: "API refused: unknown with the reason, never ok",
    result: ok<"crates">(
      crates((o) => {
        o.api_version = null;
        o.api_pending = { reason: "crates.io refused (HTTP 403)", deadline: false };
      }),
    ),
    expect: ["cross-check-skipped:unknown"],
    finding: { code: "cross-check-skipped", includes: ["HTTP 403"] },
  },
  {
    name: "API checksum vs index cksum",
    result: ok<"crates">(crates((o) => (o.index.entries[1]!.cksum = WRONG))),
    expect: ["sha-mismatch:drift"],
    finding: {
      code: "sha-mismatch",
      subject: "plasmite-0.8.0.crate",
      expected: `crates.io API checksum: ${CRATE_SHA}`,
      actual: `sparse index cksum: ${WRONG}`,
    },
  },
  {
    name: "deep: downloaded .crate vs checksum",
    result: ok<"crates">(crates((o) => (o.download = { sha256: WRONG, bytes: 100 }))),
    expect: ["sha-mismatch:drift"],
    finding: { code: "sha-mismatch", actual: `downloaded .crate: ${WRONG}` },
  },
  {
    name: "deep: downloaded .crate matches",
    result: ok<"crates">(crates((o) => (o.download = { sha256: CRATE_SHA.toUpperCase(), bytes: 100 }))),
    expect: [],
  },
  {
    name: "not latest: a newer stable version exists",
    result: ok<"crates">(
      crates((o) => o.index.entries.push({ vers: "0.9.0", cksum: WRONG, yanked: false, pubtime: null })),
    ),
    plan: (p) => (p.expect_latest = true),
    expect: ["version-not-latest:drift"],
    finding: { code: "version-not-latest", actual: "0.9.0" },
  },
  {
    name: "latest ignores yanked, prerelease and build metadata",
    result: ok<"crates">(
      crates((o) => {
        o.index.entries.push({ vers: "0.9.0", cksum: WRONG, yanked: true, pubtime: null });
        o.index.entries.push({ vers: "1.0.0-rc.1", cksum: WRONG, yanked: false, pubtime: null });
        o.index.entries[1]!.vers = "0.8.0+build.7";
      }),
    ),
    plan: (p) => (p.expect_latest = true),
    expect: [],
  },
  {
    name: "latest not checked when expect_latest is false",
    result: ok<"crates">(
      crates((o) => o.index.entries.push({ vers: "0.9.0", cksum: WRONG, yanked: false, pubtime: null })),
    ),
    plan: (p) => (p.expect_latest = false),
    expect: [],
  },
];

const npmCases: Case[] = [
  { name: "clean", result: ok<"npm">(npm()), expect: [] },
  {
    name: "version missing inside grace",
    result: ok<"npm">(
      npm((o) => {
        o.version_doc = null;
        o.versions = ["0.7.2"];
        o.dist_tags = { latest: "0.7.2" };
      }),
    ),
    plan: (p) => (p.expect_latest = true),
    now: at(14),
    expect: ["version-missing:pending"],
    finding: { code: "version-missing", subject: "0.8.0", includes: ["plasmite@0.8.0"] },
  },
  {
    name: "package missing after grace",
    result: ok<"npm">(
      npm((o) => {
        o.packument_found = false;
        o.version_doc = null;
        o.versions = [];
        o.dist_tags = {};
      }),
    ),
    now: at(15),
    expect: ["version-missing:drift"],
    finding: {
      code: "version-missing",
      includes: ["package itself is not found (or not visible with the configured credentials)"],
    },
  },
  {
    name: "stale packument 404 but fresh version doc: present",
    result: ok<"npm">(
      npm((o) => {
        o.packument_found = false;
        o.versions = [];
      }),
    ),
    expect: [],
  },
  {
    name: "deprecated",
    result: ok<"npm">(npm((o) => (o.version_doc!.deprecated = "use 0.8.1"))),
    expect: ["deprecated:drift"],
    finding: { code: "deprecated", actual: "use 0.8.1", includes: ["use 0.8.1"] },
  },
  {
    name: "deprecated with a multi-line message stays one line",
    result: ok<"npm">(npm((o) => (o.version_doc!.deprecated = "broken\r\n  use 0.8.1"))),
    expect: ["deprecated:drift"],
    finding: { code: "deprecated", actual: "broken use 0.8.1", includes: ["is deprecated on npm: broken use 0.8.1"] },
  },
  {
    name: "deprecated (packument map only, the version document came from the packument)",
    result: ok<"npm">(
      npm((o) => {
        o.deprecated = { "0.8.0": "bad" };
        o.version_doc_source = "packument";
      }),
    ),
    expect: ["deprecated:drift"],
  },
  {
    name: "dist-tag latest behind, inside grace",
    result: ok<"npm">(npm((o) => (o.dist_tags = { latest: "0.7.2" }))),
    plan: (p) => (p.expect_latest = true),
    now: SOON,
    expect: ["version-not-latest:pending"],
    finding: { code: "version-not-latest", subject: "latest", expected: "0.8.0", actual: "0.7.2" },
  },
  {
    name: "dist-tag latest ahead",
    result: ok<"npm">(npm((o) => (o.dist_tags = { latest: "0.9.0" }))),
    plan: (p) => (p.expect_latest = true),
    now: SOON,
    expect: ["version-not-latest:drift"],
  },
  {
    name: "integrity absent is info only",
    result: ok<"npm">(npm((o) => (o.version_doc!.integrity = null))),
    expect: ["digest-unavailable:info"],
  },
  {
    name: "deep: tarball sha512 differs from dist.integrity",
    result: ok<"npm">(npm((o) => (o.download = { sha512_base64: "AAAA", sha1_hex: NPM_SHA1, bytes: 1 }))),
    expect: ["sha-mismatch:drift"],
    finding: {
      code: "sha-mismatch",
      expected: `dist.integrity: sha512-${NPM_SHA512}`,
      actual: "downloaded tarball: sha512-AAAA",
    },
  },
  {
    name: "deep: without integrity, sha1 differs from dist.shasum",
    result: ok<"npm">(
      npm((o) => {
        o.version_doc!.integrity = null;
        o.download = { sha512_base64: NPM_SHA512, sha1_hex: "0".repeat(40), bytes: 1 };
      }),
    ),
    expect: ["digest-unavailable:info", "sha-mismatch:drift"],
    finding: { code: "sha-mismatch", expected: `dist.shasum: ${NPM_SHA1}` },
  },
  {
    name: "deep: matching tarball (integrity among several SRI hashes)",
    result: ok<"npm">(
      npm((o) => {
        o.version_doc!.integrity = `sha1-xyz= sha512-${NPM_SHA512}`;
        o.download = { sha512_base64: NPM_SHA512, sha1_hex: NPM_SHA1, bytes: 1 };
      }),
    ),
    expect: [],
  },
];

const pypiCases: Case[] = [
  { name: "clean", result: ok<"pypi">(pypi()), expect: [] },
  {
    name: "version missing inside grace (probe notes carried)",
    result: ok<"pypi">(
      pypi((o) => {
        o.release = null;
        o.notes = ["/pypi/plasmite/0.8.0/json answered 0.8.0.post1"];
      }),
    ),
    now: at(19),
    expect: ["version-missing:pending"],
    finding: { code: "version-missing", includes: ["0.8.0.post1"] },
  },
  {
    name: "project missing after grace",
    result: ok<"pypi">(
      pypi((o) => {
        o.project_found = false;
        o.release = null;
        o.latest_version = null;
      }),
    ),
    now: at(20),
    expect: ["version-missing:drift"],
  },
  {
    name: "release yanked",
    result: ok<"pypi">(
      pypi((o) => {
        o.release!.yanked = true;
        o.release!.yanked_reason = "bad wheel tags";
        for (const f of o.release!.files) f.yanked = true;
      }),
    ),
    plan: (p) => (p.expect_latest = true),
    expect: ["yanked:drift"],
    finding: { code: "yanked", subject: "0.8.0", includes: ["bad wheel tags"] },
  },
  {
    name: "wheel missing inside grace",
    result: ok<"pypi">(
      pypi((o) => (o.release!.files = o.release!.files.filter((f) => f.filename !== PYPI_FILES.darwin_arm64))),
    ),
    now: SOON,
    expect: ["file-missing:pending"],
    finding: { code: "file-missing", subject: "plasmite-0.8.0-*-macosx_*_arm64.whl", includes: ["darwin_arm64"] },
  },
  {
    name: "sdist missing after grace",
    result: ok<"pypi">(
      pypi((o) => (o.release!.files = o.release!.files.filter((f) => f.filename !== PYPI_FILES.sdist))),
    ),
    expect: ["file-missing:drift"],
    finding: { code: "file-missing", subject: "plasmite-0.8.0.tar.gz", includes: ["sdist"] },
  },
  {
    name: "one file yanked",
    result: ok<"pypi">(
      pypi((o) => {
        const f = o.release!.files.find((x) => x.filename === PYPI_FILES.windows_amd64)!;
        f.yanked = true;
        f.yanked_reason = "crashes on import";
      }),
    ),
    expect: ["yanked:drift"],
    finding: { code: "yanked", subject: PYPI_FILES.windows_amd64, includes: ["crashes on import"] },
  },
  {
    name: "deep: downloaded file differs from digests.sha256",
    result: ok<"pypi">(pypi((o) => (o.downloads = { [PYPI_FILES.sdist]: { sha256: WRONG, bytes: 1 } }))),
    expect: ["sha-mismatch:drift"],
    finding: {
      code: "sha-mismatch",
      subject: PYPI_FILES.sdist,
      expected: `PyPI digests.sha256: ${sha256(PYPI_FILES.sdist)}`,
      actual: `downloaded file: ${WRONG}`,
    },
  },
  {
    name: "deep: downloads match",
    result: ok<"pypi">(
      pypi((o) => (o.downloads = { [PYPI_FILES.sdist]: { sha256: sha256(PYPI_FILES.sdist), bytes: 1 } })),
    ),
    expect: [],
  },
  {
    name: "a file without sha256 is info",
    result: ok<"pypi">(pypi((o) => (o.release!.files[0]!.sha256 = null))),
    expect: ["digest-unavailable:info"],
  },
  {
    name: "latest behind after grace",
    result: ok<"pypi">(pypi((o) => (o.latest_version = "0.7.2"))),
    plan: (p) => (p.expect_latest = true),
    expect: ["version-not-latest:drift"],
    finding: { code: "version-not-latest", actual: "0.7.2" },
  },
  {
    name: "latest behind inside grace",
    result: ok<"pypi">(pypi((o) => (o.latest_version = "0.7.2"))),
    plan: (p) => (p.expect_latest = true),
    now: SOON,
    expect: ["version-not-latest:pending"],
  },
];

function table(channel: ChannelId, cases: Case[]): void {
  describe(`drift/${channel}`, () => {
    for (const c of cases) {
      it(c.name, () => {
        const e = run(cleanResults({ [channel]: c.result }), c.now ?? LATER, plan(c.plan));
        assert.deepEqual(codes(e, channel), c.expect);
        const v = verdict(e, channel);
        const severities = v.findings.map((f) => f.severity);
        const want = severities.includes("drift")
          ? "drift"
          : severities.includes("unknown")
            ? "unknown"
            : severities.includes("pending")
              ? "pending"
              : "ok";
        assert.equal(v.status, want);
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
  });
}

table("crates", cratesCases);
table("npm", npmCases);
table("pypi", pypiCases);

describe("drift/pypi: the files attached to the GitHub release", () => {
  const wheel = PYPI_FILES.darwin_arm64;
  const attached = (sha: (name: string) => string | null) =>
    ok<"github">(
      github((o) => {
        for (const [i, name] of Object.values(PYPI_FILES).entries())
          o.release!.assets.push(asset(name, sha(name), 20 + i));
      }),
    );

  it("the same bytes on both: nothing to report (and github does not mind the extra files when assets: [])", () => {
    const p = plan((x) => {
      x.github!.assets = [];
      x.github!.checksum_file = null;
    });
    const e = run(cleanResults({ github: attached(sha256) }), LATER, p);
    assert.deepEqual(codes(e, "pypi"), []);
    assert.deepEqual(codes(e, "github"), []);
  });

  it("one wheel differs: sha-mismatch on pypi, the file as subject, expected GitHub's sha256, actual PyPI's", () => {
    const e = run(cleanResults({ github: attached((n) => (n === wheel ? WRONG : sha256(n))) }));
    assert.deepEqual(codes(e, "pypi"), ["sha-mismatch:drift"]);
    const f = verdict(e, "pypi").findings[0]!;
    assert.equal(f.subject, wheel);
    assert.equal(f.expected, `GitHub release v0.8.0 (GitHub asset digest): ${WRONG}`);
    assert.equal(f.actual, `PyPI digests.sha256: ${sha256(wheel)}`);
    assert.equal(verdict(e, "pypi").status, "drift");
  });

  it("no usable GitHub digest, or GitHub not observed: no comparison", () => {
    assert.deepEqual(codes(run(cleanResults({ github: attached(() => null) })), "pypi"), []);
    assert.deepEqual(codes(run(cleanResults({ github: failed("github") })), "pypi"), []);
  });
});
