import { formatDuration } from "../config/duration.ts";
import type { ViewDeps } from "./view.ts";

export interface Readiness {
  ready: boolean;
  reason: string | null;
  checks: { state: boolean; scheduler: boolean; fresh: boolean; leases?: boolean };
  last_successful_cycle_at: string | null;
  stale_after: string;
}

/**
 * /readyz: state readable, scheduler running, last successful cycle younger than stale_after (0: not checked), and
 * on a cluster replica its lease renewal healthy (a replica that cannot renew owns nothing and must not look ready).
 */
export async function readiness(deps: ViewDeps, staleMs: number): Promise<Readiness> {
  const staleAfter = staleMs > 0 ? formatDuration(staleMs) : "0 (age not checked)";
  let state = true;
  let running = false;
  let last: string | null = null;
  try {
    await deps.store.projects();
    const status = await deps.daemon.status();
    running = status.running;
    last = status.last_successful_cycle_at;
  } catch {
    state = false;
  }
  const leases = deps.daemon.leases?.() ?? null;
  const age = last ? deps.now().getTime() - Date.parse(last) : null;
  const fresh = last !== null && (staleMs <= 0 || (age !== null && age <= staleMs));
  let reason: string | null = null;
  if (!state) reason = "the state database cannot be read";
  else if (!running) reason = "the scheduler is not running";
  else if (leases && !leases.ok)
    reason = `lease renewal is failing (${leases.consecutive_failures} rounds): ${leases.last_error ?? "leases not certain"}`;
  else if (last === null) reason = "no successful cycle yet";
  else if (!fresh)
    reason = `the last successful cycle was ${formatDuration(age ?? 0)} ago, over stale_after ${staleAfter}`;
  return {
    ready: reason === null,
    reason,
    checks: { state, scheduler: running, fresh, ...(leases ? { leases: leases.ok } : {}) },
    last_successful_cycle_at: last,
    stale_after: staleAfter,
  };
}
