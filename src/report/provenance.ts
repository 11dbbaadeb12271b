/** Pure: the "provenance" line of one channel, shared by the text, Markdown and HTML renderers. */
import { PROVENANCE_FINDING_CODES } from "../drift/types.ts";
import type { Finding } from "../drift/types.ts";
import type { ProvenanceChannelReport, Report } from "./types.ts";

const CODES = new Set<string>(PROVENANCE_FINDING_CODES);

/** Provenance findings are rendered with the provenance line, not in the channel's finding list. */
export function isProvenanceFinding(f: Finding): boolean {
  return CODES.has(f.code);
}

export function provenanceOf(report: Report, channel: string): ProvenanceChannelReport | undefined {
  return report.provenance?.channels.find((c) => c.channel === channel);
}

const fileOf = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** `built by release.yml@refs/tags/v0.8.0 from 1a2b3c4 (verified)`, `no provenance (absent)`, … */
export function provenanceLine(p: ProvenanceChannelReport): string {
  if (p.status === "skipped") return "not checked";
  if (p.not_applicable !== undefined) return `not applicable (${p.not_applicable})`;
  const from = p.commit ? ` from ${p.commit.slice(0, 7)}` : "";
  const note = p.inherited_from ? `${p.signature}, inherited from ${p.inherited_from}` : p.signature;
  // crates.io's trusted publish: a registry assertion, with the workflow of the Actions run its run_id names.
  if (p.signature === "not-applicable" && p.commit) {
    const by = p.workflow ? ` by ${fileOf(p.workflow)}` : "";
    return `trusted publish in ${p.repository ?? "?"}${by}${from} (${note})`;
  }
  if (p.workflow) return `built by ${fileOf(p.workflow)}${p.ref ? `@${p.ref}` : ""}${from} (${note})`;
  if (p.commit) return `${p.repository ?? "built"}${from} (${note})`;
  if (p.signature === "unknown") return p.status === "pending" ? "pending" : "could not tell (unknown)";
  return `no provenance (${note})`;
}
