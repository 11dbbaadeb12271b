import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { codeSpan, escapeMarkdown, markdownReporter } from "../../src/report/markdown.ts";
import {
  at,
  cleanResults,
  evidence,
  failed,
  github,
  homebrew,
  npm,
  ok,
  report,
  sha256,
  assetName,
  assetSha,
  SUMS,
} from "../drift/builders.ts";

const WRONG = sha256("tampered");

describe("markdown reporter", () => {
  it("clean release: heading, table, no findings", () => {
    const out = markdownReporter.render([report(cleanResults())], { color: true });
    const lines = out.split("\n");
    assert.equal(lines[0], "### plasmite v0.8.0: ✅ ok");
    assert.ok(lines.includes("| Channel | Status | Details |"));
    assert.ok(lines.includes("| --- | --- | --- |"));
    assert.ok(lines.includes("| github | ✅ ok | v0.8.0 latest, 3/3 assets, sums ok |"));
    assert.ok(lines.includes("| homebrew | ✅ ok | formula 0.8.0, 3 urls |"));
    assert.equal(
      lines.filter((l) => l.startsWith("| ") && !l.startsWith("| Channel") && !l.startsWith("| ---")).length,
      5,
    );
    assert.ok(lines.includes("No findings."));
    assert.ok(!out.includes("\u001b"), "markdown never carries ANSI");
  });

  it("drift: findings list with code, subject, expected/actual and evidence links", () => {
    const r = report(
      cleanResults({
        homebrew: ok<"homebrew">(
          homebrew((o) => (o.formula!.artifacts[0]!.sha256 = WRONG)),
          [
            evidence(
              "https://api.github.com/repos/sandover/homebrew-tap/contents/Formula/plasmite.rb?ref=main&access_token=s3cret",
            ),
          ],
        ),
        crates: failed("crates", "E_HTTP_STATUS", "crates.io answered 503"),
      }),
    );
    const out = markdownReporter.render([r], { color: false });
    assert.match(out, /^### plasmite v0\.8\.0: ❌ drift$/m);
    assert.match(out, /^\| homebrew \| ❌ drift \| formula 0\.8\.0, 3 urls, sha256 MISMATCH \|$/m);
    assert.match(out, /^\| crates \| ❓ unknown \| probe failed \(E\\_HTTP\\_STATUS\) \|$/m);
    assert.match(out, /^#### Findings$/m);
    assert.ok(out.includes(`- \`sha-mismatch\` \`${assetName("darwin_arm64")}\`: formula sha256 for darwin\\_arm64`));
    assert.ok(out.includes(`  - expected \`${SUMS}: ${assetSha("darwin_arm64")}\`, actual \`formula: ${WRONG}\``));
    assert.ok(
      out.includes(
        "**homebrew** (❌ drift) · evidence: [GET 200 api.github.com/repos/sandover/homebrew-tap/contents/Formula/plasmite.rb](https://api.github.com/repos/sandover/homebrew-tap/contents/Formula/plasmite.rb)",
      ),
    );
    assert.ok(!out.includes("s3cret") && !out.includes("access_token") && !out.includes("?ref="));
    assert.ok(out.includes("- `probe-failed`: crates.io answered 503 _(unknown)_"));
  });

  it("pending findings say until when", () => {
    const r = report(
      cleanResults({
        npm: ok<"npm">(
          npm((o) => {
            o.version_doc = null;
            o.versions = [];
          }),
        ),
      }),
      at(3),
    );
    const out = markdownReporter.render([r], { color: false });
    assert.match(out, /^### plasmite v0\.8\.0: ⏳ pending$/m);
    assert.ok(out.includes("_(pending, in grace until 02:35Z)_"));
  });

  it("at most three evidence links per channel, failures first, deduplicated", () => {
    const ev = [
      evidence("https://npm-registry.example/plasmite"),
      evidence("https://npm-registry.example/plasmite"),
      evidence("https://npm-registry.example/a"),
      evidence("https://npm-registry.example/b"),
      evidence("https://npm-registry.example/plasmite/0.8.0", 404),
      evidence("https://npm-registry.example/slow", null),
    ];
    const r = report(
      cleanResults({
        npm: ok<"npm">(
          npm((o) => (o.version_doc!.deprecated = "old")),
          ev,
        ),
      }),
    );
    const line = markdownReporter
      .render([r], { color: false })
      .split("\n")
      .find((l) => l.startsWith("**npm**"))!;
    const links = line.match(/\]\(/g) ?? [];
    assert.equal(links.length, 3);
    assert.ok(line.indexOf("GET 404") < line.indexOf("GET no response"));
    assert.ok(line.indexOf("GET no response") < line.indexOf("GET 200"));
  });

  it("escapes | and backticks in table cells", () => {
    const r = report(cleanResults({ github: ok<"github">(github((o) => (o.latest_release_tag = "v1|`x`"))) }));
    const row = markdownReporter
      .render([r], { color: false })
      .split("\n")
      .find((l) => l.startsWith("| github"))!;
    assert.equal(row, "| github | ✅ ok | v0.8.0 not latest (latest v1\\|\\`x\\`), 3/3 assets, sums ok |");
    assert.equal(row.split(/(?<!\\)\|/).length, 5, "still three cells");
  });

  it("escape helpers", () => {
    assert.equal(escapeMarkdown("a|b`c*d_e[f]<g>\nh"), "a\\|b\\`c\\*d\\_e\\[f\\]\\<g\\> h");
    assert.equal(codeSpan("plain"), "`plain`");
    assert.equal(codeSpan("a`b"), "``a`b``");
    assert.equal(codeSpan("`edge`"), "`` `edge` ``");
  });

  it("several reports, one section each", () => {
    const out = markdownReporter.render([report(cleanResults()), report(cleanResults())], { color: false });
    assert.equal(out.match(/^### /gm)?.length, 2);
  });
});
