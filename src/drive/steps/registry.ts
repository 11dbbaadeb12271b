import type { ReleaseStepName } from "../../config/release-schema.ts";
import type { Step } from "../types.ts";
import { buildStep } from "./ci-build/index.ts";
import { contextStep } from "./context/index.ts";
import { gatesStep } from "./gates/index.ts";
import { homebrewStep } from "./homebrew/index.ts";
import { preconditionsStep } from "./preconditions/index.ts";
import { publishStep } from "./publish/index.ts";
import { rehearsalStep } from "./rehearsal/index.ts";
import { tagStep } from "./tag/index.ts";
import { verifyStep } from "./verify/index.ts";

/** One line per step; the order of a run comes from the config (`release.steps`, validated against RELEASE_STEP_NAMES). */
export const STEPS: { readonly [N in ReleaseStepName]: Step } = {
  context: contextStep,
  preconditions: preconditionsStep,
  gates: gatesStep,
  tag: tagStep,
  build: buildStep,
  homebrew: homebrewStep,
  rehearsal: rehearsalStep,
  publish: publishStep,
  verify: verifyStep,
};
