import { closeSink, createSink, sinkConfigIssues } from "../alerts/sinks/registry.ts";
import type { Sink } from "../alerts/types.ts";
import type { LoadedConfig } from "../config/load.ts";
import { createRuntime, type Runtime } from "../runtime/runtime.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { openConfiguredState, type ClusterState } from "../state/open.ts";
import { openStateStore, stateDbPath } from "../state/sqlite.ts";
import type { StateStore } from "../state/types.ts";
import { ClusterMembership } from "./cluster.ts";
import { Daemon, type DaemonOptions } from "./daemon.ts";

export interface CreateDaemonOptions {
  logLevel?: string;
  logDestination?: { write(line: string): void };
  /** Use these sinks instead of settings.alerts.sinks (tests). */
  sinks?: readonly Sink[];
  /** Daemon tuning (drain bounds, clock, jitter source). */
  daemon?: Partial<
    Pick<
      DaemonOptions,
      "cycleDrainMs" | "flushMs" | "idlePollMs" | "now" | "random" | "scheduler" | "statusUrl" | "verify"
    >
  >;
  /**
   * `watch --once`: on a cluster state, take the leases nobody holds, run those projects, give them back, and leave
   * the ones a live replica owns to it (ClusterMembership's once mode).
   */
  once?: boolean;
}

export interface DaemonBundle {
  daemon: Daemon;
  store: StateStore;
  runtime: Runtime;
}

/**
 * Wires a Daemon from a loaded config: the state db at `<config dir>/<state_dir>/monitor.db`, a runtime whose HTTP
 * client revalidates through the persistent validator cache (steady-state cycles cost 304s), the configured sinks.
 * The daemon owns them all: stop() / runOnce() close sinks, HTTP client and db.
 */
export function createDaemon(loaded: LoadedConfig, options: CreateDaemonOptions = {}): DaemonBundle {
  if (options.sinks === undefined) checkSinks(loaded);
  const store = openStateStore(stateDbPath(loaded.baseDir, loaded.config.settings.state_dir));
  return wire(loaded, options, store, null);
}

/**
 * The daemon the config names: createDaemon's SQLite daemon, or with settings.state.url a cluster replica on the
 * shared PostgreSQL state (replica id from MONITOR_REPLICA_ID, else `<host>-<pid>`), owning projects by lease.
 */
export async function openDaemon(loaded: LoadedConfig, options: CreateDaemonOptions = {}): Promise<DaemonBundle> {
  if (loaded.config.settings.state.url === undefined) return createDaemon(loaded, options);
  if (options.sinks === undefined) checkSinks(loaded);
  const state = await openConfiguredState(loaded, { role: "daemon" });
  if (state.kind !== "postgres") return wire(loaded, options, state.store, null);
  return wire(loaded, options, state.store, state.cluster);
}

function wire(
  loaded: LoadedConfig,
  options: CreateDaemonOptions,
  store: StateStore,
  cluster: ClusterState | null,
): DaemonBundle {
  let daemon: Daemon | null = null;
  let runtime: Runtime | null = null;
  try {
    runtime = createRuntime(loaded, {
      cache: store.validatorCache,
      attestationCache: store.attestations,
      onExchange: (e) => daemon?.recordExchange(e),
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    });
    const rt = runtime;
    const sinks = options.sinks ?? buildSinks(loaded, rt.log, rt);
    const keeper = cluster?.keeper ?? null;
    daemon = new Daemon({
      loaded,
      runtime: rt,
      store,
      sinks,
      log: rt.log,
      ...options.daemon,
      ...(cluster && keeper
        ? {
            cluster: {
              membership: new ClusterMembership({
                keeper,
                lock: cluster.store,
                projects: loaded.config.projects.map((p) => p.name),
                renewMs: cluster.leaseRenewMs,
                ttlMs: cluster.leaseTtlMs,
                log: rt.log,
                ...(options.once ? { once: true } : {}),
              }),
              manual: cluster.store,
            },
          }
        : {}),
      cleanup: async () => {
        await Promise.allSettled(sinks.map((s) => closeSink(s)));
        await rt.close();
        await store.close();
      },
    });
    return { daemon, store, runtime: rt };
  } catch (err) {
    void runtime?.close();
    void store.close();
    throw err;
  }
}

/** A sink that could never deliver (a missing ergo directory, no GitHub token) is a config error at start (exit 2). */
export function checkSinks(loaded: LoadedConfig): void {
  const issues = sinkConfigIssues(loaded.config.settings.alerts.sinks, {
    baseDir: loaded.baseDir,
    githubToken: loaded.githubToken !== null,
  });
  if (issues.length) throw new ConfigError(issues, loaded.source);
}

/** settings.alerts.sinks -> Sink instances. Names key the outbox, so they must be unique. */
export function buildSinks(loaded: LoadedConfig, log: Logger, runtime: Pick<Runtime, "github" | "http">): Sink[] {
  const configs = loaded.config.settings.alerts.sinks;
  const seen = new Set<string>();
  const issues: string[] = [];
  configs.forEach((c, i) => {
    if (seen.has(c.name))
      issues.push(`settings.alerts.sinks[${i}].name: duplicate sink name "${c.name}" (set name: to tell them apart)`);
    seen.add(c.name);
  });
  if (issues.length) throw new ConfigError(issues, loaded.source);
  // Sinks that talk to GitHub share the probes' HTTP client and Octokit (one agent, limits, redaction).
  const octokit = runtime.github(runtime.http);
  const projectRepos = new Map(loaded.config.projects.map((p) => [p.name, p.repo]));
  return configs.map((c) =>
    createSink(c, {
      log: log.child({ sink: c.name }),
      secrets: loaded.secrets,
      baseDir: loaded.baseDir,
      projectRepos,
      octokit,
    }),
  );
}
