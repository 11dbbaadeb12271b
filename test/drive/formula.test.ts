import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { formulaProblems, formulaVersion, updateFormula, type FormulaTarget } from "../../src/drive/formula.ts";

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/homebrew/${name}`, import.meta.url), "utf8");
const REAL_080 = fixture("sandover-tap_plasmite_0.8.0_handwritten.rb");
const TEMPLATE_010 = fixture("sandover-plasmite-repo_homebrew-template_0.1.0_placeholder-sha.rb");

const sha = (c: string): string => c.repeat(64);
const url = (v: string, p: string): string =>
  `https://github.com/sandover/plasmite/releases/download/v${v}/plasmite_${v}_${p}.tar.gz`;
const target = (v: string, platforms: Record<string, string>): FormulaTarget => ({
  version: v,
  tag: `v${v}`,
  artifacts: Object.entries(platforms).map(([platform, sha256]) => ({ platform, url: url(v, platform), sha256 })),
});
const THREE = { darwin_arm64: sha("a"), darwin_amd64: sha("b"), linux_amd64: sha("c") };

describe("drive/formula: update_homebrew_formula.sh rules", () => {
  const cases: { name: string; text: string; t: FormulaTarget; from: string; changedLines: number }[] = [
    {
      name: "the real 0.8.0 tap formula to 0.9.0",
      text: REAL_080,
      t: target("0.9.0", THREE),
      from: "0.8.0",
      changedLines: 7,
    },
    { name: "a 1.0.0 major bump", text: REAL_080, t: target("1.0.0", THREE), from: "0.8.0", changedLines: 7 },
    {
      name: "the stale 0.1.0 template with PLACEHOLDER_LINUX_ARM64_SHA256 and four platforms",
      text: TEMPLATE_010,
      t: target("0.9.0", { ...THREE, linux_arm64: sha("d") }),
      from: "0.1.0",
      changedLines: 9,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.ok(formulaProblems(c.text, c.t).length > 0, "not aligned before");
      const out = updateFormula(c.text, c.t);
      assert.equal(out.from, c.from);
      assert.deepEqual(formulaProblems(out.text, c.t), []);
      assert.equal(formulaVersion(out.text), c.t.version);
      for (const a of c.t.artifacts) {
        assert.ok(out.text.includes(`url "${a.url}"\n`), a.url);
        assert.match(out.text, new RegExp(`url "${a.url.replace(/[.?]/g, "\\$&")}"\\n\\s*sha256 "${a.sha256}"`));
      }
      assert.ok(!out.text.includes("PLACEHOLDER_"));
      const before = c.text.split("\n");
      const after = out.text.split("\n");
      assert.equal(after.length, before.length, "no lines added or removed");
      assert.equal(
        after.filter((l, i) => l !== before[i]).length,
        c.changedLines,
        "only version, url and sha256 lines change",
      );
      assert.equal(updateFormula(out.text, c.t).text, out.text, "idempotent");
    });
  }

  it("reports what keeps a formula from being aligned", () => {
    const t = target("0.9.0", THREE);
    const aligned = updateFormula(REAL_080, t).text;
    const wrongSha = aligned.replace(sha("b"), sha("e"));
    assert.deepEqual(formulaProblems(wrongSha, t), [`darwin_amd64: sha256 ${sha("e")}, expected ${sha("b")}`]);
    const extra = target("0.9.0", { ...THREE, linux_arm64: sha("d") });
    assert.deepEqual(formulaProblems(aligned, extra), [`linux_arm64: no url ${url("0.9.0", "linux_arm64")}`]);
    assert.deepEqual(formulaProblems(aligned, target("0.9.1", THREE)).slice(0, 1), [
      "version is 0.9.0, expected 0.9.1",
    ]);
    assert.ok(
      formulaProblems(aligned.replace(sha("c"), "PLACEHOLDER_LINUX_AMD64_SHA256"), t).includes(
        "a PLACEHOLDER sha256 remains",
      ),
    );
  });
});
