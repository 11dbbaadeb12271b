import { onAbort } from "../abort-fanout.ts";
import { caughtUpBypasses } from "../alerts/bypass.ts";
import {
  advanceIncidents,
  evaluateDegraded,
  reportHealth,
  type LifecyclePolicy,
  type ReportHealth,
  type WatchedProject,
} from "../alerts/lifecycle.ts";
import { raceAbort } from "../alerts/outbox.ts";
import { routeAlerts } from "../alerts/rollup.ts";
import type { Sink } from "../alerts/types.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ProjectConfig } from "../config/schema.ts";
import type { Status } from "../drift/types.ts";
import { AppError, errorMessage } from "../errors.ts";
import { sleep } from "../http/client.ts";
import type { Logger } from "../log.ts";
import type { Report } from "../report/types.ts";
import type { CycleOutcome, CycleRecord, CycleTrigger, StateStore } from "../state/types.ts";
import type { verifyRelease } from "../verify/run.ts";
import { type DeferredCompletion, type VerifyDeps } from "../verify/run.ts";
import { findLatestRelease, type LatestRelease } from "./latest-tag.ts";
import type { CycleScheduler } from "./scheduler.ts";
import type { WatchPlan } from "./watch-settings.ts";

/**
 * One project's cycle, start to end:
 *
 *   jitter -> a slot of the global cap -> latest release tag (GitHub releases list) -> verifyRelease(expectLatest)
 *     -> lifecycle (pure) -> one state transaction (channel states, report, incidents, outbox rows, cycle record)
 *     -> outbox wakes
 *
 * Every cycle is bounded by cycle_timeout (counted from its slot), so one project's failure never stalls another.
 * Commits run one at a time, so no other cycle interleaves between reading incidents and committing them.
 */

export type VerifyFn = typeof verifyRelease;

export type CycleResult =
  | { kind: "report"; report: Report }
  | { kind: "no-release" }
  | { kind: "error"; error: unknown }
  | { kind: "cancelled" };

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

/** What a cycle needs to know about its project's schedule. */
export interface CycleTarget {
  project: ProjectConfig;
  plan: WatchPlan;
  /** The next scheduled check (ISO), written with the cycle record. */
  nextCheck(): string | null;
  /** Hot polling follows the tag's age after each report. */
  updateHot(publishedAt: string | null, firstSeen: string): void;
}

export interface CycleRunnerOptions {
  loaded: LoadedConfig;
  runtime: Omit<VerifyDeps, "log" | "now" | "probes"> & Partial<Pick<VerifyDeps, "probes">>;
  store: StateStore;
  sinks: readonly Sink[];
  log: Logger;
  now: () => Date;
  random: () => number;
  verify: VerifyFn;
  scheduler: CycleScheduler;
  policy: LifecyclePolicy;
  watched: readonly WatchedProject[];
  /** Shared with the daemon (metrics()). */
  metrics: DaemonMetrics;
  statusUrl?: (project: string) => string | null;
  /** After every committed cycle with its report. */
  onCommitted: (report: Report, info: CycleInfo) => void;
  /** Messages were queued: the outbox should look now. */
  onQueued: () => void;
  /**
   * Cluster: the lease generation a cycle of `project` runs under (undefined: not owned, the cycle does not run).
   * The commit carries it, so a fenced store rejects it once the lease has moved on.
   */
  fence?: (project: string) => number | undefined;
}

export class CycleRunner {
  readonly #o: CycleRunnerOptions;
  /** Commits run one at a time: from reading the incidents to committing them no other cycle interleaves. */
  #commitQueue: Promise<unknown> = Promise.resolve();
  /**
   * What the degraded checks read of each watched project's latest report (reportHealth), read from the store
   * once and kept current by #commit.
   */
  #latestByProject: Map<string, ReportHealth> | null = null;
  /** Reports committed per project: a late completion commits only if no newer report came first. */
  readonly #committed = new Map<string, number>();
  /**
   * Per project, the completion still waiting for queued crates.io API answers (at most one: the newest cycle's).
   */
  readonly #pending = new Map<string, DeferredCompletion>();

  constructor(options: CycleRunnerOptions) {
    this.#o = options;
  }

  /** `lease` aborts (E_LEASE_LOST) when the project's lease is lost: the cycle stops before its next write. */
  async run(
    target: CycleTarget,
    trigger: CycleTrigger,
    jitter: boolean,
    stop: AbortSignal,
    lease?: AbortSignal,
  ): Promise<CycleResult> {
    const o = this.#o;
    const name = target.project.name;
    if (jitter && target.plan.jitter_ms > 0) {
      try {
        await sleep(Math.floor(o.random() * target.plan.jitter_ms), stop);
      } catch {
        return { kind: "cancelled" };
      }
    }
    if (stop.aborted) return { kind: "cancelled" };
    // The global cap (scheduler.ts): wait for a slot; cycle_timeout counts from here.
    let release: () => void;
    try {
      release = await o.scheduler.acquire(name, stop);
    } catch {
      return { kind: "cancelled" };
    }
    const generation = o.fence?.(name);
    if ((o.fence && generation === undefined) || lease?.aborted) {
      release();
      return { kind: "cancelled" };
    }
    const started = o.now();
    const t0 = performance.now();
    const ac = new AbortController();
    let timedOut = false;
    // onAbort: every cycle of a tick shares the stop signal (a listener each made a tick O(N²), abort-fanout.ts).
    const offStop = onAbort(stop, () => ac.abort(new AppError("E_ABORTED", "shutting down")));
    const offLease = onAbort(lease, () => ac.abort(lease?.reason));
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new AppError("E_ABORTED", `cycle timed out after ${target.plan.cycle_timeout_ms} ms`));
    }, target.plan.cycle_timeout_ms);
    let tag: string | null = null;
    const record = (outcome: CycleOutcome, status: Status | null, error: string | null): CycleRecord => ({
      project: name,
      tag,
      trigger,
      started_at: started.toISOString(),
      finished_at: o.now().toISOString(),
      duration_ms: Math.round(performance.now() - t0),
      outcome,
      status,
      error,
    });
    const next = () => (trigger === "once" ? null : target.nextCheck());
    try {
      const release = await raceAbort(this.#latest(target, ac.signal), ac.signal);
      if (!release) {
        await o.store.recordCycleFailure(record("no-release", null, null), next());
        o.metrics.cycles["no-release"]++;
        o.metrics.last_successful_cycle_at = o.now().toISOString();
        o.log.info({ project: name, repo: target.project.repo, trigger }, "no eligible release yet");
        return { kind: "no-release" };
      }
      tag = release.tag;
      const rel = await o.store.noteRelease({
        project: name,
        tag: release.tag,
        version: release.version,
        published_at: release.published_at,
        now: o.now().toISOString(),
      });
      let completed: DeferredCompletion | null = null;
      const report = await raceAbort(
        o.verify(this.#verifyDeps(), o.loaded, target.project, release.tag, {
          expectLatest: true,
          signal: ac.signal,
          ...(release.list ? { releaseList: release.list } : {}),
          // Queued crates.io API answers complete the report when they arrive (`watch --once` waits for them).
          ...(trigger === "once" ? {} : { onDeferred: (c: DeferredCompletion) => void (completed = c) }),
        }),
        ac.signal,
      );
      if (ac.signal.aborted) throw ac.signal.reason;
      const cycle = record("ok", report.status, null);
      const alerts = await this.#serialCommit(report, cycle, next, generation);
      this.#committed.set(name, (this.#committed.get(name) ?? 0) + 1);
      // This commit supersedes an older cycle's completion: release what it holds now, not when its answer comes.
      this.#supersede(name);
      if (completed) this.#completeLater(target, completed, { cycle, trigger, t0, next, generation, stop, lease });
      o.metrics.cycles.ok++;
      o.metrics.last_successful_cycle_at = cycle.finished_at;
      target.updateHot(report.published_at ?? rel.published_at, rel.first_seen);
      o.log.info(
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
      o.onCommitted(report, { project: name, trigger, duration_ms: cycle.duration_ms, alerts });
      return { kind: "report", report };
    } catch (err) {
      if (lease?.aborted || isLeaseLost(err)) {
        // Not ours any more: nothing to record (a fenced store would refuse it); the new owner carries on.
        o.log.warn({ project: name, tag, trigger, code: "E_LEASE_LOST", err: errorMessage(err) }, "cycle abandoned");
        return { kind: "cancelled" };
      }
      const shutdown = stop.aborted && !timedOut;
      const outcome: CycleOutcome = timedOut ? "timeout" : "error";
      const message = timedOut ? `cycle timed out after ${target.plan.cycle_timeout_ms} ms` : errorMessage(err);
      try {
        await o.store.recordCycleFailure(record(outcome, null, shutdown ? "aborted by shutdown" : message), next());
      } catch (stateErr) {
        o.log.error({ project: name, err: errorMessage(stateErr) }, "cannot record the failed cycle");
      }
      if (shutdown) return { kind: "cancelled" };
      o.metrics.cycles[outcome]++;
      o.log.warn(
        { project: name, tag, trigger, outcome, err: message, code: err instanceof AppError ? err.code : undefined },
        "cycle failed",
      );
      return { kind: "error", error: err };
    } finally {
      clearTimeout(timer);
      offStop();
      offLease();
      release();
    }
  }

  /**
   * A committed report with queued crates.io API answers (pending findings): when they arrive, the completed report
   * is committed as its own cycle record, unless a newer cycle of the project has committed since, the daemon stops
   * or (cluster) the lease was lost; the commit carries the cycle's lease generation, so a fenced store refuses it
   * once the lease has moved on.
   */
  /** Completions waiting now (tests and the bench: at most one per project). */
  pendingCompletions(): number {
    return this.#pending.size;
  }

  /** Drops and releases the completion `name` still waits on, if any (superseded, stopped or its lease lost). */
  #supersede(name: string): void {
    const older = this.#pending.get(name);
    if (!older) return;
    this.#pending.delete(name);
    older.release();
  }

  #completeLater(
    target: CycleTarget,
    completion: DeferredCompletion,
    c: {
      cycle: CycleRecord;
      trigger: CycleTrigger;
      t0: number;
      next: () => string | null;
      generation: number | undefined;
      stop: AbortSignal;
      lease: AbortSignal | undefined;
    },
  ): void {
    const o = this.#o;
    const name = target.project.name;
    const seen = this.#committed.get(name) ?? 0;
    const gone = () => c.stop.aborted || c.lease?.aborted === true || (this.#committed.get(name) ?? 0) !== seen;
    const forget = () => {
      if (this.#pending.get(name) === completion) this.#supersede(name);
    };
    if (c.stop.aborted) {
      completion.release();
      return;
    }
    this.#pending.set(name, completion);
    // A released completion resolves null at once: stopping or losing the lease ends the wait (onAbort: every
    // pending completion of a cold tick shares the stop signal).
    const offStop = onAbort(c.stop, forget);
    const offLease = onAbort(c.lease, forget);
    const done = completion.completed.then(async (report) => {
      offStop();
      offLease();
      forget();
      if (report === null || gone()) return;
      const record: CycleRecord = {
        ...c.cycle,
        finished_at: o.now().toISOString(),
        duration_ms: Math.round(performance.now() - c.t0),
        status: report.status,
      };
      const alerts = await this.#serialCommit(report, record, c.next, c.generation);
      this.#committed.set(name, (this.#committed.get(name) ?? 0) + 1);
      o.log.info(
        { project: name, tag: report.tag, status: report.status, duration_ms: record.duration_ms, alerts },
        "cycle completed: the queued crates.io API answers arrived",
      );
      o.onCommitted(report, { project: name, trigger: c.trigger, duration_ms: record.duration_ms, alerts });
    });
    done.catch((err: unknown) => {
      if (!c.stop.aborted) o.log.warn({ project: name, err: errorMessage(err) }, "cannot complete the report");
    });
  }

  /**
   * The latest release; when GitHub cannot list releases, the last tag we verified (so the cycle still runs and a
   * GitHub outage shows up as github probe failures, feeding registry-degraded detection).
   */
  async #latest(target: CycleTarget, signal: AbortSignal): Promise<LatestRelease | null> {
    try {
      return await findLatestRelease(this.#o.runtime, target.project, target.plan.include_prereleases, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const last = await this.#o.store.latestReport(target.project.name);
      if (!last) throw err;
      this.#o.log.warn(
        { project: target.project.name, tag: last.tag, err: errorMessage(err) },
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
      log: this.#o.log,
      now: this.#o.now,
      ...(rt.probes ? { probes: rt.probes } : {}),
      ...(rt.provenance ? { provenance: rt.provenance } : {}),
    };
  }

  async #latestReports(): Promise<Map<string, ReportHealth>> {
    if (this.#latestByProject === null) {
      const watched = new Set(this.#o.watched.map((w) => w.project));
      this.#latestByProject = new Map(
        (await this.#o.store.latestReports())
          .filter((r) => watched.has(r.project))
          .map((r) => [r.project, reportHealth(r)]),
      );
    }
    return this.#latestByProject;
  }

  /** One commit at a time, in arrival order: no other cycle interleaves between reading and committing. */
  #serialCommit(
    report: Report,
    cycle: CycleRecord,
    nextCheckAt: () => string | null,
    generation: number | undefined,
  ): Promise<number> {
    const next = this.#commitQueue.then(() => this.#commit(report, cycle, nextCheckAt, generation));
    this.#commitQueue = next.catch(() => undefined);
    return next;
  }

  async #commit(
    report: Report,
    cycle: CycleRecord,
    nextCheckAt: () => string | null,
    generation: number | undefined,
  ): Promise<number> {
    const o = this.#o;
    const now = o.now();
    const store = o.store;
    const silences = await store.activeSilences(now);
    const statusUrl = o.statusUrl?.(report.project) ?? null;
    const project = advanceIncidents({
      previous: await store.incidents(report.project),
      report,
      silences,
      policy: o.policy,
      now,
      status_url: statusUrl,
    });
    // This report over the ones committed before (a view, not a copy: a copy per commit was O(N) each).
    const committed = await this.#latestReports();
    const latest = { get: (p: string) => (p === report.project ? report : committed.get(p)) };
    const degraded = evaluateDegraded({
      previous: await store.incidents("*"),
      watched: o.watched,
      latest,
      silences,
      policy: o.policy,
      now,
      status_url: null,
    });
    // Rolled up per `group: release` sink here, at enqueue time (alerts/rollup.ts says why).
    const drafts = [...degraded.messages, ...project.messages];
    const routed = routeAlerts(drafts, o.sinks);
    const messages = routed.messages;
    await store.commitCycle({
      report,
      incidents: project.incidents,
      degraded: degraded.incidents,
      messages,
      sinks: o.sinks.map((s) => s.name),
      routes: routed.routes,
      cycle,
      next_check_at: nextCheckAt(),
      ...(generation !== undefined ? { generation } : {}),
    });
    (await this.#latestReports()).set(report.project, reportHealth(report));
    for (const id of caughtUpBypasses(silences, report)) {
      // A bypassed channel caught up with the release: its silence has done its job.
      if (await store.removeSilence(id))
        o.log.info({ project: report.project, silence: id }, "bypass silence ended: channel caught up");
    }
    for (const m of messages) {
      o.log.info(
        { project: m.incident.project, kind: m.kind, incident: m.incident.id, summary: m.summary },
        "alert queued",
      );
    }
    if (messages.length) o.onQueued();
    return drafts.length;
  }
}

function isLeaseLost(err: unknown): boolean {
  return err instanceof AppError && err.code === "E_LEASE_LOST";
}
