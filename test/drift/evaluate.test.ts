import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CHANNELS } from "../../src/channels.ts";
import { evaluate, statusOf } from "../../src/verify/evaluate.ts";
import { FINDING_CODES, worstStatus, type Finding, type Status } from "../../src/drift/types.ts";
import {
  LATER,
  SOON,
  at,
  cleanResults,
  codes,
  crates,
  failed,
  github,
  githubUnreleased,
  npm,
  ok,
  plan,
  run,
  verdict,
} from "./builders.ts";

const npmMissing = () =>
  ok<"npm">(
    npm((o) => {
      o.version_doc = null;
      o.versions = ["0.7.2"];
      o.dist_tags = { latest: "0.7.2" };
    }),
  );

describe("evaluate: generic rules", () => {
  it("a clean release is ok on every channel, in CHANNELS order", () => {
    const e = run(cleanResults());
    assert.equal(e.status, "ok");
    assert.deepEqual(
      e.channels.map((c) => c.channel),
      [...CHANNELS],
    );
    assert.ok(e.channels.every((c) => c.status === "ok" && c.findings.length === 0));
    assert.equal(e.published_at, "2026-07-29T02:20:00Z");
  });

  it("channels not in the plan or not in the results are skipped", () => {
    const p = plan((x) => (x.pypi = null));
    const results = cleanResults();
    delete results.crates;
    const e = run(results, LATER, p);
    assert.equal(verdict(e, "pypi").status, "skipped");
    assert.equal(verdict(e, "crates").status, "skipped");
    assert.deepEqual(verdict(e, "crates").findings, []);
    assert.equal(e.status, "ok");
  });

  it("a probe error makes the channel unknown with probe-failed, never ok or drift", () => {
    const e = run(cleanResults({ crates: failed("crates", "E_HTTP_STATUS", "crates.io answered 503") }));
    const v = verdict(e, "crates");
    assert.equal(v.status, "unknown");
    assert.deepEqual(v.findings, [
      { code: "probe-failed", severity: "unknown", message: "crates.io answered 503", actual: "E_HTTP_STATUS" },
    ]);
    assert.equal(e.status, "unknown");
  });

  it("drift elsewhere outranks an unknown channel", () => {
    const e = run(cleanResults({ crates: failed("crates"), npm: npmMissing() }));
    assert.equal(verdict(e, "crates").status, "unknown");
    assert.equal(verdict(e, "npm").status, "drift");
    assert.equal(e.status, "drift");
  });

  describe("grace", () => {
    const table: { now: Date; severity: Finding["severity"]; status: Status; grace: boolean }[] = [
      { now: SOON, severity: "pending", status: "pending", grace: true },
      { now: at(14.99), severity: "pending", status: "pending", grace: true },
      { now: at(15), severity: "drift", status: "drift", grace: false },
      { now: LATER, severity: "drift", status: "drift", grace: false },
    ];
    for (const t of table) {
      it(`npm version-missing at ${t.now.toISOString()} -> ${t.status}`, () => {
        const v = verdict(run(cleanResults({ npm: npmMissing() }), t.now), "npm");
        assert.equal(v.status, t.status);
        assert.equal(v.findings[0]!.severity, t.severity);
        assert.equal(v.findings[0]!.in_grace, t.grace ? true : undefined);
        assert.equal(v.grace_until, t.grace ? "2026-07-29T02:35:00.000Z" : undefined);
      });
    }

    it("each channel uses its own grace window", () => {
      const e = run(
        cleanResults({
          crates: ok<"crates">(
            crates((o) => {
              o.api_version = null;
              o.index.entries = [];
            }),
          ),
          npm: npmMissing(),
        }),
        at(12),
      );
      assert.equal(verdict(e, "crates").status, "drift");
      assert.equal(verdict(e, "npm").status, "pending");
      assert.equal(e.status, "drift");
    });

    it("no published release: propagation findings are drift at once", () => {
      const e = run(cleanResults({ github: ok<"github">(githubUnreleased()), npm: npmMissing() }), SOON);
      assert.equal(e.published_at, null);
      assert.deepEqual(codes(e, "npm"), ["version-missing:drift"]);
      assert.equal(verdict(e, "npm").grace_until, undefined);
    });

    it("a draft release (published_at null): windows count from its created_at", () => {
      const draft = (created: Date | null) =>
        github((o) => {
          o.release!.draft = true;
          o.release!.published_at = null;
          o.release!.created_at = created === null ? null : created.toISOString();
        });
      const fresh = run(cleanResults({ github: ok<"github">(draft(at(0))), npm: npmMissing() }), SOON);
      assert.deepEqual(codes(fresh, "npm"), ["version-missing:pending"]);
      const old = run(cleanResults({ github: ok<"github">(draft(at(0))), npm: npmMissing() }), LATER);
      assert.deepEqual(codes(old, "npm"), ["version-missing:drift"]);
      const noTime = run(cleanResults({ github: ok<"github">(draft(null)), npm: npmMissing() }), SOON);
      assert.deepEqual(codes(noTime, "npm"), ["version-missing:drift"]);
    });

    it("GitHub not part of the run: no grace reference, drift", () => {
      const results = cleanResults({ npm: npmMissing() });
      delete results.github;
      const e = run(results, SOON);
      assert.deepEqual(codes(e, "npm"), ["version-missing:drift"]);
    });

    it("GitHub probe failed: lag cannot be told from drift, so unknown", () => {
      const e = run(cleanResults({ github: failed("github"), npm: npmMissing() }), SOON);
      assert.deepEqual(codes(e, "npm"), ["version-missing:unknown"]);
      assert.equal(verdict(e, "npm").status, "unknown");
      assert.match(verdict(e, "npm").findings[0]!.message, /cannot tell/);
      assert.equal(e.status, "unknown");
    });

    it("content findings are drift even inside grace", () => {
      const e = run(cleanResults({ npm: ok<"npm">(npm((o) => (o.version_doc!.deprecated = "no"))) }), SOON);
      assert.deepEqual(codes(e, "npm"), ["deprecated:drift"]);
    });
  });

  describe("expect_latest", () => {
    const behind = ok<"npm">(npm((o) => (o.dist_tags = { latest: "0.7.2" })));
    const table: {
      name: string;
      expect: boolean | "auto";
      ghLatest: string | null;
      ghFailed?: boolean;
      want: boolean;
    }[] = [
      { name: "auto, GitHub latest is this tag", expect: "auto", ghLatest: "v0.8.0", want: true },
      { name: "auto, GitHub latest is another tag", expect: "auto", ghLatest: "v0.9.0", want: false },
      { name: "auto, GitHub has no latest", expect: "auto", ghLatest: null, want: false },
      { name: "auto, GitHub failed", expect: "auto", ghLatest: "v0.8.0", ghFailed: true, want: false },
      { name: "forced true", expect: true, ghLatest: "v0.9.0", want: true },
      { name: "forced false", expect: false, ghLatest: "v0.8.0", want: false },
    ];
    for (const t of table) {
      it(t.name, () => {
        const gh = t.ghFailed ? failed("github") : ok<"github">(github((o) => (o.latest_release_tag = t.ghLatest)));
        const p = plan((x) => (x.expect_latest = t.expect));
        const e = run(cleanResults({ github: gh, npm: behind }), LATER, p);
        assert.equal(e.expect_latest, t.want);
        const npmCodes = codes(e, "npm");
        assert.equal(
          npmCodes.some((c) => c.startsWith("version-not-latest")),
          t.want,
        );
      });
    }
  });

  it("info findings never change the status", () => {
    const e = run(cleanResults({ npm: ok<"npm">(npm((o) => (o.version_doc!.integrity = null))) }));
    assert.deepEqual(codes(e, "npm"), ["digest-unavailable:info"]);
    assert.equal(verdict(e, "npm").status, "ok");
  });

  it("is deterministic and does not mutate its input", () => {
    const results = cleanResults({ npm: npmMissing(), github: failed("github") });
    const p = plan();
    const before = structuredClone({ results, p });
    const a = evaluate({ plan: p, results, now: SOON });
    const b = evaluate({ plan: p, results, now: SOON });
    assert.deepEqual(a, b);
    assert.deepEqual({ results, p }, before);
  });

  it("only produces known finding codes with one-line messages", () => {
    const e = run(
      cleanResults({ github: ok<"github">(githubUnreleased()), npm: npmMissing(), crates: failed("crates") }),
    );
    for (const v of e.channels) {
      for (const f of v.findings) {
        assert.ok((FINDING_CODES as readonly string[]).includes(f.code), f.code);
        assert.ok(!/[\r\n]/.test(f.message));
        assert.ok(!("lag" in f), "internal marker leaked");
      }
    }
  });
});

describe("status aggregation", () => {
  const table: [Status[], Status][] = [
    [[], "skipped"],
    [["skipped", "skipped"], "skipped"],
    [["ok", "skipped"], "ok"],
    [["ok", "pending", "skipped"], "pending"],
    [["pending", "unknown"], "unknown"],
    [["unknown", "drift", "ok"], "drift"],
    [["skipped", "drift"], "drift"],
  ];
  for (const [input, want] of table) {
    it(`worstStatus(${JSON.stringify(input)}) = ${want}`, () => assert.equal(worstStatus(input), want));
  }

  const f = (severity: Finding["severity"]): Finding => ({ code: "yanked", severity, message: "m" });
  const channelTable: [Finding["severity"][], Status][] = [
    [[], "ok"],
    [["info"], "ok"],
    [["pending", "info"], "pending"],
    [["pending", "unknown"], "unknown"],
    [["unknown", "drift", "pending"], "drift"],
  ];
  for (const [severities, want] of channelTable) {
    it(`statusOf(${JSON.stringify(severities)}) = ${want}`, () => assert.equal(statusOf(severities.map(f)), want));
  }
});
