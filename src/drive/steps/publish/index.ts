import { makePublishStep } from "../../publish-run.ts";

/** Publish: release-publish with rehearsal=false (crates.io, npm, PyPI, then the GitHub Release). Irreversible. */
export const publishStep = makePublishStep("publish");
