import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { AppError, errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { rendezvousOwner, type LeaseTick } from "../state/postgres/leases.ts";
import type { LockStore } from "../state/types.ts";
import { pidAlive, type Ownership, type OwnershipHooks } from "./lock.ts";

/**
 * Cluster membership of one `monitor watch` replica on a PostgreSQL state: the replica id's lock (one process per
 * id), then a lease round every lease_renew (LeaseKeeper: heartbeat into `replicas`, renew, take expired leases
 * with SKIP LOCKED, hand back what rendezvous hashing gives a live peer). The daemon runs cycles only for the
 * projects it owns, runs one at once when it acquires a project, and aborts a project's work when its lease is
 * lost.
 *
 * Certainty is local and conservative: a lease renewed by a round that *started* at monotonic time t is ours until
 * t + lease_ttl at the latest (the database set `expires_at = now() + ttl` after t). owns() answers false past
 * t + CERTAIN_FRACTION × ttl, so a replica frozen past its TTL (SIGSTOP, a long GC pause) resumes believing nothing
 * and delivers nothing before its next round has told it what it still holds. The database's fencing (the lease
 * generation in every side-effect write) stays the final word.
 */

/** What the membership needs from the lease keeper (LeaseKeeper fits). */
export interface LeaseRounds {
  readonly replicaId: string;
  tick(projects: readonly string[], busy?: (project: string) => boolean): Promise<LeaseTick>;
  releaseAll(): Promise<void>;
  generation(project: string): number | undefined;
  owned(): ReadonlyMap<string, number>;
  /** `watch --once` (LeaseKeeper has them): take the free leases, renew and give back only those. */
  claimFree?(projects: readonly string[]): Promise<{ owned: ReadonlyMap<string, number>; others: Map<string, string> }>;
  renewHeld?(): Promise<ReadonlyMap<string, number>>;
  releaseHeld?(): Promise<void>;
}

export interface LeaseHealth {
  replica_id: string;
  /** The last round succeeded and its leases are still certain. */
  ok: boolean;
  /** Projects this replica owns now (empty when not certain). */
  owned: string[];
  live_replicas: string[];
  /** Wall-clock time of the last successful round. */
  last_renewal_at: string | null;
  consecutive_failures: number;
  last_error: string | null;
  /** Leases this replica took over from another replica since it started. */
  takeovers: number;
}

export interface ClusterOptions {
  keeper: LeaseRounds;
  /** The replica id's lock (PostgreSQL: `replicas.instance`). */
  lock: LockStore;
  projects: readonly string[];
  renewMs: number;
  ttlMs: number;
  log: Logger;
  now?: () => Date;
  /** How long acquire() waits for a previous process with the same replica id to go stale (default 2 × TTL). */
  lockWaitMs?: number;
  /**
   * `watch --once`: acquire() takes every lease nobody holds (outside rendezvous hashing, without joining the live
   * replicas or taking the replica id), renews only those while the run lasts, and release() gives them back. The
   * projects a live replica owns are left to it (others()).
   */
  once?: boolean;
}

/** owns() holds up to this share of the TTL after the start of the last successful round. */
const CERTAIN_FRACTION = 0.8;

export class ClusterMembership implements Ownership {
  readonly #o: ClusterOptions;
  readonly #log: Logger;
  readonly #instance = randomUUID();
  #hooks: OwnershipHooks | null = null;
  #locked = false;
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<void> | null = null;
  #stopped = false;
  /** Between start() and stop(): lease changes reach the daemon. */
  #running = false;
  /** performance.now() until which the last round's leases are certain. */
  #certainUntil = 0;
  #lastRenewalAt: string | null = null;
  #failures = 0;
  #lastError: string | null = null;
  #takeovers = 0;
  #live: readonly string[] = [];
  #others = new Map<string, string>();
  #renewal: NodeJS.Timeout | null = null;

  constructor(options: ClusterOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "cluster", replica: options.keeper.replicaId });
  }

  get replicaId(): string {
    return this.#o.keeper.replicaId;
  }

  watch(hooks: OwnershipHooks): void {
    this.#hooks = hooks;
  }

  /** Takes the replica id (waiting out a killed predecessor's heartbeat), then runs a first lease round. */
  async acquire(): Promise<void> {
    if (this.#locked) return;
    if (this.#o.once) return this.#acquireOnce();
    const deadline = performance.now() + (this.#o.lockWaitMs ?? 2 * this.#o.ttlMs);
    const now = this.#o.now ?? (() => new Date());
    for (;;) {
      const holder = await this.#o.lock.acquireDaemonLock(
        { instance: this.#instance, pid: process.pid, host: hostname(), now: now(), staleMs: this.#o.ttlMs },
        pidAlive,
      );
      if (!holder) break;
      if (performance.now() > deadline) {
        throw new AppError(
          "E_STATE",
          `another monitor watch (pid ${holder.pid} on ${holder.host}, since ${holder.started_at}) runs as replica ${this.replicaId}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    this.#locked = true;
    this.#stopped = false;
    await this.#tick();
    if (this.#failures > 0) throw new AppError("E_STATE", `cannot take leases: ${this.#lastError ?? "unknown error"}`);
  }

  start(): void {
    this.#stopped = false;
    this.#running = true;
    this.#schedule();
    // What the first round (in acquire) took: the daemon runs those now.
    this.#hooks?.acquired([...this.#o.keeper.owned().keys()]);
  }

  /**
   * Shutdown begins: lease changes stop reaching the daemon, but the rounds go on until release(), so the leases
   * stay certain while in-flight cycles finish and the outbox flushes (--drain-timeout).
   */
  stop(): void {
    this.#running = false;
  }

  /** `once`: the projects a live replica owns, and who (empty otherwise). */
  others(): ReadonlyMap<string, string> {
    return this.#others;
  }

  async #acquireOnce(): Promise<void> {
    const keeper = this.#o.keeper;
    if (!keeper.claimFree || !keeper.renewHeld)
      throw new AppError("E_INTERNAL", "this lease keeper cannot run watch --once");
    const started = performance.now();
    const { others } = await keeper.claimFree(this.#o.projects);
    this.#certainUntil = started + CERTAIN_FRACTION * this.#o.ttlMs;
    this.#others = others;
    this.#locked = true;
    this.#stopped = false;
    const renew = async (): Promise<void> => {
      const before = new Set(this.#o.keeper.owned().keys());
      const t = performance.now();
      try {
        if (!keeper.renewHeld) return;
        const owned = await keeper.renewHeld();
        this.#certainUntil = t + CERTAIN_FRACTION * this.#o.ttlMs;
        const lost = [...before].filter((p) => !owned.has(p));
        if (lost.length) this.#hooks?.lost(lost);
      } catch (err) {
        this.#certainUntil = 0;
        this.#failures++;
        this.#lastError = errorMessage(err);
        this.#log.error({ err: this.#lastError }, "lease renewal failed");
        if (before.size) this.#hooks?.lost([...before]);
      }
    };
    this.#renewal = setInterval(() => {
      this.#round ??= renew().finally(() => (this.#round = null));
    }, this.#o.renewMs);
  }

  async release(): Promise<void> {
    if (this.#o.once) {
      if (this.#renewal) clearInterval(this.#renewal);
      this.#renewal = null;
      await this.#round;
      this.#certainUntil = 0;
      if (!this.#locked) return;
      this.#locked = false;
      try {
        await this.#o.keeper.releaseHeld?.();
      } catch (err) {
        this.#log.warn({ err: errorMessage(err) }, "cannot hand the leases back; they expire after the TTL");
      }
      return;
    }
    this.stop();
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#round;
    if (!this.#locked) return;
    this.#certainUntil = 0;
    try {
      await this.#o.keeper.releaseAll();
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, "cannot hand the leases back; they expire after the TTL");
    }
    try {
      await this.#o.lock.releaseDaemonLock(this.#instance);
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, "cannot release the replica id");
    }
    this.#locked = false;
  }

  /**
   * Ours, certain, and not about to be handed to the live replica rendezvous hashing prefers: no new cycle or
   * delivery starts for a project being handed off (the keeper hands back only what is not busy, so starting one
   * would hold the hand-off up, or race it and cost a duplicate).
   */
  owns(project: string): boolean {
    return this.generation(project) !== undefined;
  }

  /** The lease generation a cycle of `project` runs under (undefined: not ours, not certain, or handed off). */
  generation(project: string): number | undefined {
    if (!this.#certain() || this.#handingOff(project)) return undefined;
    return this.#o.keeper.generation(project);
  }

  #handingOff(project: string): boolean {
    const preferred = rendezvousOwner(project, this.#live);
    return preferred !== undefined && preferred !== this.replicaId;
  }

  mayDeliver(project: string): boolean {
    // Registry-degraded notices ("*") are enqueued by whichever owner's cycle saw them: any certain replica.
    return project === "*" ? this.#certain() : this.owns(project);
  }

  health(): LeaseHealth {
    const ok = this.#failures === 0 && this.#certain();
    return {
      replica_id: this.replicaId,
      ok,
      owned: ok ? [...this.#o.keeper.owned().keys()].sort() : [],
      live_replicas: [...this.#live],
      last_renewal_at: this.#lastRenewalAt,
      consecutive_failures: this.#failures,
      last_error: this.#lastError,
      takeovers: this.#takeovers,
    };
  }

  #certain(): boolean {
    return performance.now() < this.#certainUntil;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#round = this.#tick().finally(() => this.#schedule());
    }, this.#o.renewMs);
  }

  async #tick(): Promise<void> {
    const before = new Set(this.#o.keeper.owned().keys());
    const started = performance.now();
    let tick: LeaseTick;
    try {
      tick = await this.#o.keeper.tick(this.#o.projects, (p) => this.#hooks?.busy(p) ?? false);
    } catch (err) {
      this.#failures++;
      this.#lastError = errorMessage(err);
      this.#certainUntil = 0;
      this.#log.error({ err: this.#lastError, failures: this.#failures }, "lease renewal failed");
      // The keeper holds nothing until a round succeeds again: everything we had is lost for now.
      if (before.size > 0) {
        this.#log.warn({ projects: [...before], code: "E_LEASE_LOST" }, "leases lost");
        this.#hooks?.lost([...before]);
      }
      return;
    }
    this.#certainUntil = started + CERTAIN_FRACTION * this.#o.ttlMs;
    if (this.#failures > 0) this.#log.info({ after_failures: this.#failures }, "lease renewal recovered");
    this.#failures = 0;
    this.#lastError = null;
    this.#lastRenewalAt = new Date().toISOString();
    this.#live = tick.liveReplicas;
    this.#takeovers += tick.takeovers;
    // A failed round dropped everything; leases renewed since then come back as "acquired" from the hooks' view.
    const acquired = [...tick.owned.keys()].filter((p) => !before.has(p));
    const lost = [...before].filter((p) => !tick.owned.has(p));
    if (lost.length) {
      const released = new Set(tick.released);
      const taken = lost.filter((p) => !released.has(p));
      if (taken.length) this.#log.warn({ projects: taken, code: "E_LEASE_LOST" }, "leases lost");
      if (tick.released.length) this.#log.info({ projects: tick.released }, "leases handed to a preferred replica");
      this.#hooks?.lost(lost);
    }
    if (acquired.length) {
      this.#log.info({ projects: acquired, takeovers: tick.takeovers }, "leases acquired");
      if (this.#running) this.#hooks?.acquired(acquired);
    }
  }
}
