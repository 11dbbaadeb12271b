/**
 * Opens the state a loaded config names: PostgreSQL when settings.state.url is set (the `pg` driver is loaded only
 * then), else SQLite at `<config dir>/<state_dir>/monitor.db`, exactly as before. A daemon replica gets a fenced
 * PostgreSQL store with its LeaseKeeper; a tool (`monitor silence`, `monitor release`) an unfenced one.
 */
import { hostname } from "node:os";
import type pg from "pg";
import type { LoadedConfig } from "../config/load.ts";
import { parseDuration } from "../config/duration.ts";
import { AppError, errorMessage } from "../errors.ts";
import type { LeaseKeeper } from "./postgres/leases.ts";
import type { PostgresStateStore } from "./postgres/store.ts";
import { openStateStore, stateDbPath } from "./sqlite.ts";
import type { StateStore } from "./types.ts";

export interface OpenConfiguredStateOptions {
  /** `daemon`: a replica (fenced by its leases on PostgreSQL); `tool`: never runs cycles or delivers. */
  role: "daemon" | "tool";
  /** The replica id (default $MONITOR_REPLICA_ID, else `<host>-<pid>`); PostgreSQL only. */
  replicaId?: string;
  env?: NodeJS.ProcessEnv;
}

/** The cluster side of a PostgreSQL state: the lease keeper (daemon role only) and its timings. */
export interface ClusterState {
  readonly store: PostgresStateStore;
  readonly pool: pg.Pool;
  readonly keeper: LeaseKeeper | null;
  readonly replicaId: string;
  readonly leaseRenewMs: number;
  readonly leaseTtlMs: number;
}

export type ConfiguredState =
  | { readonly kind: "sqlite"; readonly store: StateStore; readonly path: string; readonly cluster: null }
  | {
      readonly kind: "postgres";
      readonly store: PostgresStateStore;
      readonly path: string;
      readonly cluster: ClusterState;
    };

export async function openConfiguredState(
  loaded: Pick<LoadedConfig, "config" | "baseDir" | "secrets">,
  o: OpenConfiguredStateOptions,
): Promise<ConfiguredState> {
  const settings = loaded.config.settings;
  const url = settings.state.url;
  if (url === undefined) {
    const path = stateDbPath(loaded.baseDir, settings.state_dir);
    return { kind: "sqlite", store: openStateStore(path), path, cluster: null };
  }
  const env = o.env ?? process.env;
  const replicaId = o.replicaId ?? (env["MONITOR_REPLICA_ID"] || `${hostname()}-${process.pid}`);
  const leaseRenewMs = parseDuration(settings.state.lease_renew) ?? 10_000;
  const leaseTtlMs = parseDuration(settings.state.lease_ttl) ?? 30_000;
  const path = displayName(url);
  const redact = (err: unknown): AppError => {
    const message = loaded.secrets.redact(errorMessage(err));
    return err instanceof AppError
      ? new AppError(err.code, message, err.details ? { details: err.details } : undefined)
      : new AppError("E_STATE", `cannot use the PostgreSQL state database ${path}: ${message}`);
  };
  const [{ default: pgModule }, { LeaseKeeper }, { openPostgresState }, { createStatePool }] = await Promise.all([
    import("pg"),
    import("./postgres/leases.ts"),
    import("./postgres/store.ts"),
    import("./postgres/pool.ts"),
  ]);
  const pool = createStatePool(pgModule, { url, max: 10, leaseTtlMs });
  try {
    const keeper =
      o.role === "daemon"
        ? new LeaseKeeper(pool, { replicaId, host: hostname(), pid: process.pid, ttlMs: leaseTtlMs })
        : null;
    const store = await openPostgresState(pool, {
      fencing: keeper ?? "unfenced",
      replicaId,
      leaseTtlMs,
      displayName: path,
    });
    return {
      kind: "postgres",
      store,
      path,
      cluster: { store, pool, keeper, replicaId, leaseRenewMs, leaseTtlMs },
    };
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw redact(err);
  }
}

/** `PostgreSQL <host>:<port>/<db>`: no credentials, and never the configured URL itself (a registered secret). */
function displayName(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL ${u.host}${u.pathname}`;
  } catch {
    return "PostgreSQL";
  }
}
