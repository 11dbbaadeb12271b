import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { FORMULA_WORK_BUDGET, MAX_FORMULA_CHARS, parseFormula } from "../../src/probes/homebrew/parse-formula.ts";
import { lexRuby } from "../../src/probes/homebrew/ruby-lexer.ts";
import { WorkBudgetExceeded, WorkMeter } from "../../src/probes/homebrew/work.ts";

/**
 * The formula lexer/parser against hostile input: the WORK it does (characters the lexer examines, rescans
 * included, plus tokens the parser visits) is asserted, never wall time. Each shape is generated at a size and
 * at twice that size: linear work doubles, quadratic work quadruples.
 */

const FIXTURES = new URL("../fixtures/homebrew/", import.meta.url);
const plasmite = readFileSync(new URL("sandover-tap_plasmite_0.8.0_handwritten.rb", FIXTURES), "utf8");
const hex = (c: string): string => c.repeat(64);

/** Hostile shapes, each a function of a repeat count `k`. */
export const HOSTILE: Record<string, (k: number) => string> = {
  // Each `\/` after an unterminated `/` used to rescan the rest of the line.
  "escaped slashes in an unterminated regex": (k) => `x = /${"\\/".repeat(k)}\n`,
  "escaped slashes inside an unterminated regex class": (k) => `x = /[${"\\/".repeat(k)}\n`,
  "regex openers after a division": (k) => `a = b ${"/ x ".repeat(k)}\n`,
  "empty quoted heredoc ids on one line": (k) => `x ${'<<"" '.repeat(k)}\n`,
  "quoted heredoc opener per line": (k) => 'x <<"\n'.repeat(k),
  "heredoc body line of spaces": (k) => `x = <<EOS\n${" ".repeat(k * 4)}x\nEOS\n`,
  "nested parentheses in a condition": (k) =>
    `class A < Formula\nif ${"(".repeat(k)}OS.mac?${")".repeat(k)}\nurl "u"\nsha256 "${hex("a")}"\nend\nend\n`,
  "nested conjunctions in a condition": (k) => `if ${"(OS.mac? && ".repeat(k)}x${")".repeat(k)}\nend\n`,
  "stray when after unpaired urls": (k) => `${'url "https://e.x/a"\n'.repeat(Math.ceil(k / 8))}${"when\n".repeat(k)}`,
  "stray else after unpaired shas": (k) => `${`sha256 "${hex("b")}"\n`.repeat(Math.ceil(k / 32))}${"else\n".repeat(k)}`,
  "version interpolations": (k) =>
    `class A < Formula\nversion "${"1.".repeat(k)}1"\nurl "${"#{version.major}".repeat(k)}"\nsha256 "${hex("c")}"\nend\n`,
  "deep do blocks": (k) => "on_macos do\n".repeat(k),
  "unclosed interpolation nesting": (k) => `url "${'#{"'.repeat(k)}`,
  "open parens": (k) => `url (${"(".repeat(k)}`,
  "comment lines": (k) => "# x\n".repeat(k),
  "real formula repeated": (k) => plasmite.repeat(Math.max(1, Math.floor(k / 200))),
};

/** Work for one parse; never more than the production budget. */
function work(src: string): number {
  const meter = new WorkMeter(FORMULA_WORK_BUDGET);
  parseFormula(src, meter);
  return meter.steps;
}

/** The repeat count whose input is about `chars` long. */
function sized(shape: (k: number) => string, chars: number): number {
  const per = Math.max(1, shape(1000).length / 1000);
  return Math.max(1, Math.floor(chars / per));
}

describe("formula parser: work is linear in the input", () => {
  for (const [name, shape] of Object.entries(HOSTILE)) {
    it(`${name}: doubling the input doubles the work`, () => {
      const k = sized(shape, 60_000);
      const small = shape(k);
      const large = shape(2 * k);
      const ratio = work(large) / work(small);
      assert.ok(
        ratio >= 1.8 && ratio <= 2.25,
        `work ratio ${ratio.toFixed(2)} for ${small.length} -> ${large.length} characters`,
      );
    });
  }

  it("every hostile shape at the 1 MiB cap stays within 32 steps per character (the budget allows 64)", () => {
    for (const [name, shape] of Object.entries(HOSTILE)) {
      const src = shape(sized(shape, MAX_FORMULA_CHARS - 4_096));
      const meter = new WorkMeter();
      parseFormula(src, meter);
      const perChar = meter.steps / src.length;
      assert.ok(perChar <= 32, `${name}: ${perChar.toFixed(1)} steps per character`);
    }
  });
});

describe("formula parser: the work budget", () => {
  it("a parse that exceeds its budget throws WorkBudgetExceeded (the probe reports it as unknown)", () => {
    assert.throws(
      () => parseFormula(plasmite, new WorkMeter(100)),
      (err: unknown) => err instanceof WorkBudgetExceeded && /work budget of 100 steps/.test(err.message),
    );
  });

  it("the lexer keeps its regex literals: a `/…/` after an unterminated one on the same line is still a regex", () => {
    // The first `/` has no closer (its `[` opens a class to the end of the line); the one after `if` does.
    const { tokens } = lexRuby(`x = /"[" if /y/ && z\n`);
    assert.deepEqual(
      tokens.filter((t) => t.kind === "literal").map((t) => t.text),
      ["/y/"],
    );
    const escaped = lexRuby(`x = /\\/ if /Y/\n`).tokens.filter((t) => t.kind === "literal");
    assert.deepEqual(
      escaped.map((t) => t.text),
      ["/\\/ if /"],
    );
  });
});
