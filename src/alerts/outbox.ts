import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { OutboxRow, OutboxStore } from "./store.ts";
import { SinkError, type AlertKind, type Sink } from "./types.ts";

/**
 * Durable alert delivery. Messages are written to the outbox (state/) in the same transaction as the incident
 * change, one row per (message, sink), before anything is sent. One loop per sink then delivers its rows strictly
 * in order (an `open` never overtakes its `resolve`), spaced by `sink.minIntervalMs`:
 *
 *   deliver ok                 -> sent (recorded right after deliver returns: a crash in between gives at most
 *                                 one duplicate, never a loss)
 *   SinkError retryable        -> pending, next attempt after max(backoff, Retry-After); backoff doubles from
 *                                 retry_base up to retry_max; the row keeps its place at the head of the queue
 *   SinkError permanent        -> dead (logged, kept for inspection), the queue moves on
 *   any other error            -> treated as retryable up to `maxUnclassifiedAttempts`, then dead
 *
 * Everything lives in the store, so a restart resumes exactly where the last process stopped.
 */

export type DeliveryOutcome = "sent" | "retry" | "dead";

export interface DeliveryEvent {
  sink: string;
  kind: AlertKind;
  message_id: string;
  outcome: DeliveryOutcome;
  attempts: number;
  error: string | null;
  /** For `retry`: epoch ms of the next attempt. */
  next_attempt_at: number | null;
}

export interface OutboxOptions {
  store: Pick<OutboxStore, "nextOutbox" | "markSent" | "markRetry" | "markDead" | "sinkMemory">;
  sinks: readonly Sink[];
  log: Logger;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Epoch-ms clock (default Date.now). */
  now?: () => number;
  /** How often an idle loop looks for rows nobody woke it for (rows from another process). Default 5 s. */
  idlePollMs?: number;
  /** Bound on one deliver() call; it is aborted and retried after this. Default 60 s. */
  deliverTimeoutMs?: number;
  /** Attempts allowed for errors that are not SinkErrors before the row is dead-lettered. Default 5. */
  maxUnclassifiedAttempts?: number;
  onDelivery?: (e: DeliveryEvent) => void;
  /**
   * Asked right before each deliver(): false leaves the row alone (a cluster replica whose lease on the row's
   * project is no longer certain; the row's new owner delivers it). Default: always deliver.
   */
  mayDeliver?: (row: OutboxRow) => boolean;
}

/** Exponential backoff for the n-th failed attempt (1-based), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

interface LoopState {
  sink: Sink;
  lastStart: number;
  delivering: boolean;
  /** The project of the row being delivered (while `delivering`). */
  project: string | null;
  wake: (() => void) | null;
  done: Promise<void> | null;
}

export class OutboxDelivery {
  readonly #o: Required<Omit<OutboxOptions, "onDelivery" | "mayDeliver">> &
    Pick<OutboxOptions, "onDelivery" | "mayDeliver">;
  readonly #loops: LoopState[];
  #abort = new AbortController();
  #running = false;

  constructor(options: OutboxOptions) {
    this.#o = {
      now: Date.now,
      idlePollMs: 5_000,
      deliverTimeoutMs: 60_000,
      maxUnclassifiedAttempts: 5,
      ...options,
    };
    this.#loops = options.sinks.map((sink) => ({
      sink,
      lastStart: 0,
      delivering: false,
      project: null,
      wake: null,
      done: null,
    }));
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    for (const loop of this.#loops) loop.done = this.#run(loop, this.#abort.signal);
  }

  /** Whether a delivery of an alert of `project` is in flight (a cluster replica keeps its lease meanwhile). */
  delivering(project: string): boolean {
    return this.#loops.some((l) => l.delivering && l.project === project);
  }

  /** New rows were enqueued: look now instead of at the next idle poll. */
  wake(): void {
    for (const loop of this.#loops) loop.wake?.();
  }

  /**
   * Delivers until every sink's queue is empty or its head waits past the deadline (backoff), or the deadline
   * passes. Returns true when nothing deliverable is left pending. Starts the loops when they are not running.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.#o.now() + timeoutMs;
    this.start();
    this.wake();
    for (;;) {
      if (await this.#allSettled(deadline)) {
        for (const l of this.#loops) if ((await this.#o.store.nextOutbox(l.sink.name)) !== null) return false;
        return true;
      }
      if (this.#o.now() >= deadline) return false;
      await delay(20);
    }
  }

  /** Stops every loop; an in-flight deliver() is aborted (its row stays pending and is sent again later). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#abort.abort(new Error("outbox stopped"));
    this.wake();
    await Promise.all(this.#loops.map((l) => l.done).filter((d): d is Promise<void> => d !== null));
  }

  async #allSettled(deadline: number): Promise<boolean> {
    for (const l of this.#loops) if (!(await this.#settled(l, deadline))) return false;
    return true;
  }

  async #settled(loop: LoopState, deadline: number): Promise<boolean> {
    if (loop.delivering) return false;
    const head = await this.#o.store.nextOutbox(loop.sink.name);
    if (!head) return true;
    return Math.max(head.next_attempt_at, loop.lastStart + loop.sink.minIntervalMs) > deadline;
  }

  async #run(loop: LoopState, signal: AbortSignal): Promise<void> {
    const { store, log } = this.#o;
    while (!signal.aborted) {
      let row: OutboxRow | null;
      try {
        row = await store.nextOutbox(loop.sink.name);
      } catch (err) {
        log.error({ sink: loop.sink.name, err: errorMessage(err) }, "outbox read failed");
        await this.#sleep(loop, this.#o.idlePollMs, signal);
        continue;
      }
      if (!row) {
        await this.#sleep(loop, this.#o.idlePollMs, signal);
        continue;
      }
      const wait = Math.max(row.next_attempt_at, loop.lastStart + loop.sink.minIntervalMs) - this.#o.now();
      if (wait > 0) {
        await this.#sleep(loop, wait, signal);
        continue;
      }
      if (this.#o.mayDeliver && !this.#o.mayDeliver(row)) {
        log.warn(
          { sink: loop.sink.name, message_id: row.message.id, project: row.message.incident.project },
          "not delivering: this replica's lease on the project is not certain",
        );
        await this.#sleep(loop, this.#o.idlePollMs, signal);
        continue;
      }
      loop.delivering = true;
      loop.project = row.message.incident.project;
      try {
        await this.#attempt(loop, row, signal);
      } catch (err) {
        // The store refused to record the outcome (a fenced write after the lease moved on, a lost connection):
        // the row stays as it was for whoever owns it now; this loop carries on.
        log.error({ sink: loop.sink.name, message_id: row.message.id, err: errorMessage(err) }, "outbox write failed");
        await this.#sleep(loop, this.#o.idlePollMs, signal);
      } finally {
        loop.delivering = false;
        loop.project = null;
      }
    }
  }

  async #attempt(loop: LoopState, row: OutboxRow, stop: AbortSignal): Promise<void> {
    const { store, log } = this.#o;
    const sink = loop.sink;
    const attempts = row.attempts + 1;
    const msg = row.message;
    const slog = log.child({ sink: sink.name, message_id: msg.id, kind: msg.kind, incident: msg.incident.id });
    const timeout = AbortSignal.timeout(this.#o.deliverTimeoutMs);
    const signal = AbortSignal.any([stop, timeout]);
    const ctx = { log: slog, memory: store.sinkMemory(sink.name), signal };
    // Stamped as the sink is called (minIntervalMs counts from here), not before the context is built.
    loop.lastStart = this.#o.now();
    try {
      await raceAbort(sink.deliver(msg, ctx), signal);
    } catch (err) {
      await this.#failed(loop, row, attempts, err, stop, timeout, slog);
      return;
    }
    // Delivered: a markSent the store rejects propagates (the caller logs it); it is not a delivery failure.
    await store.markSent(row.id, new Date(this.#o.now()).toISOString());
    slog.info({ attempts }, "alert delivered");
    this.#emit(loop, row, "sent", attempts, null, null);
  }

  async #failed(
    loop: LoopState,
    row: OutboxRow,
    attempts: number,
    err: unknown,
    stop: AbortSignal,
    timeout: AbortSignal,
    slog: Logger,
  ): Promise<void> {
    const { store } = this.#o;
    if (stop.aborted) {
      slog.warn({ attempts }, "delivery interrupted by shutdown; it will be retried on the next start");
      return;
    }
    const text = timeout.aborted ? `deliver timed out after ${this.#o.deliverTimeoutMs} ms` : errorMessage(err);
    const sinkErr = err instanceof SinkError ? err : null;
    const permanent = sinkErr ? !sinkErr.retryable : attempts >= this.#o.maxUnclassifiedAttempts && !timeout.aborted;
    const codes = errorCodes(err, sinkErr);
    if (permanent) {
      await store.markDead(row.id, attempts, text, new Date(this.#o.now()).toISOString());
      slog.error({ attempts, ...codes, err: text }, "alert dead-lettered");
      this.#emit(loop, row, "dead", attempts, text, null);
      return;
    }
    const delayMs = Math.max(backoffMs(attempts, this.#o.retryBaseMs, this.#o.retryMaxMs), sinkErr?.retryAfterMs ?? 0);
    const next = this.#o.now() + delayMs;
    await store.markRetry(row.id, attempts, next, text);
    slog.warn({ attempts, ...codes, err: text, retry_in_ms: delayMs }, "alert delivery failed; will retry");
    this.#emit(loop, row, "retry", attempts, text, next);
  }

  #emit(
    loop: LoopState,
    row: OutboxRow,
    outcome: DeliveryOutcome,
    attempts: number,
    error: string | null,
    next: number | null,
  ) {
    this.#o.onDelivery?.({
      sink: loop.sink.name,
      kind: row.message.kind,
      message_id: row.message.id,
      outcome,
      attempts,
      error,
      next_attempt_at: next,
    });
  }

  #sleep(loop: LoopState, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        loop.wake = null;
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      loop.wake = done;
    });
  }
}

/** The stable codes of a delivery failure for the log: the SinkError's code and reason, or an AppError's code. */
function errorCodes(err: unknown, sinkErr: SinkError | null): { code?: string; reason?: string } {
  if (sinkErr) return { code: sinkErr.code, ...(sinkErr.reason ? { reason: sinkErr.reason } : {}) };
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("E_") ? { code } : {};
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Rejects as soon as `signal` aborts, even when `work` ignores the signal (which is then left to settle alone). */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(asError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(asError(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(asError(e));
      },
    );
  });
}

function asError(x: unknown): Error {
  return x instanceof Error ? x : new Error(String(x));
}
