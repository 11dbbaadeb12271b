/**
 * Pure: each channel's gathered provenance + policy + grace + mirror absence → the report@1 `provenance` block and
 * the findings added to `channels[].findings`. The block's statuses are the provenance verdict whatever the policy;
 * the policy decides what the channel findings weigh: `required` → drift (pending in grace), `warn` → `warning`
 * (the channel status does not change), `off` → nothing fetched, the block's channel is `skipped`.
 */
import type { ChannelId } from "../channels/registry.ts";
import { worstStatus, type Finding, type FindingSeverity, type Status } from "../drift/types.ts";
import type { ProvenanceBlock, ProvenanceChannelReport, Report } from "../report/types.ts";
import type { ProvenanceFinding, SignatureStatus } from "./compare.ts";
import type { ProvenanceExpectations, ProvenanceLevel } from "./expected.ts";
import type { Gathered } from "./gather.ts";

export interface AssessInput {
  readonly expectations: ProvenanceExpectations;
  readonly commit: string | null;
  /** Per channel in the report: its gathered evidence, or `off` (policy), or `unchecked` (not configured). */
  readonly channels: readonly { readonly channel: ChannelId; readonly gathered: Gathered | "off" | "skipped" }[];
  readonly now: Date;
  readonly publishedAt: string | null;
  readonly mirrorAbsence: "unknown" | "drift";
  /** The channel statuses before provenance (a channel pending on propagation is pending here too). */
  readonly channelStatus: Readonly<Partial<Record<ChannelId, Status>>>;
}

const ABSENCE = new Set<ProvenanceFinding["code"]>(["provenance-missing"]);

function signatureOf(g: Gathered): SignatureStatus {
  const sigs = g.items.map((i) => i.compared.result.signature);
  if (sigs.length === 0) return "unknown";
  for (const s of ["invalid", "absent", "unknown"] as const) if (sigs.includes(s)) return s;
  return sigs.every((s) => s === "not-applicable") ? "not-applicable" : "verified";
}

function firstOf<K extends "repository" | "workflow" | "ref" | "commit">(g: Gathered, key: K): string | null {
  for (const i of g.items) {
    const v = i.compared.result[key];
    if (v !== null) return v;
  }
  return null;
}

interface Weighed {
  readonly report: ProvenanceChannelReport;
  readonly channelFindings: Finding[];
}

function weigh(input: AssessInput, channel: ChannelId, g: Gathered): Weighed {
  if (g.notApplicable !== undefined && g.items.length === 0 && g.findings.length === 0) {
    return {
      report: { ...skipped(channel), status: "ok", not_applicable: g.notApplicable },
      channelFindings: [],
    };
  }
  const policy: ProvenanceLevel = input.expectations.policy[channel] ?? "warn";
  const publisherLevel =
    (input.expectations.trustedPublisher as Readonly<Record<string, ProvenanceLevel>>)[channel] ?? policy;
  const publisherCodes = new Set(g.publisherCodes ?? []);
  const started = input.publishedAt === null ? null : Date.parse(input.publishedAt);
  const inGrace = started !== null && input.now.getTime() < started + input.expectations.graceMs;
  const absenceUnknown = g.absenceUnknown === true && input.mirrorAbsence === "unknown";
  let dropped = false;
  const raw = [
    ...[...g.items.flatMap((i) => i.compared.findings), ...g.findings].map((f) => ({
      f,
      absence: ABSENCE.has(f.code),
    })),
    ...(g.absenceFindings ?? []).map((f) => ({ f, absence: true })),
  ];
  const kept: { f: ProvenanceFinding; pending: boolean }[] = [];
  for (const { f, absence } of raw) {
    if (absence && absenceUnknown) {
      dropped = true; // a mirror may strip attestations: absence proves nothing, never a false drift
      continue;
    }
    kept.push({ f, pending: inGrace && (absence || f.code === "provenance-downgrade") });
  }
  const signature = signatureOf(g);
  let status: Status;
  if (g.nothing !== undefined && g.items.length === 0) {
    status = input.channelStatus[channel] === "pending" ? "pending" : "unknown";
  } else if (kept.some((k) => !k.pending)) status = "drift";
  else if (kept.length > 0) status = "pending";
  else if (dropped || g.unknown !== undefined || g.items.some((i) => i.compared.result.signature === "unknown"))
    status = "unknown";
  // No expected commit (build metadata not found, no tag commit): the commit was not checked, so not ok.
  else if (input.commit === null && g.items.some((i) => i.compared.result.commit !== null)) status = "unknown";
  else status = "ok";
  const findings: Finding[] = kept.map(({ f, pending }) => {
    const level = publisherCodes.has(f.code) ? publisherLevel : policy;
    const severity: FindingSeverity = level === "required" ? (pending ? "pending" : "drift") : "warning";
    return {
      code: f.code,
      severity,
      message: f.message,
      ...(f.subject !== undefined ? { subject: f.subject } : {}),
      ...(f.expected !== undefined ? { expected: f.expected } : {}),
      ...(f.actual !== undefined ? { actual: f.actual } : {}),
      ...(pending ? { in_grace: true } : {}),
    };
  });
  return {
    report: {
      channel,
      status,
      signature,
      repository: firstOf(g, "repository"),
      workflow: firstOf(g, "workflow"),
      ref: firstOf(g, "ref"),
      commit: firstOf(g, "commit"),
      subjects_matched: g.items.length > 0 && g.items.every((i) => i.compared.result.subjects_matched),
      ...(g.inherited ? { inherited_from: g.inherited } : {}),
      findings,
    },
    channelFindings: findings,
  };
}

function skipped(channel: ChannelId): ProvenanceChannelReport {
  return {
    channel,
    status: "skipped",
    signature: "not-applicable",
    repository: null,
    workflow: null,
    ref: null,
    commit: null,
    subjects_matched: false,
    findings: [],
  };
}

/** The block and, per channel, the findings to add to `channels[].findings`. */
/** The block, the findings to add to `channels[].findings`, and the `required` channels whose proof is unknown. */
export interface Assessed {
  block: ProvenanceBlock;
  findings: Partial<Record<ChannelId, Finding[]>>;
  /** Channels under `required` whose provenance could not be told (e.g. no trusted root): they become unknown. */
  unknownRequired?: readonly ChannelId[];
}

export function assessProvenance(input: AssessInput): Assessed {
  const channels: ProvenanceChannelReport[] = [];
  const findings: Partial<Record<ChannelId, Finding[]>> = {};
  const unknownRequired: ChannelId[] = [];
  for (const c of input.channels) {
    if (c.gathered === "off" || c.gathered === "skipped") {
      channels.push(skipped(c.channel));
      continue;
    }
    const w = weigh(input, c.channel, c.gathered);
    channels.push(w.report);
    if (w.channelFindings.length > 0) findings[c.channel] = w.channelFindings;
    if (w.report.status === "unknown" && (input.expectations.policy[c.channel] ?? "warn") === "required")
      unknownRequired.push(c.channel);
  }
  return {
    block: {
      expected: {
        repository: input.expectations.repository,
        commit: input.commit,
        workflows: [...input.expectations.workflows],
      },
      status: worstStatus(channels.map((c) => c.status)),
      channels,
    },
    findings,
    unknownRequired,
  };
}

/** Merge the block into a report: findings appended, channel and report status recomputed (warnings weigh nothing). */
export function withProvenance(report: Report, assessed: Assessed): Report {
  const unknown = new Set(assessed.unknownRequired ?? []);
  const channels = report.channels.map((before) => {
    const add = assessed.findings[before.channel] ?? [];
    // `required` and not provable (the reason is in the provenance block): could not tell, never ok.
    const ch =
      unknown.has(before.channel) && before.status !== "skipped"
        ? { ...before, status: worstStatus([before.status, "unknown"]) }
        : before;
    if (add.length === 0) return ch;
    const weighs = add
      .filter((f) => f.severity === "drift" || f.severity === "pending")
      .map((f) => f.severity as Status);
    const status = ch.status === "skipped" ? ch.status : worstStatus([ch.status, ...weighs]);
    return { ...ch, status, findings: [...ch.findings, ...add] };
  });
  const { duration_ms, ...rest } = report;
  return {
    ...rest,
    status: worstStatus(channels.map((c) => c.status)),
    channels,
    provenance: assessed.block,
    duration_ms,
  };
}
