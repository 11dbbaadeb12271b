import { makePublishStep } from "../../publish-run.ts";

/** Rehearsal: release-publish with rehearsal=true (full preflight, provenance and tap checks, no registry writes). */
export const rehearsalStep = makePublishStep("rehearsal");
