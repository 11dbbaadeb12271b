import { onAbort } from "../abort-fanout.ts";
import { AppError } from "../errors.ts";

/**
 * The daemon's global cycle scheduler: at most `max` cycles run at once across every project
 * (settings.watch.max_concurrent_cycles), the rest wait. Waiting is fair between projects: each project has its own
 * FIFO, and a free slot goes to the project at the head of a round-robin order, so a project that queues again goes
 * behind every project already waiting. One cron tick for N projects therefore runs them `max` at a time, in the
 * order they were queued, and a project's hot polling cannot starve the others.
 *
 * A cycle holds its slot from acquire() until it calls the release function it got (exactly once; more calls are
 * ignored). A waiter whose signal aborts (shutdown) leaves the queue and its acquire() rejects with E_ABORTED.
 */
export interface SchedulerProbe {
  /** A cycle got a slot; `active` counts it. */
  onStart?(key: string, active: number): void;
  /** A cycle gave its slot back; `active` no longer counts it. */
  onEnd?(key: string, active: number): void;
  /** A cycle had to wait; `queued` counts it. */
  onQueued?(key: string, queued: number): void;
}

interface Waiter {
  key: string;
  grant: (release: () => void) => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

export class CycleScheduler {
  readonly max: number;
  readonly #probe: SchedulerProbe;
  #active = 0;
  #queued = 0;
  /** Waiters per project, projects in round-robin order (a Map keeps insertion order). */
  readonly #waiting = new Map<string, Waiter[]>();

  constructor(max: number, probe: SchedulerProbe = {}) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max_concurrent_cycles must be >= 1 (got ${max})`);
    this.max = max;
    this.#probe = probe;
  }

  /** Cycles running now. */
  get active(): number {
    return this.#active;
  }

  /** Cycles waiting for a slot. */
  get queued(): number {
    return this.#queued;
  }

  /** Resolves with a release function once `key`'s cycle may run. */
  acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(aborted(signal));
    if (this.#active < this.max && this.#queued === 0) return Promise.resolve(this.#start(key));
    return new Promise((resolve, reject) => {
      const cancel = () => {
        const list = this.#waiting.get(key);
        const i = list ? list.indexOf(waiter) : -1;
        if (!list || i < 0) return;
        list.splice(i, 1);
        if (list.length === 0) this.#waiting.delete(key);
        this.#queued--;
        reject(aborted(signal));
      };
      // onAbort, not a listener per waiter: every waiter of a tick shares the daemon's stop signal.
      const waiter: Waiter = { key, grant: resolve, reject, cleanup: onAbort(signal, cancel) };
      const list = this.#waiting.get(key);
      if (list) list.push(waiter);
      else this.#waiting.set(key, [waiter]);
      this.#queued++;
      this.#probe.onQueued?.(key, this.#queued);
    });
  }

  /** Runs `fn` in a slot (for callers without their own try/finally). */
  async run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(key, signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #start(key: string): () => void {
    this.#active++;
    this.#probe.onStart?.(key, this.#active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      this.#probe.onEnd?.(key, this.#active);
      this.#next();
    };
  }

  /** Hands free slots to the heads of the round-robin order. */
  #next(): void {
    while (this.#active < this.max) {
      const first = this.#waiting.entries().next();
      if (first.done) return;
      const [key, list] = first.value;
      const waiter = list.shift() as Waiter;
      // The project goes to the back of the order, behind everyone already waiting.
      this.#waiting.delete(key);
      if (list.length > 0) this.#waiting.set(key, list);
      this.#queued--;
      waiter.cleanup();
      waiter.grant(this.#start(waiter.key));
    }
  }
}

function aborted(signal: AbortSignal | undefined): AppError {
  const reason: unknown = signal?.reason;
  return reason instanceof AppError ? reason : new AppError("E_ABORTED", "cancelled while waiting for a cycle slot");
}
