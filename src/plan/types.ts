import type { ChannelId, PlanOf } from "../channels/registry.ts";
import type { PlanBase } from "../probes/types.ts";

/**
 * What one release should look like on every channel. Built from config (+ optional targets manifest) by
 * plan/build-plan.ts; consumed by probes (what to ask for) and checks (what to compare against).
 * Each channel's piece sits under its id (its type lives in src/channels/<id>/types.ts); a channel set to null is
 * not configured for the project and reports `skipped`.
 */
export type ReleasePlan = PlanBase & {
  /** Grace window per channel in milliseconds, counted from the GitHub release's published_at. */
  grace_ms: Record<ChannelId, number>;
} & { [C in ChannelId]: PlanOf<C> | null };
