import type { ChannelId, ChannelRegistry } from "../channels/registry.ts";
import type { Finding, Status } from "../drift/types.ts";
import type { Evidence } from "../http/evidence.ts";

export const REPORT_SCHEMA = "release-monitor/report@1";

/** One channel in report@1. `observed` is what the channel says, in a per-channel summary shape. */
export interface ChannelReport {
  channel: ChannelId;
  status: Status;
  observed: Record<string, unknown> | null;
  findings: Finding[];
  evidence: Evidence[];
  grace_until?: string;
  duration_ms: number;
}

/** report@1: the one object `monitor verify --json` prints and the daemon/API reuse. */
export interface Report {
  schema: typeof REPORT_SCHEMA;
  project: string;
  repo: string;
  tag: string;
  version: string;
  checked_at: string;
  status: Status;
  /** GitHub release published_at, the start of every grace window. */
  published_at: string | null;
  channels: ChannelReport[];
  duration_ms: number;
}

/** A pure renderer. */
export interface Reporter {
  readonly id: "text" | "json" | "markdown";
  render(reports: readonly Report[], options: ReporterOptions): string;
}

export interface ReporterOptions {
  color: boolean;
  /** The channels whose summary lines render the report (default: the built-ins). */
  registry?: ChannelRegistry;
}
