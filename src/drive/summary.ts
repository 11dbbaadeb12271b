import type { DriveFacts, Step, StepSummary } from "./types.ts";

/**
 * The release summary as the steps expose it: every registered step's `summary(facts)`, merged (`runs` by key).
 * Every step of the registry speaks, configured or not: a resumed checkpoint may carry facts of any of them.
 */
export function releaseSummary(facts: DriveFacts, steps: readonly Step[]): StepSummary {
  const out: StepSummary = {};
  for (const step of steps) {
    const { runs, ...rest } = step.summary?.(facts) ?? {};
    Object.assign(out, rest);
    if (runs) out.runs = { ...out.runs, ...runs };
  }
  return out;
}
