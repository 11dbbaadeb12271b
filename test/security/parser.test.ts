import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FORMULA_WORK_BUDGET, MAX_FORMULA_CHARS, parseFormula } from "../../src/channels/homebrew/parse-formula.ts";
import { lexRuby } from "../../src/channels/homebrew/ruby-lexer.ts";
import { WorkBudgetExceeded, WorkMeter } from "../../src/channels/homebrew/work.ts";
import { HOSTILE, plasmite, sized } from "./hostile-formulae.ts";

/**
 * The formula lexer/parser against hostile input: the WORK it does (characters the lexer examines, rescans
 * included, plus tokens the parser visits) is asserted, never wall time. Each shape is generated at a size and
 * at twice that size: linear work doubles, quadratic work quadruples.
 */

/** Work for one parse; never more than the production budget. */
function work(src: string): number {
  const meter = new WorkMeter(FORMULA_WORK_BUDGET);
  parseFormula(src, meter);
  return meter.steps;
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
