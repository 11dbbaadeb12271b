import { AppError } from "../../errors.ts";
import { readRepoFile } from "../../http/github-contents.ts";
import type { PlanWith, Probe, ProbeContext } from "../../probes/types.ts";
import type { HomebrewObservation, HomebrewPlan } from "./types.ts";
import { parseFormulaOffThread } from "./parse-off-thread.ts";
import { WorkBudgetExceeded } from "./work.ts";

/** Formulae and casks are a few KiB; the contents API itself stops at 1 MB for JSON. */
export const FORMULA_MAX_BYTES = 1024 * 1024;

/**
 * Homebrew tap: reads the formula (or cask) file from the tap repository at the configured ref through the
 * GitHub contents API (raw media type) and parses it statically. A missing file or ref (404) is `found: false`;
 * anything else we cannot read throws. Contract: registry-contracts.md §1.6 (contents) and §5.
 */
export const homebrewProbe: Probe<"homebrew", HomebrewPlan, HomebrewObservation> = {
  channel: "homebrew",
  async observe(plan: PlanWith<"homebrew", HomebrewPlan>, ctx: ProbeContext): Promise<HomebrewObservation> {
    const hb = plan.homebrew;
    if (!hb) throw new AppError("E_PROBE_FAILED", `project ${plan.project} has no homebrew channel`);
    const tap = `${hb.tap_owner}/${hb.tap_repo}`;
    const text = await readRepoFile(ctx.octokit, {
      owner: hb.tap_owner,
      repo: hb.tap_repo,
      path: hb.path,
      ref: hb.ref,
      signal: ctx.signal,
      maxBytes: FORMULA_MAX_BYTES,
    });
    const base = { channel: "homebrew", tap, path: hb.path, ref: hb.ref } as const;
    if (text === null) return { ...base, found: false, formula: null };
    const formula = await parseFormulaOffThread(text, ctx.signal).catch((err: unknown) => {
      if (!(err instanceof WorkBudgetExceeded)) throw err;
      // Could not tell: the formula is too costly to read, which says nothing about the release.
      throw new AppError(
        "E_PROBE_FAILED",
        `formula ${tap}:${hb.path}@${hb.ref} is too complex to read (more than ${err.limit} parser steps)`,
        { cause: err },
      );
    });
    if (formula.warnings.length > 0)
      ctx.log.debug({ path: hb.path, warnings: formula.warnings }, "formula parse warnings");
    return { ...base, found: true, formula };
  },
};
