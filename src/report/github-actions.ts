/**
 * GitHub Actions workflow commands for `monitor verify --github` (and the action at the repository root): one
 * `::error` / `::warning` / `::notice` annotation per finding, and the `$GITHUB_OUTPUT` lines for the outputs.
 * Pure: reports in, text out. Escaping follows the workflow-commands spec: in the message `%`, CR and LF become
 * `%25`, `%0D`, `%0A`; in a property value `:` and `,` are escaped too (`%3A`, `%2C`).
 */
import { randomBytes } from "node:crypto";
import type { Finding, FindingSeverity } from "../drift/types.ts";
import type { Report } from "./types.ts";

export type AnnotationLevel = "error" | "warning" | "notice";

/** Drift (outside grace) is an error; could-not-tell, pending and provenance warnings are warnings; info a notice. */
const LEVEL: Record<FindingSeverity, AnnotationLevel> = {
  drift: "error",
  unknown: "warning",
  pending: "warning",
  warning: "warning",
  info: "notice",
};

export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

export interface Annotation {
  level: AnnotationLevel;
  title: string;
  message: string;
}

function messageOf(f: Finding): string {
  const parts = [f.message];
  if (f.subject !== undefined && !f.message.includes(f.subject)) parts.push(`subject: ${f.subject}`);
  if (f.expected !== undefined) parts.push(`expected: ${f.expected}`);
  if (f.actual !== undefined) parts.push(`actual: ${f.actual}`);
  return parts.join("\n");
}

/** One annotation per finding, channels first, then provenance rows. */
export function annotationsFor(reports: readonly Report[]): Annotation[] {
  const out: Annotation[] = [];
  for (const r of reports) {
    const add = (where: string, f: Finding) =>
      out.push({ level: LEVEL[f.severity], title: `${r.project} ${r.tag} ${where}: ${f.code}`, message: messageOf(f) });
    for (const c of r.channels) for (const f of c.findings) add(c.channel, f);
    for (const c of r.provenance?.channels ?? []) for (const f of c.findings) add(`${c.channel} provenance`, f);
  }
  return out;
}

/** `::error title=<title>::<message>` */
export function formatAnnotation(a: Annotation): string {
  return `::${a.level} title=${escapeProperty(a.title)}::${escapeData(a.message)}`;
}

/**
 * `$GITHUB_OUTPUT` lines for `name=value` outputs. A value with a line break uses the heredoc form with a random
 * delimiter that does not occur in the value.
 */
export function formatOutputs(outputs: Readonly<Record<string, string>>): string {
  return Object.entries(outputs)
    .map(([name, value]) => {
      if (!/[\r\n]/.test(value)) return `${name}=${value}\n`;
      let delimiter: string;
      do delimiter = `ghadelimiter_${randomBytes(8).toString("hex")}`;
      while (value.includes(delimiter));
      return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    })
    .join("");
}
