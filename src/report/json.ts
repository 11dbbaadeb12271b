import type { Reporter } from "./types.ts";

/** report@1 as JSON: one object for one report, an array otherwise. */
export const jsonReporter: Reporter = {
  id: "json",
  render(reports) {
    return JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2);
  },
};
