import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { LoadedConfig } from "../config/load.ts";
import type { Daemon } from "../daemon/daemon.ts";
import { STATUSES } from "../drift/types.ts";
import { errorMessage } from "../errors.ts";
import type { ExchangeEvent } from "../http/client.ts";
import type { Logger } from "../log.ts";
import type { Report } from "../report/types.ts";
import type { StateStore } from "../state/types.ts";

/**
 * Prometheus metrics of one daemon, in a Registry of its own (never prom-client's global default registry).
 * Gauges describing state (channel status, incidents, outbox, last success) are read from the daemon and the state
 * store at scrape time, so they are right after a restart; counters and histograms follow the daemon's hooks.
 *
 *   release_monitor_channel_status{project,channel,status}      gauge, one-hot: 1 for the channel's current status
 *                                                               in the latest report, 0 for the other four
 *   release_monitor_project_status{project,status}              gauge, one-hot overall status of the latest report
 *   release_monitor_provenance_status{project,channel,status}   gauge, one-hot: the provenance verdict of the
 *                                                               channel (report@1 `provenance.channels[].status`)
 *                                                               whatever the policy; absent without a block
 *   release_monitor_release_info{project,tag,version}           gauge, 1: the release under watch
 *   release_monitor_open_incidents{project}                     gauge ("*" = registry-degraded incidents)
 *   release_monitor_channel_propagation_seconds{channel}        histogram, observed once when a channel first goes
 *                                                               live for a tag: live_at − GitHub published_at
 *   release_monitor_http_requests_total{host,status}            counter, outbound requests by status (304s
 *                                                               included; "error" = no response)
 *   release_monitor_http_request_duration_seconds{host}         histogram, outbound request durations
 *   release_monitor_http_request_errors_total{host,code}        counter: no response (code = error code, e.g.
 *                                                               E_HTTP_TIMEOUT) or a 429/5xx (code = http_<status>)
 *   release_monitor_alerts_sent_total{sink}                     counter
 *   release_monitor_alerts_failed_total{sink,outcome}           counter, outcome = retry | dead
 *   release_monitor_outbox_depth{sink}                          gauge, pending alert deliveries
 *   release_monitor_cycles_total{outcome}                       counter, outcome = ok | error | timeout |
 *                                                               no-release | skipped_overlap
 *   release_monitor_cycle_duration_seconds{project}             histogram, cycles that produced a report
 *   release_monitor_last_successful_cycle_timestamp_seconds     gauge, unix time (0 = none yet)
 *   release_monitor_leases_owned{project}                       gauge, cluster replicas only: 1 for a project this
 *                                                               replica holds the lease of, 0 for the others
 *   release_monitor_lease_takeovers_total                       counter, cluster replicas only: leases this replica
 *                                                               took over from another replica
 */

export type MetricsDaemon = Pick<Daemon, "status" | "metrics" | "onCycle" | "onExchange" | "onDelivery"> &
  Partial<Pick<Daemon, "leases">>;

export interface MetricsOptions {
  daemon: MetricsDaemon;
  store: StateStore;
  loaded: LoadedConfig;
  /** Where a failed state read during a scrape is reported (the scrape then omits those samples). */
  log?: Logger;
}

export interface DaemonMetricsRegistry {
  readonly registry: Registry;
  readonly contentType: string;
  /** The text exposition (format 0.0.4). */
  render(): Promise<string>;
  /** Unsubscribes from the daemon hooks. */
  close(): void;
}

export const PROPAGATION_BUCKETS = [60, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400, 172800, 604800];
export const HTTP_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
export const CYCLE_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function createMetrics(o: MetricsOptions): DaemonMetricsRegistry {
  const { daemon, store, loaded } = o;
  const safe = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      o.log?.warn({ err: errorMessage(err) }, "metrics: cannot read the daemon state");
      return fallback;
    }
  };
  const safeAsync = async <T>(fn: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      o.log?.warn({ err: errorMessage(err) }, "metrics: cannot read the daemon state");
      return fallback;
    }
  };
  const registry = new Registry();
  const registers = [registry];
  const projects = new Set(loaded.config.projects.map((p) => p.name));
  const latest = (): Promise<Report[]> =>
    safeAsync(async () => (await store.latestReports()).filter((r) => projects.has(r.project)), []);

  /** One-hot per (project, channel) over STATUSES, from each latest report's `channelsOf` list. */
  const channelStatusGauge = (
    name: string,
    help: string,
    channelsOf: (r: Report) => readonly { channel: string; status: string }[],
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["project", "channel", "status"] as const,
      registers,
      async collect() {
        const reports = await latest();
        this.reset();
        for (const r of reports) {
          for (const ch of channelsOf(r)) {
            for (const s of STATUSES)
              this.set({ project: r.project, channel: ch.channel, status: s }, ch.status === s ? 1 : 0);
          }
        }
      },
    });

  channelStatusGauge(
    "release_monitor_channel_status",
    "Current status of a channel of the release under watch, one-hot over ok|pending|drift|unknown|skipped.",
    (r) => r.channels,
  );

  new Gauge({
    name: "release_monitor_project_status",
    help: "Overall status of the release under watch (worst channel), one-hot over ok|pending|drift|unknown|skipped.",
    labelNames: ["project", "status"] as const,
    registers,
    async collect() {
      const reports = await latest();
      this.reset();
      for (const r of reports) {
        for (const s of STATUSES) this.set({ project: r.project, status: s }, r.status === s ? 1 : 0);
      }
    },
  });

  channelStatusGauge(
    "release_monitor_provenance_status",
    "Provenance verdict of a channel of the release under watch (whatever its policy), one-hot over ok|pending|drift|unknown|skipped.",
    (r) => r.provenance?.channels ?? [],
  );

  new Gauge({
    name: "release_monitor_release_info",
    help: "The release under watch per project (value always 1).",
    labelNames: ["project", "tag", "version"] as const,
    registers,
    async collect() {
      const reports = await latest();
      this.reset();
      for (const r of reports) this.set({ project: r.project, tag: r.tag, version: r.version }, 1);
    },
  });

  new Gauge({
    name: "release_monitor_open_incidents",
    help: 'Open incidents per project ("*": registry-degraded incidents).',
    labelNames: ["project"] as const,
    registers,
    async collect() {
      const open = await safeAsync(() => store.openIncidents(), []);
      this.reset();
      const counts = new Map<string, number>([...projects].map((p) => [p, 0]));
      for (const i of open) counts.set(i.project, (counts.get(i.project) ?? 0) + 1);
      for (const [project, n] of counts) this.set({ project }, n);
    },
  });

  const propagation = new Histogram({
    name: "release_monitor_channel_propagation_seconds",
    help: "Seconds from the GitHub release's published_at to the first check that saw the channel live (includes polling lag).",
    labelNames: ["channel"] as const,
    buckets: PROPAGATION_BUCKETS,
    registers,
  });

  const requests = new Counter({
    name: "release_monitor_http_requests_total",
    help: 'Outbound HTTP requests by host and response status (304 = revalidated from cache; "error" = no response).',
    labelNames: ["host", "status"] as const,
    registers,
  });

  const requestDuration = new Histogram({
    name: "release_monitor_http_request_duration_seconds",
    help: "Outbound HTTP request duration by host.",
    labelNames: ["host"] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });

  const requestErrors = new Counter({
    name: "release_monitor_http_request_errors_total",
    help: "Outbound HTTP requests that failed: no response (code = error code) or a 429/5xx answer (code = http_<status>).",
    labelNames: ["host", "code"] as const,
    registers,
  });

  const alertsSent = new Counter({
    name: "release_monitor_alerts_sent_total",
    help: "Alert deliveries a sink accepted.",
    labelNames: ["sink"] as const,
    registers,
  });

  const alertsFailed = new Counter({
    name: "release_monitor_alerts_failed_total",
    help: "Alert delivery attempts that failed: retry = will be tried again, dead = given up (dead-lettered).",
    labelNames: ["sink", "outcome"] as const,
    registers,
  });

  const knownSinks = (): string[] => Object.keys(safe(() => daemon.metrics().alerts, {}));
  for (const sink of knownSinks()) {
    alertsSent.inc({ sink }, 0);
    alertsFailed.inc({ sink, outcome: "retry" }, 0);
    alertsFailed.inc({ sink, outcome: "dead" }, 0);
  }

  new Gauge({
    name: "release_monitor_outbox_depth",
    help: "Alert deliveries waiting in the outbox per sink.",
    labelNames: ["sink"] as const,
    registers,
    async collect() {
      const depth = await safeAsync(() => store.outboxDepth(), {});
      this.reset();
      for (const sink of knownSinks()) this.set({ sink }, depth[sink] ?? 0);
      for (const [sink, n] of Object.entries(depth)) this.set({ sink }, n);
    },
  });

  const seenCycles = new Map<string, number>();
  new Counter({
    name: "release_monitor_cycles_total",
    help: "Check cycles by outcome (skipped_overlap: a trigger while the project's previous cycle still ran).",
    labelNames: ["outcome"] as const,
    registers,
    collect() {
      const cycles = safe(() => daemon.metrics().cycles, null);
      if (!cycles) return;
      for (const [outcome, n] of Object.entries(cycles)) {
        const delta = n - (seenCycles.get(outcome) ?? 0);
        if (delta > 0 || !seenCycles.has(outcome)) this.inc({ outcome }, Math.max(0, delta));
        seenCycles.set(outcome, n);
      }
    },
  });

  const cycleDuration = new Histogram({
    name: "release_monitor_cycle_duration_seconds",
    help: "Duration of check cycles that produced a report.",
    labelNames: ["project"] as const,
    buckets: CYCLE_BUCKETS,
    registers,
  });

  new Gauge({
    name: "release_monitor_last_successful_cycle_timestamp_seconds",
    help: "Unix time of the last successful check cycle of any project (0: none yet).",
    registers,
    async collect() {
      const last = await safeAsync(() => lastSuccess(daemon, store), null);
      const t = last ? Date.parse(last) : NaN;
      this.set(Number.isFinite(t) ? t / 1000 : 0);
    },
  });

  if (daemon.leases?.()) {
    new Gauge({
      name: "release_monitor_leases_owned",
      help: "1 for a project whose lease this replica holds, 0 for the others (cluster on PostgreSQL).",
      labelNames: ["project"] as const,
      registers,
      collect() {
        const owned = new Set(safe(() => daemon.leases?.()?.owned ?? [], []));
        this.reset();
        for (const project of projects) this.set({ project }, owned.has(project) ? 1 : 0);
      },
    });
    let seenTakeovers = 0;
    new Counter({
      name: "release_monitor_lease_takeovers_total",
      help: "Project leases this replica took over from another replica (a dead, frozen or partitioned owner).",
      registers,
      collect() {
        const n = safe(() => daemon.leases?.()?.takeovers ?? 0, 0);
        this.inc(Math.max(0, n - seenTakeovers));
        seenTakeovers = Math.max(seenTakeovers, n);
      },
    });
  }

  const onExchange = (e: ExchangeEvent): void => {
    requests.inc({ host: e.host, status: e.status === null ? "error" : String(e.status) });
    requestDuration.observe({ host: e.host }, Math.max(0, e.duration_ms) / 1000);
    if (e.status === null) requestErrors.inc({ host: e.host, code: e.error_code ?? "no_response" });
    else if (e.status === 429 || e.status >= 500) requestErrors.inc({ host: e.host, code: `http_${e.status}` });
  };

  const onCycle = (report: Report, info: { project: string; duration_ms: number }): void => {
    cycleDuration.observe({ project: info.project }, Math.max(0, info.duration_ms) / 1000);
    const published = report.published_at ? Date.parse(report.published_at) : NaN;
    if (!Number.isFinite(published)) return;
    void safeAsync(() => store.channelStates(report.project, report.tag), []).then((states) => {
      for (const s of states) {
        // live_at is set to the report's checked_at by the cycle that first saw the channel ok: observe exactly once.
        if (s.status !== "ok" || s.live_at === null || s.live_at !== report.checked_at) continue;
        propagation.observe({ channel: s.channel }, Math.max(0, (Date.parse(s.live_at) - published) / 1000));
      }
    });
  };

  const unsubscribe = [
    daemon.onExchange(onExchange),
    daemon.onCycle(onCycle),
    daemon.onDelivery((e) => {
      if (e.outcome === "sent") alertsSent.inc({ sink: e.sink });
      else alertsFailed.inc({ sink: e.sink, outcome: e.outcome });
    }),
  ];

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    close() {
      for (const off of unsubscribe.splice(0)) off();
    },
  };
}

async function lastSuccess(daemon: MetricsDaemon, store: StateStore): Promise<string | null> {
  const own = daemon.metrics().last_successful_cycle_at;
  if (own) return own;
  const times = (await store.projects())
    .map((p) => p.last_success_at)
    .filter((x): x is string => x !== null)
    .sort();
  return times.at(-1) ?? null;
}
