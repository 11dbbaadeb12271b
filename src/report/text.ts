import { DEFAULT_REGISTRY, type ChannelRegistry } from "../channels/registry.ts";
import { obj } from "../channels/lenient.ts";
import type { Finding, Status } from "../drift/types.ts";
import { isProvenanceFinding, provenanceLine, provenanceOf } from "./provenance.ts";
import type { ChannelReport, Report, Reporter } from "./types.ts";

export const STATUS_LABEL: Record<Status, string> = {
  ok: "OK",
  pending: "PENDING",
  drift: "DRIFT",
  unknown: "UNKNOWN",
  skipped: "SKIPPED",
};

const ANSI: Record<Status, string> = { ok: "32", pending: "33", drift: "31", unknown: "35", skipped: "90" };

const CHANNEL_WIDTH = 10;
const STATUS_WIDTH = 9;

/** One line, no control characters (upstream text could carry escapes or newlines). */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\r\n\t]+/g, " ").replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
}

/** ISO timestamp without milliseconds. */
export function isoSeconds(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}

/** `12:34Z` when on the same UTC day as `reference`, else `2026-08-05 12:34Z`. */
export function shortTime(iso: string, reference: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const full = t.toISOString();
  const hm = `${full.slice(11, 16)}Z`;
  return full.slice(0, 10) === reference.slice(0, 10) ? hm : `${full.slice(0, 10)} ${hm}`;
}

/** A few words on what one channel says, e.g. `v0.8.0 latest, 3/3 assets, sums ok` or `missing 0.8.0 (grace until 12:34Z)`. */
export function channelSummary(
  report: Report,
  ch: ChannelReport,
  registry: ChannelRegistry = DEFAULT_REGISTRY,
): string {
  if (ch.status === "skipped") return "not checked";
  const failed = ch.findings.find((f) => f.code === "probe-failed");
  if (failed) return `probe failed (${failed.actual ?? "error"})`;
  const observed = obj(ch.observed);
  const channel = registry.get(ch.channel);
  const base =
    observed && channel
      ? channel.summary({ tag: report.tag, version: report.version, findings: ch.findings, observed })
      : "no observation";
  const grace = ch.grace_until ? ` (grace until ${shortTime(ch.grace_until, report.checked_at)})` : "";
  return oneLine(`${base}${grace}`);
}

function findingNote(f: Finding): string {
  if (f.in_grace) return " (in grace)";
  if (f.severity === "info") return " (info)";
  if (f.severity === "pending") return " (pending)";
  if (f.severity === "warning") return " (warning)";
  return "";
}

function renderOne(report: Report, color: boolean, registry: ChannelRegistry): string {
  const paint = (text: string, status: Status): string => (color ? `\u001b[${ANSI[status]}m${text}\u001b[0m` : text);
  const label = (status: Status, width: number): string => {
    const text = STATUS_LABEL[status];
    return paint(text, status) + " ".repeat(Math.max(1, width - text.length));
  };
  const lines = [
    `${oneLine(report.project)} ${oneLine(report.tag)}  ${paint(STATUS_LABEL[report.status], report.status)}  (checked ${isoSeconds(report.checked_at)})`,
  ];
  const indent = " ".repeat(2 + CHANNEL_WIDTH + STATUS_WIDTH);
  for (const ch of report.channels) {
    lines.push(
      `  ${ch.channel.padEnd(CHANNEL_WIDTH)}${label(ch.status, STATUS_WIDTH)}${channelSummary(report, ch, registry)}`,
    );
    const own = ch.findings.filter((f) => !isProvenanceFinding(f));
    const width = Math.max(0, ...own.map((f) => f.code.length));
    for (const f of own) {
      lines.push(`${indent}${f.code.padEnd(width)}  ${oneLine(f.message)}${findingNote(f)}`);
    }
    const p = provenanceOf(report, ch.channel);
    if (p && p.status !== "skipped") {
      lines.push(`${indent}provenance: ${oneLine(provenanceLine(p))}`);
      const pw = Math.max(0, ...p.findings.map((f) => f.code.length));
      for (const f of p.findings) {
        lines.push(`${indent}  ${f.code.padEnd(pw)}  ${oneLine(f.message)}${findingNote(f)}`);
      }
    }
  }
  return lines.join("\n");
}

/** Terminal output: a header per report, one aligned row per channel, findings indented under it. */
export const textReporter: Reporter = {
  id: "text",
  render(reports, options) {
    return reports.map((r) => renderOne(r, options.color, options.registry ?? DEFAULT_REGISTRY)).join("\n\n");
  },
};
