import { sleep } from "../http/client.ts";
import type { Report } from "../report/types.ts";

/**
 * `--wait`: re-run a verification until no channel is pending or unknown, with backoff. Shared by
 * `monitor verify --wait` and the release driver's verify step.
 */
export interface SettleWait {
  /** Delay before the next attempt. */
  pauseMs: number;
  /** 1-based number of the attempt just made. */
  attempt: number;
  /** Time left until the deadline. */
  leftMs: number;
  /** `channel:status` of every channel still pending or unknown. */
  waiting: string[];
}

export interface SettleOptions {
  waitMs: number;
  /** First re-poll delay; doubles up to `maxDelayMs`. */
  pollMs: number;
  maxDelayMs?: number;
  /** No round starts with less than this left before the deadline; the last pause is shortened to leave it. */
  minRoundMs?: number;
  signal?: AbortSignal;
  /** Called before each pause (progress output). */
  onWait?: (w: SettleWait) => void;
}

/** Unsettled = some channel still pending or unknown. Backoff doubles from `pollMs` up to 60 s. */
export async function waitForSettle(
  first: Report,
  run: (leftMs: number) => Promise<Report>,
  o: SettleOptions,
): Promise<Report> {
  const deadline = Date.now() + o.waitMs;
  const maxDelay = o.maxDelayMs ?? 60_000;
  const minRound = o.minRoundMs ?? 0;
  let report = first;
  let delay = o.pollMs;
  let attempt = 1;
  while (!settled(report) && deadline - Date.now() > minRound) {
    const pause = Math.min(delay, Math.max(0, deadline - Date.now() - minRound));
    const waiting = report.channels
      .filter((c) => c.status === "pending" || c.status === "unknown")
      .map((c) => `${c.channel}:${c.status}`);
    o.onWait?.({ pauseMs: pause, attempt, leftMs: Math.max(0, deadline - Date.now()), waiting });
    await sleep(pause, o.signal);
    delay = Math.min(delay * 2, maxDelay);
    attempt++;
    report = await run(Math.max(0, deadline - Date.now()));
  }
  return report;
}

export function settled(r: Report): boolean {
  return !r.channels.some((c) => c.status === "pending" || c.status === "unknown");
}
