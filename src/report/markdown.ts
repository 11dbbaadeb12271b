import { DEFAULT_REGISTRY, type ChannelRegistry } from "../channels/registry.ts";
import { publicUrl } from "../http/public-url.ts";
import type { Finding, Status } from "../drift/types.ts";
import type { Evidence } from "../http/evidence.ts";
import { isProvenanceFinding, provenanceLine } from "./provenance.ts";
import { channelSummary, isoSeconds, oneLine, shortTime } from "./text.ts";
import type { ChannelReport, Report, Reporter } from "./types.ts";

const BADGE: Record<Status, string> = {
  ok: "✅ ok",
  pending: "⏳ pending",
  drift: "❌ drift",
  unknown: "❓ unknown",
  skipped: "⏭️ skipped",
};

/** Evidence links per channel with findings. */
const EVIDENCE_PER_CHANNEL = 3;

/** Plain Markdown text: one line, punctuation that Markdown or a table would interpret escaped. */
export function escapeMarkdown(text: string): string {
  return oneLine(text).replace(/[\\`*_[\]<>|]/g, "\\$&");
}

/** Inline code that survives backticks in the value (a longer fence). Not for table cells. */
export function codeSpan(text: string): string {
  const value = oneLine(text);
  const longest = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = value.startsWith("`") || value.endsWith("`") ? " " : "";
  return `${fence}${pad}${value}${pad}${fence}`;
}

function evidenceLinks(evidence: readonly Evidence[]): string[] {
  const seen = new Set<string>();
  const picked: { e: Evidence; url: URL }[] = [];
  // Failures first: a 404 or a timeout is usually what the finding rests on.
  const ordered = [...evidence].sort((a, b) => Number(isFailure(b)) - Number(isFailure(a)));
  for (const e of ordered) {
    let url: URL;
    try {
      url = new URL(publicUrl(e.url));
    } catch {
      continue;
    }
    const key = `${e.method} ${url.toString()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    picked.push({ e, url });
    if (picked.length === EVIDENCE_PER_CHANNEL) break;
  }
  return picked.map(({ e, url }) => {
    const label = `${e.method} ${e.status ?? "no response"} ${url.host}${url.pathname}`;
    const href = url.toString().replace(/\(/g, "%28").replace(/\)/g, "%29");
    return `[${escapeMarkdown(label)}](${href})`;
  });
}

function isFailure(e: Evidence): boolean {
  return e.status === null || e.status >= 400 || e.error !== undefined;
}

function findingLine(f: Finding, report: Report, ch: ChannelReport): string[] {
  const subject = f.subject !== undefined ? ` ${codeSpan(f.subject)}` : "";
  let note = "";
  if (f.in_grace && ch.grace_until)
    note = ` _(pending, in grace until ${shortTime(ch.grace_until, report.checked_at)})_`;
  else if (f.severity !== "drift") note = ` _(${f.severity})_`;
  const lines = [`- ${codeSpan(f.code)}${subject}: ${escapeMarkdown(f.message)}${note}`];
  const detail: string[] = [];
  if (f.expected !== undefined) detail.push(`expected ${codeSpan(f.expected)}`);
  if (f.actual !== undefined) detail.push(`actual ${codeSpan(f.actual)}`);
  if (detail.length > 0) lines.push(`  - ${detail.join(", ")}`);
  return lines;
}

function renderOne(report: Report, registry: ChannelRegistry): string {
  const out: string[] = [];
  out.push(`### ${escapeMarkdown(report.project)} ${escapeMarkdown(report.tag)}: ${BADGE[report.status]}`);
  out.push("");
  const meta = [`Checked ${isoSeconds(report.checked_at)}`];
  if (report.published_at) meta.push(`GitHub release published ${isoSeconds(report.published_at)}`);
  meta.push(escapeMarkdown(report.repo));
  out.push(meta.join(" · "));
  out.push("");
  out.push("| Channel | Status | Details |");
  out.push("| --- | --- | --- |");
  for (const ch of report.channels) {
    out.push(`| ${ch.channel} | ${BADGE[ch.status]} | ${escapeMarkdown(channelSummary(report, ch, registry))} |`);
  }
  const own = (ch: ChannelReport) => ch.findings.filter((f) => !isProvenanceFinding(f));
  const withFindings = report.channels.filter((ch) => own(ch).length > 0);
  out.push("");
  if (withFindings.length === 0) {
    out.push("No findings.");
    out.push(...provenanceSection(report));
    return out.join("\n");
  }
  out.push("#### Findings");
  for (const ch of withFindings) {
    out.push("");
    const links = evidenceLinks(ch.evidence);
    const evidence = links.length > 0 ? ` · evidence: ${links.join(", ")}` : "";
    out.push(`**${ch.channel}** (${BADGE[ch.status]})${evidence}`);
    out.push("");
    for (const f of own(ch)) out.push(...findingLine(f, report, ch));
  }
  out.push(...provenanceSection(report));
  return out.join("\n");
}

/** `#### Provenance`: the expected identity, then one line per checked channel with its provenance findings. */
function provenanceSection(report: Report): string[] {
  const block = report.provenance;
  if (!block) return [];
  const e = block.expected;
  const commit = e.commit ? ` at ${codeSpan(e.commit.slice(0, 7))}` : "";
  const out = ["", `#### Provenance: ${BADGE[block.status]}`, ""];
  out.push(`Expected ${codeSpan(e.repository)}${commit} by ${e.workflows.map(codeSpan).join(", ")}`);
  out.push("");
  for (const p of block.channels) {
    if (p.status === "skipped") continue;
    out.push(`- **${p.channel}** (${BADGE[p.status]}): ${escapeMarkdown(provenanceLine(p))}`);
    for (const f of p.findings) {
      const subject = f.subject !== undefined ? ` ${codeSpan(f.subject)}` : "";
      out.push(`  - ${codeSpan(f.code)}${subject}: ${escapeMarkdown(f.message)} _(${f.severity})_`);
    }
  }
  return out;
}

/** GitHub step summary: heading with the verdict, a channel table, then findings with evidence links. */
export const markdownReporter: Reporter = {
  id: "markdown",
  render(reports, options) {
    return reports.map((r) => renderOne(r, options.registry ?? DEFAULT_REGISTRY)).join("\n\n");
  },
};
