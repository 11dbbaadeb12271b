import type { ChannelRegistry } from "../channels/registry.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { Daemon } from "../daemon/daemon.ts";
import type { Logger } from "../log.ts";
import type { StateStore } from "../state/types.ts";

/** What the server uses of the daemon (a Daemon satisfies it). */
export type DaemonView = Pick<Daemon, "status" | "runCycleNow" | "metrics" | "onCycle" | "onExchange" | "onDelivery"> &
  Partial<Pick<Daemon, "leases">>;

export interface ServerOptions {
  daemon: DaemonView;
  store: StateStore;
  loaded: LoadedConfig;
  log: Logger;
  /** host:port; defaults to settings.server.listen. Port 0 picks a free port (tests). */
  listen?: string;
  /** Clock for relative times and readiness (default: the wall clock). */
  now?: () => Date;
  /** How long close() lets in-flight requests finish before cutting their connections (default 2 s). */
  closeGraceMs?: number;
  /** The channels the config was loaded with: one status-page column each (default: the built-ins). */
  registry?: ChannelRegistry;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080` (no trailing slash). */
  url: string;
  close(): Promise<void>;
}
