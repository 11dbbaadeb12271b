import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stripVTControlCharacters as stripAnsi } from "node:util";
import { channelSummary, shortTime, textReporter } from "../../src/report/text.ts";
import type { Report } from "../../src/report/types.ts";
import {
  at,
  cleanResults,
  crates,
  failed,
  github,
  githubUnreleased,
  homebrew,
  npm,
  ok,
  pypi,
  report,
  asset,
  sha256,
  PYPI_FILES,
} from "../drift/builders.ts";

const ESC = "\u001b";

const clean = (): Report => report(cleanResults());
const messy = (): Report =>
  report(
    cleanResults({
      crates: failed("crates", "E_HTTP_TIMEOUT", "crates.io timed out"),
      npm: ok<"npm">(
        npm((o) => {
          o.version_doc = null;
          o.versions = [];
        }),
      ),
      homebrew: ok<"homebrew">(homebrew((o) => (o.formula!.artifacts[0]!.sha256 = sha256("other")))),
    }),
    at(3),
  );

describe("text reporter", () => {
  it("clean release: header and one aligned row per channel", () => {
    const out = textReporter.render([clean()], { color: false });
    assert.equal(
      out,
      [
        "plasmite v0.8.0  OK  (checked 2026-07-29T04:20:00Z)",
        "  github    OK       v0.8.0 latest, 3/3 assets, sums ok",
        "  crates    OK       0.8.0 latest",
        "  npm       OK       0.8.0 latest",
        "  pypi      OK       0.8.0 latest, 4 files",
        "  homebrew  OK       formula 0.8.0, 3 urls",
      ].join("\n"),
    );
  });

  it("drift: labels, summaries and indented findings; colour off has no ESC", () => {
    const out = textReporter.render([messy()], { color: false });
    assert.ok(!out.includes(ESC));
    const lines = out.split("\n");
    assert.equal(lines[0], "plasmite v0.8.0  DRIFT  (checked 2026-07-29T02:23:00Z)");
    assert.ok(lines.includes("  crates    UNKNOWN  probe failed (E_HTTP_TIMEOUT)"));
    assert.ok(lines.includes("                     probe-failed  crates.io timed out"));
    assert.ok(lines.includes("  npm       PENDING  missing 0.8.0 (grace until 02:35Z)"));
    assert.ok(lines.some((l) => /^ {21}version-missing {2}npm has no plasmite@0\.8\.0.*\(in grace\)$/.test(l)));
    assert.ok(lines.includes("  homebrew  DRIFT    formula 0.8.0, 3 urls, sha256 MISMATCH"));
    assert.ok(lines.some((l) => /^ {21}sha-mismatch {2}formula sha256 for darwin_arm64/.test(l)));
  });

  it("summary column is aligned on every channel row", () => {
    const out = textReporter.render([messy()], { color: false });
    const rows = out.split("\n").filter((l) => /^ {2}(github|crates|npm|pypi|homebrew) /.test(l));
    assert.equal(rows.length, 5);
    for (const row of rows) assert.match(row.slice(0, 21), /^ {2}\S+ +\S+ +$/);
    for (const row of rows) assert.notEqual(row[21], " ");
  });

  it("colour on: ESC codes per status, labels still present, same text once stripped", () => {
    const r = messy();
    const colored = textReporter.render([r], { color: true });
    assert.ok(colored.includes(ESC));
    assert.ok(colored.includes(`${ESC}[31mDRIFT${ESC}[0m`));
    assert.ok(colored.includes(`${ESC}[33mPENDING${ESC}[0m`));
    assert.ok(colored.includes(`${ESC}[35mUNKNOWN${ESC}[0m`));
    assert.ok(colored.includes(`${ESC}[32mOK${ESC}[0m`));
    assert.equal(stripAnsi(colored), textReporter.render([r], { color: false }));
  });

  it("skipped channels are grey and say so", () => {
    const results = cleanResults();
    delete results.pypi;
    const r = report(results);
    assert.ok(textReporter.render([r], { color: false }).includes("  pypi      SKIPPED  not checked"));
    assert.ok(textReporter.render([r], { color: true }).includes(`${ESC}[90mSKIPPED${ESC}[0m`));
  });

  it("upstream text cannot inject escapes or line breaks", () => {
    const r = report(
      cleanResults({ npm: ok<"npm">(npm((o) => (o.version_doc!.deprecated = "evil\u001b[2J\nsecond line"))) }),
    );
    const out = textReporter.render([r], { color: false });
    assert.ok(!out.includes(ESC));
    assert.ok(out.split("\n").some((l) => l.endsWith("evil[2J second line")));
  });

  it("several reports are separated by a blank line", () => {
    const out = textReporter.render([clean(), messy()], { color: false });
    assert.equal(out.split("\n\n").length, 2);
    assert.match(out.split("\n\n")[1]!, /^plasmite v0\.8\.0 {2}DRIFT/);
  });
});

describe("channel summaries", () => {
  const table: { name: string; r: () => Report; channel: string; want: string }[] = [
    {
      name: "github without a release",
      r: () => report(cleanResults({ github: ok<"github">(githubUnreleased((o) => (o.tag.exists = false))) })),
      channel: "github",
      want: "no release for v0.8.0, tag missing",
    },
    {
      name: "github missing and unexpected assets, sums mismatch",
      r: () =>
        report(
          cleanResults({
            github: ok<"github">(
              github((o) => {
                o.release!.assets.splice(0, 1);
                o.release!.assets.push(asset("stray.zip", null, 8));
                o.release!.assets[0]!.digest = `sha256:${sha256("x")}`;
                o.latest_release_tag = "v0.9.0";
              }),
            ),
          }),
        ),
      channel: "github",
      want: "v0.8.0 not latest (latest v0.9.0), 2/3 assets +1 unexpected, sha256 MISMATCH",
    },
    {
      name: "crates yanked, index latest elsewhere",
      r: () =>
        report(
          cleanResults({
            crates: ok<"crates">(
              crates((o) => {
                o.index.entries[1]!.yanked = true;
              }),
            ),
          }),
        ),
      channel: "crates",
      want: "0.8.0 YANKED, latest 0.7.2",
    },
    {
      name: "npm behind on latest",
      r: () => report(cleanResults({ npm: ok<"npm">(npm((o) => (o.dist_tags = { latest: "0.7.2" }))) })),
      channel: "npm",
      want: "0.8.0, latest 0.7.2",
    },
    {
      name: "pypi with a missing wheel, in grace",
      r: () =>
        report(
          cleanResults({
            pypi: ok<"pypi">(
              pypi((o) => (o.release!.files = o.release!.files.filter((f) => f.filename !== PYPI_FILES.darwin_arm64))),
            ),
          }),
          at(2),
        ),
      channel: "pypi",
      want: "0.8.0 latest, 3 files, 1 missing (grace until 02:40Z)",
    },
    {
      name: "homebrew ahead of GitHub",
      r: () => report(cleanResults({ github: ok<"github">(githubUnreleased()) })),
      channel: "homebrew",
      want: "formula 0.8.0, 3 urls, ahead of GitHub release",
    },
    {
      name: "homebrew formula missing",
      r: () =>
        report(
          cleanResults({
            homebrew: ok<"homebrew">(
              homebrew((o) => {
                o.found = false;
                o.formula = null;
              }),
            ),
          }),
        ),
      channel: "homebrew",
      want: "formula not found",
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const r = t.r();
      const ch = r.channels.find((c) => c.channel === t.channel)!;
      assert.equal(channelSummary(r, ch), t.want);
    });
  }

  it("tolerates an observed object from another version", () => {
    const r = clean();
    const ch = { ...r.channels[0]!, observed: { release: "weird", assets: 3 } };
    assert.equal(channelSummary(r, ch), "no release for v0.8.0");
  });

  it("shortTime adds the date when the grace ends on another day", () => {
    assert.equal(shortTime("2026-07-29T02:35:00.000Z", "2026-07-29T02:23:00Z"), "02:35Z");
    assert.equal(shortTime("2026-07-30T00:05:00.000Z", "2026-07-29T23:50:00Z"), "2026-07-30 00:05Z");
  });
});
