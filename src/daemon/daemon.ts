import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import cron, { type ScheduledTask } from "node-cron";
import { caughtUpBypasses } from "../alerts/bypass.ts";
import { advanceIncidents, evaluateDegraded, type LifecyclePolicy, type WatchedProject } from "../alerts/lifecycle.ts";
import { OutboxDelivery, raceAbort, type DeliveryEvent } from "../alerts/outbox.ts";
import { routeAlerts } from "../alerts/rollup.ts";
import type { Incident, Sink } from "../alerts/types.ts";
import { CHANNELS } from "../channels.ts";
import { parseDuration } from "../config/duration.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ProjectConfig } from "../config/schema.ts";
import type { Status } from "../drift/types.ts";
import { AppError, errorMessage } from "../errors.ts";
import { sleep, type ExchangeEvent } from "../http/client.ts";
import type { Logger } from "../log.ts";
import type { Report } from "../report/types.ts";
import { retentionFrom } from "../state/retention.ts";
import type {
  CycleOutcome,
  CycleRecord,
  CycleTrigger,
  ProjectRecord,
  RetentionPolicy,
  StateStore,
} from "../state/types.ts";
import { verifyRelease, type VerifyDeps } from "../verify/run.ts";
import { findLatestRelease, type LatestRelease } from "./latest-tag.ts";
import { isHot, watchPlanFor, type WatchPlan } from "./watch-settings.ts";
import { CycleScheduler } from "./scheduler.ts";
import { quote } from "../quote.ts";

/**
 * `monitor watch`: scheduler + state + alert delivery around one cycle per project:
 *
 *   latest release tag (GitHub releases list) -> verifyRelease(expectLatest) -> lifecycle (pure)
 *     -> one state transaction (channel states, report, incidents, outbox rows, cycle record) -> outbox wakes
 *
 * Each project has its own cron task (and a hot-interval timer while its newest tag is young); a project never
 * runs two cycles at once (a trigger during a running cycle is skipped and logged), and every cycle is bounded by
 * cycle_timeout, so one project's failure never stalls another.
 */

export type VerifyFn = typeof verifyRelease;

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

/** In-process counters (the outbox depth lives in the store: status().outbox_depth). */
export interface DaemonMetrics {
  cycles: Record<CycleOutcome | "skipped_overlap", number>;
  /** Per sink: deliveries sent, failed-and-retried, dead-lettered. */
  alerts: Record<string, { sent: number; retry: number; dead: number }>;
  last_successful_cycle_at: string | null;
}

export interface CycleInfo {
  project: string;
  trigger: CycleTrigger;
  duration_ms: number;
  /** Messages enqueued by this cycle. */
  alerts: number;
}

type Listener<T extends unknown[]> = (...args: T) => void;

interface Slot {
  project: ProjectConfig;
  plan: WatchPlan;
  task: ScheduledTask | null;
  hot: NodeJS.Timeout | null;
  hotNextAt: number | null;
  inFlight: Promise<CycleResult> | null;
  /** Start times (ms) of this minute's manual cycles, oldest first (the per-project load guard). */
  manualStarts: number[];
  /** Reports committed so far: a late completion commits only if no newer report came first. */
  committed: number;
}

type CycleResult =
  | { kind: "report"; report: Report }
  | { kind: "no-release" }
  | { kind: "error"; error: unknown }
  | { kind: "cancelled" };

const LOCK_STALE_MS = 120_000;
const HEARTBEAT_MS = 30_000;
const PRUNE_EVERY_MS = 86_400_000;
const MANUAL_WINDOW_MS = 60_000;

export class Daemon {
  readonly #o: DaemonOptions;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #verify: VerifyFn;
  readonly #store: StateStore;
  readonly #scheduler: CycleScheduler;
  readonly #outbox: OutboxDelivery;
  readonly #slots = new Map<string, Slot>();
  readonly #policy: LifecyclePolicy;
  readonly #retention: RetentionPolicy;
  readonly #watched: WatchedProject[];
  readonly #listeners = {
    cycle: new Set<Listener<[Report, CycleInfo]>>(),
    exchange: new Set<Listener<[ExchangeEvent]>>(),
    delivery: new Set<Listener<[DeliveryEvent]>>(),
  };
  readonly #metrics: DaemonMetrics;
  /** Commits run one at a time: from reading the incidents to committing them no other cycle interleaves. */
  #commitQueue: Promise<unknown> = Promise.resolve();
  #stopAbort = new AbortController();
  #startedAt: string | null = null;
  #running = false;
  #stopping: Promise<void> | null = null;
  #timers: NodeJS.Timeout[] = [];
  #locked = false;
  /** Latest report per watched project, read from the store once and kept current by #commit (degraded checks). */
  #latestByProject: Map<string, Report> | null = null;
  #closed = false;
  readonly #instance = randomUUID();

  constructor(options: DaemonOptions) {
    this.#o = options;
    this.#log = options.log;
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#verify = options.verify ?? verifyRelease;
    this.#store = options.store;
    const settings = options.loaded.config.settings;
    this.#scheduler = options.scheduler ?? new CycleScheduler(settings.watch.max_concurrent_cycles);
    this.#policy = {
      flap_cycles: settings.alerts.flap_cycles,
      remind_every_ms: parseDuration(settings.alerts.remind_every) ?? 4 * 3_600_000,
    };
    this.#retention = retentionFrom(settings);
    this.#watched = options.loaded.config.projects.map((p) => ({
      project: p.name,
      channels: CHANNELS.filter((c) => p.channels[c] !== undefined),
    }));
    for (const project of options.loaded.config.projects) {
      this.#slots.set(project.name, {
        project,
        plan: watchPlanFor(settings, project),
        task: null,
        hot: null,
        hotNextAt: null,
        inFlight: null,
        manualStarts: [],
        committed: 0,
      });
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
    await this.#lock();
    this.#running = true;
    this.#stopAbort = new AbortController();
    this.#startedAt = this.#now().toISOString();
    await this.#prune();
    this.#outbox.start();
    this.#timers.push(
      setInterval(() => void this.#prune(), PRUNE_EVERY_MS),
      setInterval(() => void this.#heartbeat(), HEARTBEAT_MS),
    );
    for (const slot of this.#slots.values()) {
      const task = cron.createTask(slot.plan.schedule, () => this.#trigger(slot, "schedule"), {
        name: `watch:${slot.project.name}`,
        suppressMissedWarning: true,
        logger: cronLogger(this.#log),
      });
      await task.start();
      slot.task = task;
      await this.#resumeHot(slot);
      this.#trigger(slot, "startup");
    }
    this.#log.info(
      {
        projects: [...this.#slots.values()].map((s) => ({ project: s.project.name, schedule: s.plan.schedule })),
        sinks: this.#o.sinks.map((s) => s.name),
        state: this.#store.path,
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
  async runOnce(): Promise<{ project: string; report: Report | null; error: string | null }[]> {
    await this.#lock();
    this.#running = true;
    this.#stopAbort = new AbortController();
    this.#startedAt = this.#now().toISOString();
    try {
      await this.#prune();
      const slots = [...this.#slots.values()];
      const results = await Promise.all(slots.map((s) => this.#run(s, "once", true)));
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
        };
      });
    } finally {
      this.#running = false;
      await this.#unlock();
      this.#closed = true;
      await this.#o.cleanup?.();
    }
  }

  /**
   * A cycle for one project now, without jitter (the status API's "check now"). When a cycle is already running
   * for the project, its result is returned instead of starting a second one.
   */
  async runCycleNow(name: string): Promise<Report> {
    return this.#cycleNow(name, (slot) => this.#startManual(slot));
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
    return this.#lock();
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
        schedule: slot.plan.schedule,
        hot: slot.hot !== null,
        running: slot.inFlight !== null,
        tag: report?.tag ?? rec?.tag ?? null,
        status: report?.status ?? null,
        last_check_at: rec?.last_check_at ?? null,
        last_success_at: rec?.last_success_at ?? null,
        next_check_at: this.#running ? this.#nextCheck(slot) : (rec?.next_check_at ?? null),
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

  /** After a restart inside a tag's hot window, keep polling hot. */
  async #resumeHot(slot: Slot): Promise<void> {
    const tag = (await this.#store.latestReport(slot.project.name))?.tag;
    const rel = tag ? await this.#store.release(slot.project.name, tag) : null;
    if (rel) this.#updateHot(slot, rel.published_at, rel.first_seen);
  }

  #updateHot(slot: Slot, publishedAt: string | null, firstSeen: string): void {
    if (!this.#running || this.#stopping || !slot.task) return;
    const hot = isHot(slot.plan, publishedAt, firstSeen, this.#now());
    if (hot && !slot.hot) {
      slot.hotNextAt = Date.now() + slot.plan.hot_interval_ms;
      slot.hot = setInterval(() => {
        slot.hotNextAt = Date.now() + slot.plan.hot_interval_ms;
        this.#trigger(slot, "hot");
      }, slot.plan.hot_interval_ms);
      this.#log.info({ project: slot.project.name, every_ms: slot.plan.hot_interval_ms }, "hot polling on");
    } else if (!hot && slot.hot) {
      clearInterval(slot.hot);
      slot.hot = null;
      slot.hotNextAt = null;
      this.#log.info({ project: slot.project.name }, "hot polling off");
    }
  }

  #nextCheck(slot: Slot): string | null {
    if (!slot.task) return null;
    const cronNext = slot.task.getNextRun()?.getTime() ?? null;
    const candidates = [cronNext, slot.hotNextAt].filter((x): x is number => x !== null);
    return candidates.length ? new Date(Math.min(...candidates)).toISOString() : null;
  }

  // ------------------------------------------------------------ one cycle

  async #run(slot: Slot, trigger: CycleTrigger, jitter: boolean): Promise<CycleResult> {
    const stop = this.#stopAbort.signal;
    const name = slot.project.name;
    if (jitter && slot.plan.jitter_ms > 0) {
      try {
        await sleep(Math.floor(this.#random() * slot.plan.jitter_ms), stop);
      } catch {
        return { kind: "cancelled" };
      }
    }
    if (stop.aborted) return { kind: "cancelled" };
    // The global cap (scheduler.ts): wait for a slot; cycle_timeout counts from here.
    let release: () => void;
    try {
      release = await this.#scheduler.acquire(name, stop);
    } catch {
      return { kind: "cancelled" };
    }
    const started = this.#now();
    const t0 = performance.now();
    const ac = new AbortController();
    let timedOut = false;
    const onStop = () => ac.abort(new AppError("E_ABORTED", "shutting down"));
    stop.addEventListener("abort", onStop, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new AppError("E_ABORTED", `cycle timed out after ${slot.plan.cycle_timeout_ms} ms`));
    }, slot.plan.cycle_timeout_ms);
    let tag: string | null = null;
    const record = (outcome: CycleOutcome, status: Status | null, error: string | null): CycleRecord => ({
      project: name,
      tag,
      trigger,
      started_at: started.toISOString(),
      finished_at: this.#now().toISOString(),
      duration_ms: Math.round(performance.now() - t0),
      outcome,
      status,
      error,
    });
    try {
      const release = await raceAbort(this.#latest(slot, ac.signal), ac.signal);
      if (!release) {
        await this.#store.recordCycleFailure(record("no-release", null, null), this.#nextFor(slot, trigger));
        this.#metrics.cycles["no-release"]++;
        this.#metrics.last_successful_cycle_at = this.#now().toISOString();
        this.#log.info({ project: name, repo: slot.project.repo, trigger }, "no eligible release yet");
        return { kind: "no-release" };
      }
      tag = release.tag;
      const rel = await this.#store.noteRelease({
        project: name,
        tag: release.tag,
        version: release.version,
        published_at: release.published_at,
        now: this.#now().toISOString(),
      });
      let completed: Promise<Report> | null = null;
      const report = await raceAbort(
        this.#verify(this.#verifyDeps(), this.#o.loaded, slot.project, release.tag, {
          expectLatest: true,
          signal: ac.signal,
          // Queued crates.io API answers complete the report when they arrive (`watch --once` waits for them).
          ...(trigger === "once" ? {} : { onDeferred: (c: Promise<Report>) => void (completed = c) }),
        }),
        ac.signal,
      );
      if (ac.signal.aborted) throw ac.signal.reason;
      const cycle = record("ok", report.status, null);
      const alerts = await this.#serialCommit(slot, report, cycle, trigger);
      slot.committed++;
      if (completed) this.#completeLater(slot, completed, cycle, trigger, t0);
      this.#metrics.cycles.ok++;
      this.#metrics.last_successful_cycle_at = cycle.finished_at;
      this.#updateHot(slot, report.published_at ?? rel.published_at, rel.first_seen);
      this.#log.info(
        {
          project: name,
          tag: report.tag,
          trigger,
          status: report.status,
          duration_ms: cycle.duration_ms,
          channels: Object.fromEntries(report.channels.map((c) => [c.channel, c.status])),
          alerts,
        },
        "cycle",
      );
      emit(this.#listeners.cycle, this.#log, report, {
        project: name,
        trigger,
        duration_ms: cycle.duration_ms,
        alerts,
      });
      return { kind: "report", report };
    } catch (err) {
      const shutdown = stop.aborted && !timedOut;
      const outcome: CycleOutcome = timedOut ? "timeout" : "error";
      const message = timedOut ? `cycle timed out after ${slot.plan.cycle_timeout_ms} ms` : errorMessage(err);
      try {
        await this.#store.recordCycleFailure(
          record(outcome, null, shutdown ? "aborted by shutdown" : message),
          this.#nextFor(slot, trigger),
        );
      } catch (stateErr) {
        this.#log.error({ project: name, err: errorMessage(stateErr) }, "cannot record the failed cycle");
      }
      if (shutdown) return { kind: "cancelled" };
      this.#metrics.cycles[outcome]++;
      this.#log.warn(
        { project: name, tag, trigger, outcome, err: message, code: err instanceof AppError ? err.code : undefined },
        "cycle failed",
      );
      return { kind: "error", error: err };
    } finally {
      clearTimeout(timer);
      stop.removeEventListener("abort", onStop);
      release();
    }
  }

  /**
   * A committed report with queued crates.io API answers (pending findings): when they arrive, the completed report
   * is committed as its own cycle record, unless a newer cycle of the project has committed since or the daemon stops.
   */
  #completeLater(slot: Slot, completed: Promise<Report>, cycle: CycleRecord, trigger: CycleTrigger, t0: number): void {
    const generation = slot.committed;
    const name = slot.project.name;
    const done = raceAbort(completed, this.#stopAbort.signal).then(async (report) => {
      if (slot.committed !== generation || this.#stopping) return;
      const record: CycleRecord = {
        ...cycle,
        finished_at: this.#now().toISOString(),
        duration_ms: Math.round(performance.now() - t0),
        status: report.status,
      };
      const alerts = await this.#serialCommit(slot, report, record, trigger);
      slot.committed++;
      this.#log.info(
        { project: name, tag: report.tag, status: report.status, duration_ms: record.duration_ms, alerts },
        "cycle completed: the queued crates.io API answers arrived",
      );
      emit(this.#listeners.cycle, this.#log, report, {
        project: name,
        trigger,
        duration_ms: record.duration_ms,
        alerts,
      });
    });
    done.catch((err: unknown) => {
      if (!this.#stopping) this.#log.warn({ project: name, err: errorMessage(err) }, "cannot complete the report");
    });
  }

  /**
   * The latest release; when GitHub cannot list releases, the last tag we verified (so the cycle still runs and a
   * GitHub outage shows up as github probe failures, feeding registry-degraded detection).
   */
  async #latest(slot: Slot, signal: AbortSignal): Promise<LatestRelease | null> {
    try {
      return await findLatestRelease(this.#o.runtime, slot.project, slot.plan.include_prereleases, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const last = await this.#store.latestReport(slot.project.name);
      if (!last) throw err;
      this.#log.warn(
        { project: slot.project.name, tag: last.tag, err: errorMessage(err) },
        "cannot list releases; checking the last known tag",
      );
      return { tag: last.tag, version: last.version, published_at: last.published_at };
    }
  }

  #verifyDeps(): VerifyDeps {
    const rt = this.#o.runtime;
    return {
      http: rt.http,
      github: rt.github,
      endpoints: rt.endpoints,
      log: this.#log,
      now: this.#now,
      ...(rt.probes ? { probes: rt.probes } : {}),
      ...(rt.provenance ? { provenance: rt.provenance } : {}),
    };
  }

  async #latestReports(): Promise<Map<string, Report>> {
    if (this.#latestByProject === null) {
      const watched = new Set(this.#watched.map((w) => w.project));
      this.#latestByProject = new Map(
        (await this.#store.latestReports()).filter((r) => watched.has(r.project)).map((r) => [r.project, r]),
      );
    }
    return this.#latestByProject;
  }

  /** One commit at a time, in arrival order: no other cycle interleaves between reading and committing. */
  #serialCommit(slot: Slot, report: Report, cycle: CycleRecord, trigger: CycleTrigger): Promise<number> {
    const next = this.#commitQueue.then(() => this.#commit(slot, report, cycle, trigger));
    this.#commitQueue = next.catch(() => undefined);
    return next;
  }

  async #commit(slot: Slot, report: Report, cycle: CycleRecord, trigger: CycleTrigger): Promise<number> {
    const now = this.#now();
    const store = this.#store;
    const silences = await store.activeSilences(now);
    const statusUrl = this.#o.statusUrl?.(report.project) ?? null;
    const project = advanceIncidents({
      previous: await store.incidents(report.project),
      report,
      silences,
      policy: this.#policy,
      now,
      status_url: statusUrl,
    });
    const latest = new Map(await this.#latestReports());
    latest.set(report.project, report);
    const degraded = evaluateDegraded({
      previous: await store.incidents("*"),
      watched: this.#watched,
      latest,
      silences,
      policy: this.#policy,
      now,
      status_url: null,
    });
    // Rolled up per `group: release` sink here, at enqueue time (alerts/rollup.ts says why).
    const drafts = [...degraded.messages, ...project.messages];
    const routed = routeAlerts(drafts, this.#o.sinks);
    const messages = routed.messages;
    await store.commitCycle({
      report,
      incidents: project.incidents,
      degraded: degraded.incidents,
      messages,
      sinks: this.#o.sinks.map((s) => s.name),
      routes: routed.routes,
      cycle,
      next_check_at: this.#nextFor(slot, trigger),
    });
    (await this.#latestReports()).set(report.project, report);
    for (const id of caughtUpBypasses(silences, report)) {
      // A bypassed channel caught up with the release: its silence has done its job.
      if (await store.removeSilence(id))
        this.#log.info({ project: report.project, silence: id }, "bypass silence ended: channel caught up");
    }
    for (const m of messages) {
      this.#log.info(
        { project: m.incident.project, kind: m.kind, incident: m.incident.id, summary: m.summary },
        "alert queued",
      );
    }
    if (messages.length) this.#outbox.wake();
    return drafts.length;
  }

  #nextFor(slot: Slot, trigger: CycleTrigger): string | null {
    return trigger === "once" ? null : this.#nextCheck(slot);
  }

  // ------------------------------------------------------------ housekeeping

  async #lock(): Promise<void> {
    if (this.#o.lock === false || this.#locked) return;
    const holder = await this.#store.acquireDaemonLock(
      { instance: this.#instance, pid: process.pid, host: hostname(), now: this.#now(), staleMs: LOCK_STALE_MS },
      pidAlive,
    );
    if (holder) {
      throw new AppError(
        "E_STATE",
        `another monitor watch (pid ${holder.pid} on ${holder.host}, since ${holder.started_at}) uses ${this.#store.path}`,
      );
    }
    this.#locked = true;
  }

  async #unlock(): Promise<void> {
    if (!this.#locked) return;
    try {
      await this.#store.releaseDaemonLock(this.#instance);
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, "cannot release the daemon lock");
    }
    this.#locked = false;
  }

  async #heartbeat(): Promise<void> {
    try {
      await this.#store.heartbeat(this.#instance, this.#now());
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, "state heartbeat failed");
    }
  }

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
    for (const slot of this.#slots.values()) {
      if (slot.task) await slot.task.destroy();
      slot.task = null;
      if (slot.hot) clearInterval(slot.hot);
      slot.hot = null;
      slot.hotNextAt = null;
    }
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
    await this.#unlock();
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

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

function cronLogger(log: Logger) {
  const l = log.child({ component: "cron" });
  return {
    info: (m: string) => l.debug(m),
    warn: (m: string) => l.warn(m),
    error: (m: string | Error, err?: Error) => l.error({ err: errorMessage(err ?? m) }, "cron error"),
    debug: (m: string | Error) => l.debug(errorMessage(m)),
  };
}
