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

// --- lenient reads of `observed` (reports may come back from JSON written by another version)

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);

/** `0.8.0 latest`, `0.8.0 YANKED, latest 0.7.2`. */
function versionWithLatest(version: string, latest: string | null, flags = ""): string {
  return latest === version ? `${version}${flags} latest` : `${version}${flags}, latest ${latest ?? "none"}`;
}

function has(findings: readonly Finding[], code: Finding["code"]): boolean {
  return findings.some((f) => f.code === code);
}

function versionMissing(findings: readonly Finding[], version: string): boolean {
  return findings.some((f) => f.code === "version-missing" && f.subject === version);
}

function githubSummary(report: Report, ch: ChannelReport, o: Obj): string {
  const release = obj(o["release"]);
  if (!release) return `no release for ${report.tag}${o["tag_exists"] === false ? ", tag missing" : ""}`;
  const flags = [release["draft"] === true ? " draft" : "", release["prerelease"] === true ? " prerelease" : ""].join(
    "",
  );
  const latest = str(o["latest"]);
  const head = `${report.tag}${flags} ${latest === report.tag ? "latest" : `not latest (latest ${latest ?? "none"})`}`;
  const sums = obj(o["checksums"]);
  const unread = ch.findings.find((f) => f.code === "checksum-file-unread");
  const sumsName = str(sums?.["name"]) ?? unread?.subject ?? null;
  const unexpected = new Set(ch.findings.filter((f) => f.code === "asset-unexpected").map((f) => f.subject));
  const names = list(o["assets"]).map((a) => str(obj(a)?.["name"]));
  const present = names.filter((n) => n !== null && n !== sumsName && !unexpected.has(n)).length;
  const missing = ch.findings.filter((f) => f.code === "asset-missing").length;
  const extra = unexpected.size > 0 ? ` +${unexpected.size} unexpected` : "";
  let sumsText = "sums ok";
  if (has(ch.findings, "sha-mismatch")) sumsText = "sha256 MISMATCH";
  else if (has(ch.findings, "checksum-file-missing")) sumsText = "no sums file";
  else if (has(ch.findings, "checksum-missing") || has(ch.findings, "checksum-invalid")) sumsText = "sums incomplete";
  else if (unread) sumsText = "sums not read (draft)";
  else if (!sums) sumsText = "no sums";
  return `${head}, ${present}/${present + missing} assets${extra}, ${sumsText}`;
}

function cratesSummary(report: Report, ch: ChannelReport, o: Obj): string {
  if (versionMissing(ch.findings, report.version)) return `missing ${report.version}`;
  const index = obj(o["index"]);
  const yanked = has(ch.findings, "yanked") ? " YANKED" : "";
  const sha = has(ch.findings, "sha-mismatch") ? ", checksum MISMATCH" : "";
  return `${versionWithLatest(report.version, str(index?.["latest"]), yanked)}${sha}`;
}

function npmSummary(report: Report, ch: ChannelReport, o: Obj): string {
  if (has(ch.findings, "version-unpublished")) return `unpublished ${report.version}`;
  if (versionMissing(ch.findings, report.version)) return `missing ${report.version}`;
  const deprecated = has(ch.findings, "deprecated") ? " DEPRECATED" : "";
  const sha = has(ch.findings, "sha-mismatch") ? ", integrity MISMATCH" : "";
  return `${versionWithLatest(report.version, str(o["latest"]), deprecated)}${sha}`;
}

function pypiSummary(report: Report, ch: ChannelReport, o: Obj): string {
  if (versionMissing(ch.findings, report.version)) return `missing ${report.version}`;
  const files = list(o["files"]).length;
  const missing = ch.findings.filter((f) => f.code === "file-missing").length;
  const yanked = has(ch.findings, "yanked") ? " YANKED" : "";
  const sha = has(ch.findings, "sha-mismatch") ? ", sha256 MISMATCH" : "";
  const missingText = missing > 0 ? `, ${missing} missing` : "";
  return `${versionWithLatest(report.version, str(o["latest"]), yanked)}, ${files} files${missingText}${sha}`;
}

function homebrewSummary(_report: Report, ch: ChannelReport, o: Obj): string {
  if (o["found"] === false) return "formula not found";
  const urls = list(o["artifacts"]).length;
  const parts = [`formula ${str(o["version"]) ?? "without version"}, ${urls} url${urls === 1 ? "" : "s"}`];
  if (has(ch.findings, "formula-ahead")) parts.push("ahead of GitHub release");
  if (has(ch.findings, "sha-mismatch")) parts.push("sha256 MISMATCH");
  return parts.join(", ");
}

const SUMMARIES: Record<ChannelReport["channel"], (report: Report, ch: ChannelReport, o: Obj) => string> = {
  github: githubSummary,
  crates: cratesSummary,
  npm: npmSummary,
  pypi: pypiSummary,
  homebrew: homebrewSummary,
};

/** A few words on what one channel says, e.g. `v0.8.0 latest, 3/3 assets, sums ok` or `missing 0.8.0 (grace until 12:34Z)`. */
export function channelSummary(report: Report, ch: ChannelReport): string {
  if (ch.status === "skipped") return "not checked";
  const failed = ch.findings.find((f) => f.code === "probe-failed");
  if (failed) return `probe failed (${failed.actual ?? "error"})`;
  const observed = obj(ch.observed);
  const base = observed ? SUMMARIES[ch.channel](report, ch, observed) : "no observation";
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

function renderOne(report: Report, color: boolean): string {
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
    lines.push(`  ${ch.channel.padEnd(CHANNEL_WIDTH)}${label(ch.status, STATUS_WIDTH)}${channelSummary(report, ch)}`);
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
    return reports.map((r) => renderOne(r, options.color)).join("\n\n");
  },
};
