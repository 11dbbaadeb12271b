import type { ReleaseStepName } from "../config/release-schema.ts";
import { StepFailure, type DrivePath, type Step, type StepContext } from "./types.ts";

/**
 * How the runbook path changes the steps. A publish-only rerun (`--build-run-id`, release-hygiene.md step 7) skips
 * gates, tag and rehearsal (nothing is re-tagged or rebuilt; the build step validates the given run instead of
 * finding one) and only verifies the tap: it never rewrites it. Normal and bypass runs use every step as is.
 */

const PUBLISH_ONLY_SKIPS: Partial<Record<ReleaseStepName, string>> = {
  gates: "publish-only rerun: the QA gates passed before the tag was pushed; not re-run",
  tag: "publish-only rerun: the tag is already pushed; never re-tagged (the build step checks it is on the remote)",
  rehearsal:
    "publish-only rerun: the publish of this build is rerun directly (SKILL.md: build_run_id for incident recovery)",
};

export function pathFor(buildRunId: number | null, bypass: boolean): DrivePath {
  if (buildRunId !== null) return "publish-only";
  return bypass ? "bypass" : "normal";
}

export function stepForPath(path: DrivePath, step: Step): Step {
  if (path !== "publish-only") return step;
  const skip = PUBLISH_ONLY_SKIPS[step.name];
  if (skip) {
    return {
      ...step,
      check: () => Promise.resolve({ done: false, detail: skip }),
      run: () => Promise.resolve({ status: "skipped", detail: skip }),
    };
  }
  if (step.name === "homebrew") return { ...step, run: (ctx) => refuseUnalignedTap(ctx) };
  return step;
}

/** Publish-only: the tap must already be aligned (check() said it is not); the rerun does not rewrite it. */
function refuseUnalignedTap(ctx: StepContext): Promise<never> {
  const id = ctx.buildRunId ?? "<build-run-id>";
  return Promise.reject(
    new StepFailure({
      title: `tap not aligned with ${ctx.tag}`,
      summary: `publish-only rerun from build run ${id}: the tap formula is not aligned with ${ctx.version}; release-publish's sync-homebrew-tap would fail`,
      details: [
        `align the tap first: scripts/update_homebrew_formula.sh ${ctx.tag} ../homebrew-tap --build-run-id ${id}, commit and push it`,
      ],
      recovery: [ctx.command("--mode live --resume")],
      alternative: `bash scripts/update_homebrew_formula.sh ${ctx.tag} ../homebrew-tap --build-run-id ${id}`,
    }),
  );
}
