/**
 * Counts the work the formula lexer and parser do: every character the lexer examines (rescans included) and
 * every token the parser visits. Tests assert on it instead of wall time; the probe gives it a limit, so a
 * formula that would cost more than the budget stops with a clear error instead of stalling the process.
 */
export class WorkBudgetExceeded extends Error {
  readonly code = "E_FORMULA_BUDGET";
  readonly limit: number;
  constructor(limit: number) {
    super(`formula parse exceeded its work budget of ${limit} steps`);
    this.limit = limit;
    this.name = "WorkBudgetExceeded";
  }
}

export class WorkMeter {
  steps = 0;
  readonly limit: number;
  constructor(limit: number = Number.POSITIVE_INFINITY) {
    this.limit = limit;
  }

  spend(n: number): void {
    this.steps += n;
    if (this.steps > this.limit) throw new WorkBudgetExceeded(this.limit);
  }
}
