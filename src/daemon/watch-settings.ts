import { parseDuration } from "../config/duration.ts";
import type { ProjectConfig, SettingsConfig } from "../config/schema.ts";

/** One project's watch settings: settings.watch overlaid with project.watch, durations in ms. */
export interface WatchPlan {
  schedule: string;
  hot_interval_ms: number;
  hot_for_ms: number;
  jitter_ms: number;
  cycle_timeout_ms: number;
  include_prereleases: boolean;
}

export function watchPlanFor(settings: SettingsConfig, project: ProjectConfig): WatchPlan {
  const g = settings.watch;
  const p = project.watch ?? {};
  const ms = (text: string) => parseDuration(text) ?? 0;
  return {
    schedule: p.schedule ?? g.schedule,
    hot_interval_ms: ms(p.hot_interval ?? g.hot_interval),
    hot_for_ms: ms(p.hot_for ?? g.hot_for),
    jitter_ms: ms(p.jitter ?? g.jitter),
    cycle_timeout_ms: ms(p.cycle_timeout ?? g.cycle_timeout),
    include_prereleases: p.include_prereleases ?? g.include_prereleases,
  };
}

/**
 * Whether a tag is still "hot" (poll at hot_interval): younger than hot_for, counted from the GitHub release's
 * published_at, or from when the daemon first saw it when GitHub gives no time.
 */
export function isHot(plan: WatchPlan, published_at: string | null, first_seen: string, now: Date): boolean {
  if (plan.hot_interval_ms <= 0 || plan.hot_for_ms <= 0) return false;
  const start = Date.parse(published_at ?? first_seen);
  const from = Number.isFinite(start) ? start : Date.parse(first_seen);
  return now.getTime() - from < plan.hot_for_ms;
}
