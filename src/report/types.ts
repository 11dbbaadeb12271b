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
  /** Was each channel's artefact built from the expected commit by an allowed workflow (absent: not checked). */
  provenance?: ProvenanceBlock;
  duration_ms: number;
}

/** `provenance.channels[]`: one channel's provenance verdict (docs/provenance.md). */
export interface ProvenanceChannelReport {
  channel: ChannelId;
  status: Status;
  signature: "verified" | "invalid" | "absent" | "unknown" | "not-applicable";
  repository: string | null;
  /** The workflow path the attestation names. */
  workflow: string | null;
  ref: string | null;
  commit: string | null;
  subjects_matched: boolean;
  /** Homebrew: no attestation of its own; the result is the GitHub assets' its sha256s match. */
  inherited_from?: string;
  /** Set when the channel has nothing to attest (a release without assets): why; status ok, signature not-applicable. */
  not_applicable?: string;
  findings: Finding[];
}

export interface ProvenanceBlock {
  expected: { repository: string; commit: string | null; workflows: string[] };
  status: Status;
  channels: ProvenanceChannelReport[];
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
