import type { Report } from "../report/types.ts";
import type { Silence } from "./store.ts";

/**
 * Silences that `monitor release --skip-channel … --allow-partial` records for the channels a maintainer bypassed.
 * They mute that channel like any silence until it expires, or until the channel catches up: a report of a release
 * published after the silence was recorded shows the channel ok.
 */
export const BYPASS_REASON_PREFIX = "bypassed by maintainer: ";

/** Pure: ids of this project's bypass silences whose channel has caught up in `report`. */
export function caughtUpBypasses(silences: readonly Silence[], report: Report): number[] {
  const published = report.published_at ? Date.parse(report.published_at) : Number.NaN;
  if (!Number.isFinite(published)) return [];
  return silences
    .filter(
      (s) =>
        s.project === report.project &&
        s.channel !== null &&
        (s.reason ?? "").startsWith(BYPASS_REASON_PREFIX) &&
        published >= Date.parse(s.created_at) &&
        report.channels.some((c) => c.channel === s.channel && c.status === "ok"),
    )
    .map((s) => s.id);
}
