import type { WatchedProject } from "../alerts/lifecycle.ts";
import { OutboxDelivery, type DeliveryEvent } from "../alerts/outbox.ts";
import type { OutboxRow } from "../alerts/store.ts";
import type { Incident, Sink } from "../alerts/types.ts";
import { CHANNELS } from "../channels.ts";
import { parseDuration } from "../config/duration.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ProjectConfig } from "../config/schema.ts";
import type { Status } from "../drift/types.ts";
import { AppError, errorMessage } from "../errors.ts";
import type { ExchangeEvent } from "../http/client.ts";
import type { Logger } from "../log.ts";
import { quote } from "../quote.ts";
import type { Report } from "../report/types.ts";
import { retentionFrom } from "../state/retention.ts";
import type { CycleTrigger, ManualCheckStore, ProjectRecord, RetentionPolicy, StateStore } from "../state/types.ts";
import { verifyRelease, type VerifyDeps } from "../verify/run.ts";
import { CycleRunner, type CycleInfo, type CycleResult, type DaemonMetrics, type VerifyFn } from "./cycle.ts";
import type { ClusterMembership, LeaseHealth } from "./cluster.ts";
import { SingleDaemonLock, type Ownership } from "./lock.ts";
import { ProjectSchedule } from "./schedule.ts";
import { CycleScheduler } from "./scheduler.ts";
import { watchPlanFor } from "./watch-settings.ts";

/**
 * `monitor watch`: the daemon's lifecycle around three rooms:
 *
 *   schedule.ts  when a project's cycles start (cron task, hot-interval timer) -> scheduler.ts (the global cap)
 *   cycle.ts     one project's cycle: probe -> evaluate -> commit -> alerts (outbox wakes)
 *   lock.ts      which projects this daemon may run (the single-daemon lock today; cluster leases in cluster.ts)
 *
 * A project never runs two cycles at once: a trigger during a running cycle is skipped and logged.
 */

export type { CycleInfo, DaemonMetrics, VerifyFn } from "./cycle.ts";

export interface DaemonOptions {
  loaded: LoadedConfig;
  /** HTTP client (with the store's validator cache), GitHub factory, endpoints: what verifyRelease needs. */
  runtime: Omit<VerifyDeps, "log" | "now" | "probes"> & Partial<Pick<VerifyDeps, "probes">>;
  store: StateStore;
  sinks: readonly Sink[];
  log: Logger;
  now?: () => Date;
  /** [0, 1) source for jitter. */
  random?: () => number;
  verify?: VerifyFn;
  /** How long shutdown waits for in-flight cycles before aborting them (default 10 s). */
  cycleDrainMs?: number;
  /** How long shutdown (and --once) keeps delivering pending alerts (default 10 s). */
  flushMs?: number;
  /** Outbox idle poll (default 5 s). */
  idlePollMs?: number;
  /** Link put on alerts (status page), when there is one. */
  statusUrl?: (project: string) => string | null;
  /** Caps concurrent cycles (default: one of settings.watch.max_concurrent_cycles slots, for this daemon). */
  scheduler?: CycleScheduler;
  /** Take the single-daemon lock in the state db (default true). */
  lock?: boolean;
  /** Runs at the end of stop(): close the runtime and the store. */
  cleanup?: () => Promise<void> | void;
  /**
   * A replica of a cluster on a shared PostgreSQL state (cluster.ts): projects owned by lease instead of the
   * single-daemon lock, manual checks handed to the owner through the state. Absent: one daemon owns everything.
   */
  cluster?: {
    membership: ClusterMembership;
    manual: ManualCheckStore;
    /** How often the owner looks for manual checks handed to it (default 500 ms). */
    manualPollMs?: number;
  };
}

export interface ProjectStatus {
  project: string;
  repo: string;
  schedule: string;
  hot: boolean;
  running: boolean;
  tag: string | null;
  status: Status | null;
  last_check_at: string | null;
  last_success_at: string | null;
  next_check_at: string | null;
  last_duration_ms: number | null;
  last_error: string | null;
  report: Report | null;
  open_incidents: Incident[];
}

export interface DaemonStatus {
  started_at: string | null;
  running: boolean;
  projects: ProjectStatus[];
  /** Open registry-degraded incidents. */
  degraded: Incident[];
  outbox_depth: Record<string, number>;
  last_successful_cycle_at: string | null;
}

type Listener<T extends unknown[]> = (...args: T) => void;

interface Slot {
  project: ProjectConfig;
  schedule: ProjectSchedule;
  inFlight: Promise<CycleResult> | null;
  /** Aborted when the project's lease is lost (cluster); renewed when it is acquired again. */
  lease: AbortController;
  /** Start times (ms) of this minute's manual cycles, oldest first (the per-project load guard). */
  manualStarts: number[];
}

const PRUNE_EVERY_MS = 86_400_000;
const MANUAL_WINDOW_MS = 60_000;

export class Daemon {
  readonly #o: DaemonOptions;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #store: StateStore;
  readonly #outbox: OutboxDelivery;
  readonly #cycles: CycleRunner;
  readonly #ownership: Ownership;
  readonly #slots = new Map<string, Slot>();
  readonly #retention: RetentionPolicy;
  readonly #listeners = {
    cycle: new Set<Listener<[Report, CycleInfo]>>(),
    exchange: new Set<Listener<[ExchangeEvent]>>(),
    delivery: new Set<Listener<[DeliveryEvent]>>(),
  };
  readonly #metrics: DaemonMetrics;
  #stopAbort = new AbortController();
  #startedAt: string | null = null;
  #running = false;
  #stopping: Promise<void> | null = null;
  #timers: NodeJS.Timeout[] = [];
  #closed = false;

  constructor(options: DaemonOptions) {
    this.#o = options;
    this.#log = options.log;
    this.#now = options.now ?? (() => new Date());
    this.#store = options.store;
    const settings = options.loaded.config.settings;
    this.#retention = retentionFrom(settings);
    const watched: WatchedProject[] = options.loaded.config.projects.map((p) => ({
      project: p.name,
      channels: CHANNELS.filter((c) => p.channels[c] !== undefined),
    }));
    for (const project of options.loaded.config.projects) {
      const slot: Slot = {
        project,
        schedule: new ProjectSchedule({
          project: project.name,
          plan: watchPlanFor(settings, project),
          log: this.#log,
          now: this.#now,
          onTrigger: (trigger) => this.#trigger(slot, trigger),
          accepting: () => this.#running && !this.#stopping,
        }),
        inFlight: null,
        lease: new AbortController(),
        manualStarts: [],
      };
      this.#slots.set(project.name, slot);
    }
    this.#metrics = {
      cycles: { ok: 0, error: 0, timeout: 0, "no-release": 0, skipped_overlap: 0 },
      alerts: Object.fromEntries(options.sinks.map((s) => [s.name, { sent: 0, retry: 0, dead: 0 }])),
      last_successful_cycle_at: null,
    };
    this.#outbox = new OutboxDelivery({
      store: options.store,
      sinks: options.sinks,
      log: options.log.child({ component: "outbox" }),
      retryBaseMs: parseDuration(settings.alerts.retry_base) ?? 5_000,
      retryMaxMs: parseDuration(settings.alerts.retry_max) ?? 600_000,
      ...(options.idlePollMs !== undefined ? { idlePollMs: options.idlePollMs } : {}),
      onDelivery: (e) => this.#onDelivery(e),
      ...(options.cluster
        ? { mayDeliver: (row: OutboxRow) => this.#ownership.mayDeliver?.(row.message.incident.project) ?? true }
        : {}),
    });
    this.#cycles = new CycleRunner({
      loaded: options.loaded,
      runtime: options.runtime,
      store: options.store,
      sinks: options.sinks,
      log: options.log,
      now: this.#now,
      random: options.random ?? Math.random,
      verify: options.verify ?? verifyRelease,
      scheduler: options.scheduler ?? new CycleScheduler(settings.watch.max_concurrent_cycles),
      policy: {
        flap_cycles: settings.alerts.flap_cycles,
        remind_every_ms: parseDuration(settings.alerts.remind_every) ?? 4 * 3_600_000,
      },
      watched,
      metrics: this.#metrics,
      ...(options.statusUrl ? { statusUrl: options.statusUrl } : {}),
      onCommitted: (report, info) => emit(this.#listeners.cycle, this.#log, report, info),
      onQueued: () => this.#outbox.wake(),
      ...(options.cluster ? { fence: (project: string) => this.#ownership.generation?.(project) } : {}),
    });
    this.#ownership =
      options.cluster?.membership ??
      new SingleDaemonLock({
        store: options.store,
        log: options.log,
        now: this.#now,
        ...(options.lock === false ? { enabled: false } : {}),
      });
    this.#ownership.watch?.({
      busy: (project) => this.#slots.get(project)?.inFlight != null || this.#outbox.delivering(project),
      acquired: (projects) => this.#acquired(projects),
      lost: (projects) => this.#lost(projects),
    });
  }

  // ------------------------------------------------------------ hooks

  /** Called after every committed cycle with its report. Returns an unsubscribe function. */
  onCycle(fn: (report: Report, info: CycleInfo) => void): () => void {
    return subscribe(this.#listeners.cycle, fn);
  }

  /** Every HTTP exchange of every cycle (wire createRuntime's onExchange to recordExchange). */
  onExchange(fn: (e: ExchangeEvent) => void): () => void {
    return subscribe(this.#listeners.exchange, fn);
  }

  /** Every delivery attempt outcome per sink. */
  onDelivery(fn: (e: DeliveryEvent) => void): () => void {
    return subscribe(this.#listeners.delivery, fn);
  }

  /** Feed for onExchange listeners; pass it as the runtime's onExchange. */
  recordExchange(e: ExchangeEvent): void {
    emit(this.#listeners.exchange, this.#log, e);
  }

  /** Lease health of this replica (cluster), null for a single daemon. */
  leases(): LeaseHealth | null {
    return this.#o.cluster?.membership.health() ?? null;
  }

  metrics(): DaemonMetrics {
    return {
      cycles: { ...this.#metrics.cycles },
      alerts: Object.fromEntries(Object.entries(this.#metrics.alerts).map(([k, v]) => [k, { ...v }])),
      last_successful_cycle_at: this.#metrics.last_successful_cycle_at,
    };
  }

  // ------------------------------------------------------------ lifecycle

  /** Takes the lock, prunes old state, starts alert delivery, the schedules, and a first cycle per project. */
  async start(): Promise<void> {
    if (this.#running) return;
    await this.#ownership.acquire();
    this.#running = true;
    this.#stopAbort = new AbortController();
    this.#startedAt = this.#now().toISOString();
    await this.#prune();
    this.#outbox.start();
    this.#timers.push(setInterval(() => void this.#prune(), PRUNE_EVERY_MS));
    if (this.#o.cluster)
      this.#timers.push(setInterval(() => void this.#takeManualChecks(), this.#o.cluster.manualPollMs ?? 500));
    this.#ownership.start();
    for (const slot of this.#slots.values()) {
      await slot.schedule.start();
      await this.#resumeHot(slot);
      this.#trigger(slot, "startup");
    }
    this.#log.info(
      {
        projects: [...this.#slots.values()].map((s) => ({
          project: s.project.name,
          schedule: s.schedule.plan.schedule,
        })),
        sinks: this.#o.sinks.map((s) => s.name),
        state: this.#store.path,
        ...(this.#o.cluster ? { replica: this.#o.cluster.membership.replicaId } : {}),
      },
      "watching",
    );
  }

  /**
   * Graceful shutdown: stop the schedules, let in-flight cycles finish within cycleDrainMs (then abort them), flush
   * the outbox within flushMs, release the lock and run cleanup (close the db). Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  /**
   * One cycle per project now (jitter applies), then deliver alerts within flushMs. For `watch --once`.
   * Returns one result per project; `error` holds the failure of a project's cycle.
   */
  async runOnce(): Promise<{ project: string; report: Report | null; error: string | null; owner: string | null }[]> {
    await this.#ownership.acquire();
    this.#running = true;
    this.#stopAbort = new AbortController();
    this.#startedAt = this.#now().toISOString();
    try {
      await this.#prune();
      // On a cluster state, the projects a live replica owns are left to it (cluster.ts, once mode).
      const others = this.#o.cluster?.membership.others() ?? new Map<string, string>();
      const slots = [...this.#slots.values()];
      const results = await Promise.all(
        slots.map((s) => (others.has(s.project.name) ? Promise.resolve(null) : this.#run(s, "once", true))),
      );
      const drained = await this.#outbox.flush(this.#o.flushMs ?? 10_000);
      if (!drained)
        this.#log.warn({ outbox: await this.#safeDepth() }, "alerts still pending; they are delivered by the next run");
      await this.#outbox.stop();
      return slots.map((s, i) => {
        const r = results[i];
        return {
          project: s.project.name,
          report: r?.kind === "report" ? r.report : null,
          error: r?.kind === "error" ? errorMessage(r.error) : r?.kind === "cancelled" ? "cancelled" : null,
          owner: others.get(s.project.name) ?? null,
        };
      });
    } finally {
      this.#running = false;
      await this.#ownership.release();
      this.#closed = true;
      await this.#o.cleanup?.();
    }
  }

  /**
   * A cycle for one project now, without jitter (the status API's "check now"). When a cycle is already running
   * for the project, its result is returned instead of starting a second one.
   */
  async runCycleNow(name: string): Promise<Report> {
    if (this.#o.cluster) return this.#manualThroughState(name, this.#o.cluster.manual);
    return this.#cycleNow(name, (slot) => this.#startManual(slot));
  }

  /** Reports waiting for queued crates.io API answers to complete them: at most one per project (the newest). */
  pendingCompletions(): number {
    return this.#cycles.pendingCompletions();
  }

  /**
   * A cycle for one project now as its schedule would start it, without jitter and outside the manual-check limit:
   * for embedders that drive cycles themselves (the benchmarks' back-to-back cycles). Shares a running cycle like
   * runCycleNow.
   */
  async runScheduledCycle(name: string): Promise<Report> {
    return this.#cycleNow(name, (slot) => this.#run(slot, "schedule", false));
  }

  async #cycleNow(name: string, start: (slot: Slot) => Promise<CycleResult>): Promise<Report> {
    const slot = this.#slots.get(name);
    if (!slot) throw new AppError("E_USAGE", `no project named ${quote(name)}`);
    if (this.#stopping) throw new AppError("E_ABORTED", "the daemon is shutting down");
    const result = await (slot.inFlight ?? this.#track(slot, start(slot)));
    if (result.kind === "report") return result.report;
    if (result.kind === "no-release")
      throw new AppError("E_PROBE_FAILED", `${slot.project.repo} has no eligible release`);
    if (result.kind === "cancelled") throw new AppError("E_ABORTED", "the cycle was cancelled by shutdown");
    throw result.error instanceof AppError
      ? result.error
      : new AppError("E_INTERNAL", errorMessage(result.error), { cause: result.error });
  }

  /**
   * Takes the single-daemon lock on the state directory now (start() and runOnce() take it too). `monitor watch`
   * calls it before opening its server, so a second daemon exits instead of serving /healthz.
   */
  lock(): Promise<void> {
    return this.#ownership.acquire();
  }

  /** A manual cycle, unless the project already had settings.server.manual_checks_per_minute of them this minute. */
  #startManual(slot: Slot): Promise<CycleResult> {
    const limit = this.#o.loaded.config.settings.server.manual_checks_per_minute;
    const now = this.#now().getTime();
    slot.manualStarts = slot.manualStarts.filter((t) => now - t < MANUAL_WINDOW_MS);
    const oldest = slot.manualStarts[0];
    if (slot.manualStarts.length >= limit && oldest !== undefined) {
      const retry = Math.max(1, Math.ceil((oldest + MANUAL_WINDOW_MS - now) / 1000));
      throw new AppError(
        "E_RATE_LIMITED",
        `${slot.project.name} already ran ${limit} manual checks in the last minute (settings.server.manual_checks_per_minute); retry in ${retry} s`,
        { details: { retry_after_s: retry } },
      );
    }
    slot.manualStarts.push(now);
    return this.#run(slot, "manual", false);
  }

  async status(): Promise<DaemonStatus> {
    if (this.#closed) throw new AppError("E_STATE", "the daemon is stopped (its state is closed)");
    const stored = await this.#store.projects();
    const records = new Map(stored.map((p) => [p.project, p]));
    const open = await this.#store.openIncidents();
    const reports = new Map((await this.#store.latestReports()).map((r) => [r.project, r]));
    const projects: ProjectStatus[] = [...this.#slots.values()].map((slot) => {
      const name = slot.project.name;
      const rec = records.get(name);
      const report = reports.get(name) ?? null;
      return {
        project: name,
        repo: slot.project.repo,
        schedule: slot.schedule.plan.schedule,
        hot: slot.schedule.hot,
        running: slot.inFlight !== null,
        tag: report?.tag ?? rec?.tag ?? null,
        status: report?.status ?? null,
        last_check_at: rec?.last_check_at ?? null,
        last_success_at: rec?.last_success_at ?? null,
        // The owner's schedule: a replica that does not own the project shows what its owner stored.
        next_check_at:
          this.#running && this.#ownership.owns(name) ? slot.schedule.nextCheck() : (rec?.next_check_at ?? null),
        last_duration_ms: rec?.last_duration_ms ?? null,
        last_error: rec?.last_error ?? null,
        report,
        open_incidents: open.filter((i) => i.project === name),
      };
    });
    return {
      started_at: this.#startedAt,
      running: this.#running,
      projects,
      degraded: open.filter((i) => i.project === "*"),
      outbox_depth: await this.#safeDepth(),
      last_successful_cycle_at: this.#lastSuccess(stored),
    };
  }

  // ------------------------------------------------------------ scheduling

  #trigger(slot: Slot, trigger: CycleTrigger): void {
    if (!this.#running || this.#stopping) return;
    if (!this.#ownership.owns(slot.project.name)) return;
    if (slot.inFlight) {
      this.#metrics.cycles.skipped_overlap++;
      this.#log.info({ project: slot.project.name, trigger }, "cycle skipped: the previous cycle is still running");
      return;
    }
    void this.#track(slot, this.#run(slot, trigger, true));
  }

  #track(slot: Slot, p: Promise<CycleResult>): Promise<CycleResult> {
    slot.inFlight = p;
    void p.finally(() => {
      if (slot.inFlight === p) slot.inFlight = null;
    });
    return p;
  }

  #run(slot: Slot, trigger: CycleTrigger, jitter: boolean): Promise<CycleResult> {
    const schedule = slot.schedule;
    return this.#cycles.run(
      {
        project: slot.project,
        plan: schedule.plan,
        nextCheck: () => schedule.nextCheck(),
        updateHot: (publishedAt, firstSeen) => schedule.updateHot(publishedAt, firstSeen),
      },
      trigger,
      jitter,
      this.#stopAbort.signal,
      slot.lease.signal,
    );
  }

  // ------------------------------------------------------------ cluster

  #acquired(projects: readonly string[]): void {
    for (const name of projects) {
      const slot = this.#slots.get(name);
      if (!slot) continue;
      if (slot.lease.signal.aborted) slot.lease = new AbortController();
      // Promptly: the project may have waited a TTL for its previous owner's lease to expire.
      this.#trigger(slot, "startup");
    }
  }

  #lost(projects: readonly string[]): void {
    for (const name of projects) {
      const slot = this.#slots.get(name);
      if (!slot || slot.lease.signal.aborted) continue;
      slot.lease.abort(new AppError("E_LEASE_LOST", `the lease on ${name} was lost; its work stops here`));
      if (slot.inFlight) this.#log.warn({ project: name, code: "E_LEASE_LOST" }, "lease lost: aborting the cycle");
    }
  }

  /**
   * POST …/check on a replica: the request goes into the shared state (rate-limited cluster-wide there), the
   * project's owner (maybe this replica) takes it and runs the cycle, and this replica waits for the outcome.
   */
  async #manualThroughState(name: string, manual: ManualCheckStore): Promise<Report> {
    const slot = this.#slots.get(name);
    if (!slot) throw new AppError("E_USAGE", `no project named ${quote(name)}`);
    if (this.#stopping) throw new AppError("E_ABORTED", "the daemon is shutting down");
    const { id } = await manual.requestManualCheck(name, {
      requestedBy: this.#o.cluster?.membership.replicaId ?? "replica",
      limitPerMinute: this.#o.loaded.config.settings.server.manual_checks_per_minute,
    });
    void this.#takeManualChecks();
    const deadline = Date.now() + slot.schedule.plan.cycle_timeout_ms + 60_000;
    for (;;) {
      const row = await manual.manualCheck(id);
      if (row?.finished_at) {
        if (row.outcome === "ok") {
          const report = await this.#store.latestReport(name);
          if (report) return report;
        }
        throw new AppError("E_PROBE_FAILED", `the check of ${name} failed on its owner: ${row.error ?? "no report"}`);
      }
      if (this.#stopping) throw new AppError("E_ABORTED", "the daemon is shutting down");
      if (Date.now() > deadline) throw new AppError("E_ABORTED", `no replica finished the check of ${name} in time`);
      await delay(200);
    }
  }

  #taking: Promise<void> | null = null;

  /** The owner's side of manual checks handed through the state. */
  #takeManualChecks(): Promise<void> {
    const manual = this.#o.cluster?.manual;
    if (!manual || !this.#running || this.#stopping) return Promise.resolve();
    this.#taking ??= (async () => {
      try {
        for (const check of await manual.takeManualChecks()) {
          const slot = this.#slots.get(check.project);
          if (!slot) continue;
          void (async () => {
            const result = await (slot.inFlight ?? this.#track(slot, this.#run(slot, "manual", false)));
            const outcome =
              result.kind === "report"
                ? { outcome: "ok" as const, error: null }
                : {
                    outcome: "error" as const,
                    error: result.kind === "error" ? errorMessage(result.error) : result.kind,
                  };
            await manual.finishManualCheck(check.id, outcome);
          })().catch((err: unknown) =>
            this.#log.warn({ project: check.project, err: errorMessage(err) }, "cannot finish a manual check"),
          );
        }
      } catch (err) {
        this.#log.warn({ err: errorMessage(err) }, "cannot take manual checks");
      } finally {
        this.#taking = null;
      }
    })();
    return this.#taking;
  }

  /** After a restart inside a tag's hot window, keep polling hot. */
  async #resumeHot(slot: Slot): Promise<void> {
    const tag = (await this.#store.latestReport(slot.project.name))?.tag;
    const rel = tag ? await this.#store.release(slot.project.name, tag) : null;
    if (rel) slot.schedule.updateHot(rel.published_at, rel.first_seen);
  }

  // ------------------------------------------------------------ housekeeping

  async #prune(): Promise<void> {
    try {
      const counts = await this.#store.prune(this.#retention, this.#now());
      const removed = Object.values(counts as unknown as Record<string, number>).reduce((a, b) => a + b, 0);
      this.#log.info({ removed, ...counts }, "state retention applied");
    } catch (err) {
      this.#log.error({ err: errorMessage(err) }, "state retention failed");
    }
  }

  #onDelivery(e: DeliveryEvent): void {
    const m = (this.#metrics.alerts[e.sink] ??= { sent: 0, retry: 0, dead: 0 });
    m[e.outcome]++;
    emit(this.#listeners.delivery, this.#log, e);
  }

  async #safeDepth(): Promise<Record<string, number>> {
    try {
      return await this.#store.outboxDepth();
    } catch {
      return {};
    }
  }

  #lastSuccess(records: readonly ProjectRecord[]): string | null {
    if (this.#metrics.last_successful_cycle_at) return this.#metrics.last_successful_cycle_at;
    const times = records
      .map((p) => p.last_success_at)
      .filter((x): x is string => x !== null)
      .sort();
    return times.at(-1) ?? null;
  }

  async #shutdown(): Promise<void> {
    const wasRunning = this.#running;
    this.#log.info("shutting down");
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#ownership.stop();
    for (const slot of this.#slots.values()) await slot.schedule.stop();
    const inFlight = [...this.#slots.values()]
      .map((s) => s.inFlight)
      .filter((p): p is Promise<CycleResult> => p !== null);
    if (inFlight.length) {
      const bound = this.#o.cycleDrainMs ?? 10_000;
      this.#log.info({ cycles: inFlight.length, wait_ms: bound }, "waiting for in-flight cycles");
      const settled = await Promise.race([
        Promise.allSettled(inFlight).then(() => true),
        delay(bound).then(() => false),
      ]);
      if (!settled) this.#log.warn("in-flight cycles did not finish in time; aborting them");
    }
    this.#stopAbort.abort(new AppError("E_ABORTED", "shutting down"));
    await Promise.allSettled(inFlight);
    if (wasRunning) {
      const drained = await this.#outbox.flush(this.#o.flushMs ?? 10_000);
      if (!drained)
        this.#log.warn({ outbox: await this.#safeDepth() }, "alerts still pending; they are delivered after restart");
    }
    await this.#outbox.stop();
    this.#running = false;
    await this.#ownership.release();
    this.#closed = true;
    try {
      await this.#o.cleanup?.();
    } finally {
      this.#log.info("stopped");
    }
  }
}

function subscribe<T extends unknown[]>(set: Set<Listener<T>>, fn: Listener<T>): () => void {
  set.add(fn);
  return () => set.delete(fn);
}

function emit<T extends unknown[]>(set: Set<Listener<T>>, log: Logger, ...args: T): void {
  for (const fn of set) {
    try {
      fn(...args);
    } catch (err) {
      log.error({ err: errorMessage(err) }, "daemon hook threw");
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
