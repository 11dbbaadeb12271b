/**
 * One event-loop turn per piece of synchronous CPU work. A Sigstore check is a few milliseconds of synchronous
 * crypto and a release brings a dozen bundles at once: run back to back as their answers land, they hold every
 * answer behind them, including the next hop of the critical path (the checksum file's redirect). A turn is taken
 * in order, one per loop iteration, after the poll phase has run the I/O that was ready.
 */
import { setImmediate as nextTurn } from "node:timers/promises";

let tail: Promise<void> = Promise.resolve();

/** Resolves on this caller's own turn; the caller does its CPU work right after the await. */
export function cpuTurn(): Promise<void> {
  const turn = tail.then(() => nextTurn());
  tail = turn;
  return turn;
}
