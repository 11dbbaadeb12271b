import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { AppError, errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { LockStore } from "../state/types.ts";

/**
 * Which projects this daemon may run cycles for, and what it holds to know it. One daemon on SQLite holds the
 * single-daemon lock on its state and owns every project (SingleDaemonLock, below); replicas on PostgreSQL own
 * projects by lease (cluster.ts).
 */
export interface Ownership {
  /** Takes what the daemon needs before it serves or runs a cycle; throws E_STATE when another daemon holds it. */
  acquire(): Promise<void>;
  /** Starts the upkeep (heartbeats, lease renewal) once the daemon runs. */
  start(): void;
  /** Shutdown begins: the single lock stops its heartbeat; a cluster replica keeps renewing until release(). */
  stop(): void;
  /** Gives back what acquire() took (end of shutdown). */
  release(): Promise<void>;
  /** Whether this daemon may run a cycle for `project` now. */
  owns(project: string): boolean;
  /** Lease-based ownership: how the daemon hears of changes (and tells what is busy). */
  watch?(hooks: OwnershipHooks): void;
  /** The fencing generation a cycle of `project` runs under; undefined when not owned. */
  generation?(project: string): number | undefined;
  /** Whether an alert of `project` may be delivered by this daemon now. */
  mayDeliver?(project: string): boolean;
}

export interface OwnershipHooks {
  /** A cycle or delivery of `project` is in flight (its lease is not handed back this round). */
  busy(project: string): boolean;
  /** Newly owned projects: run a cycle for each now. */
  acquired(projects: readonly string[]): void;
  /** Projects no longer owned: abort their work before the next side effect. */
  lost(projects: readonly string[]): void;
}

const LOCK_STALE_MS = 120_000;
const HEARTBEAT_MS = 30_000;

export interface SingleDaemonLockOptions {
  store: LockStore & { readonly path: string };
  log: Logger;
  now: () => Date;
  /** false: take no lock (embedders that run their own single daemon). */
  enabled?: boolean;
}

/** The single-daemon lock in the state db: a second `monitor watch` on the same state is refused. */
export class SingleDaemonLock implements Ownership {
  readonly #o: SingleDaemonLockOptions;
  readonly #instance = randomUUID();
  #locked = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: SingleDaemonLockOptions) {
    this.#o = options;
  }

  async acquire(): Promise<void> {
    if (this.#o.enabled === false || this.#locked) return;
    const holder = await this.#o.store.acquireDaemonLock(
      { instance: this.#instance, pid: process.pid, host: hostname(), now: this.#o.now(), staleMs: LOCK_STALE_MS },
      pidAlive,
    );
    if (holder) {
      throw new AppError(
        "E_STATE",
        `another monitor watch (pid ${holder.pid} on ${holder.host}, since ${holder.started_at}) uses ${this.#o.store.path}`,
      );
    }
    this.#locked = true;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.#heartbeat(), HEARTBEAT_MS);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async release(): Promise<void> {
    this.stop();
    if (!this.#locked) return;
    try {
      await this.#o.store.releaseDaemonLock(this.#instance);
    } catch (err) {
      this.#o.log.warn({ err: errorMessage(err) }, "cannot release the daemon lock");
    }
    this.#locked = false;
  }

  owns(): boolean {
    return true;
  }

  async #heartbeat(): Promise<void> {
    try {
      await this.#o.store.heartbeat(this.#instance, this.#o.now());
    } catch (err) {
      this.#o.log.warn({ err: errorMessage(err) }, "state heartbeat failed");
    }
  }
}

/** Whether a pid on this host still runs (EPERM: it does, as another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
