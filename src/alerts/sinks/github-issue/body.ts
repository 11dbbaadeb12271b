import type { AlertMessage, Incident } from "../../types.ts";

/**
 * The issue body is the sink's whole state: a hidden marker naming the (project, tag), a checklist with one line
 * per incident (each line ends in a hidden marker carrying the incident id), and a hidden marker naming the last
 * alert message applied. `parseIssueBody(renderIssueBody(doc))` gives `doc` back, so a new process (or a retried
 * delivery) reads everything it needs from GitHub and nothing from local memory.
 *
 *   <!-- release-monitor:plasmite@v0.8.0 -->
 *   release-monitor found drift in the published release **plasmite** `v0.8.0`. …
 *
 *   - [ ] `npm` missing-version: npm is missing plasmite 0.8.0 <!-- release-monitor:item:plasmite%7Cv0.8.0%7Cnpm… -->
 *   - [x] `pypi` missing-file (x.whl): … — fixed: pypi is now ok <!-- release-monitor:item:… -->
 *
 *   <!-- release-monitor:event:42:comment -->
 */

export interface ChecklistItem {
  /** Incident id (alerts/types.ts incidentId). */
  id: string;
  done: boolean;
  /** Rendered, already escaped line text (kept verbatim across parse/render). */
  text: string;
}

/** The last alert message applied to the issue, and whether applying it owes a comment. */
export interface AppliedEvent {
  id: string;
  comment: boolean;
}

export interface IssueDoc {
  project: string;
  tag: string;
  items: ChecklistItem[];
  /** Checked items dropped to stay under GitHub's body limit (oldest first). */
  omitted: number;
  lastEvent: AppliedEvent | null;
}

/** GitHub refuses issue bodies over 65 536 characters; stay well below. */
export const BODY_BUDGET = 60_000;
const ITEM_TEXT_MAX = 300;
const PREFIX = "release-monitor";

const enc = (s: string): string => encodeURIComponent(s);
const dec = (s: string): string | null => {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
};

/** The hidden marker that identifies the issue of one (project, tag); the sink finds its issue by it. */
export function issueMarker(project: string, tag: string): string {
  return `<!-- ${PREFIX}:${enc(project)}@${enc(tag)} -->`;
}

export function issueTitle(project: string, tag: string): string {
  return `Release drift: ${project} ${tag}`;
}

/** Marker a comment carries for the alert message it reports (a retried delivery looks for it first). */
export function eventMarker(messageId: string): string {
  return `<!-- ${PREFIX}:event:${enc(messageId)} -->`;
}

/**
 * Text fit for a GitHub markdown line: one line, no HTML (`<`, `>`, `&` as entities), no @-mentions, no
 * markdown checkbox or comment syntax breaking out, bounded length.
 */
export function inlineText(s: string, max = ITEM_TEXT_MAX): string {
  const flat = s.replace(/\s+/g, " ").trim();
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return cut.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/@/g, "&#64;");
}

/** One checklist line's text for an incident; resolved lines say how they resolved. */
export function itemText(incident: Incident, resolution: string | null): string {
  const subject = incident.subject === "" ? "" : ` (${inlineText(incident.subject, 120)})`;
  const head = `\`${inlineText(incident.channel, 40)}\` ${inlineText(incident.code, 60)}${subject}: ${inlineText(incident.message)}`;
  return resolution === null ? head : `${head} — ${inlineText(resolution, 160)}`;
}

/** The checklist line an alert message asks for (unchecked for open/reopen/remind, checked for resolve). */
export function itemFor(message: AlertMessage): ChecklistItem {
  const done = message.kind === "resolve";
  return { id: message.incident.id, done, text: itemText(message.incident, done ? message.resolution : null) };
}

export function openCount(items: readonly ChecklistItem[]): number {
  return items.filter((i) => !i.done).length;
}

export function renderIssueBody(doc: IssueDoc, statusUrl: string | null): string {
  const fit = fitBudget(doc, statusUrl);
  return renderUnbounded(fit, statusUrl);
}

function renderUnbounded(doc: IssueDoc, statusUrl: string | null): string {
  const open = openCount(doc.items);
  const resolved = doc.items.length - open + doc.omitted;
  const lines = [
    issueMarker(doc.project, doc.tag),
    `release-monitor found drift in the published release **${inlineText(doc.project, 100)}** \`${inlineText(doc.tag, 100)}\`: a channel does not serve what the release says it should.`,
    "",
    ...doc.items.map((i) => `- [${i.done ? "x" : " "}] ${i.text} <!-- ${PREFIX}:item:${enc(i.id)} -->`),
  ];
  if (doc.omitted > 0)
    lines.push(`- ${doc.omitted} earlier resolved item(s) omitted <!-- ${PREFIX}:omitted:${doc.omitted} -->`);
  lines.push(
    "",
    `${open} open, ${resolved} resolved. release-monitor keeps this body up to date, comments on every change, closes the issue when every item is checked and reopens it if drift returns; edits to the body are overwritten.`,
  );
  if (statusUrl !== null) lines.push("", `Status page: ${inlineText(statusUrl, 500)}`);
  if (doc.lastEvent !== null)
    lines.push("", `<!-- ${PREFIX}:event:${enc(doc.lastEvent.id)}${doc.lastEvent.comment ? ":comment" : ""} -->`);
  return lines.join("\n") + "\n";
}

/** Drops the oldest checked items until the body fits GitHub's limit (open items are never dropped). */
function fitBudget(doc: IssueDoc, statusUrl: string | null): IssueDoc {
  let current = doc;
  while (renderUnbounded(current, statusUrl).length > BODY_BUDGET) {
    const i = current.items.findIndex((x) => x.done);
    if (i < 0) break;
    current = { ...current, items: current.items.filter((_, k) => k !== i), omitted: current.omitted + 1 };
  }
  return current;
}

const KEY_RE = new RegExp(`<!-- ${PREFIX}:([^@\\s]+)@(\\S+) -->`);
const ITEM_RE = new RegExp(`^- \\[([ xX])\\] (.*) <!-- ${PREFIX}:item:(\\S+) -->$`);
const OMITTED_RE = new RegExp(`<!-- ${PREFIX}:omitted:(\\d+) -->`);
const EVENT_RE = new RegExp(`<!-- ${PREFIX}:event:(\\S+?)(:comment)? -->`);

/** The (project, tag) an issue body is about, or null when it carries no marker. */
export function markedKey(body: string | null | undefined): { project: string; tag: string } | null {
  const m = KEY_RE.exec(body ?? "");
  if (!m) return null;
  const project = dec(m[1]!);
  const tag = dec(m[2]!);
  return project === null || tag === null ? null : { project, tag };
}

/** Reads back what renderIssueBody wrote; unknown lines (someone's edits) are ignored. Null without a marker. */
export function parseIssueBody(body: string | null | undefined): IssueDoc | null {
  const key = markedKey(body);
  if (!key || body === null || body === undefined) return null;
  const items: ChecklistItem[] = [];
  const seen = new Set<string>();
  for (const line of body.split(/\r?\n/)) {
    const m = ITEM_RE.exec(line);
    const id = m ? dec(m[3]!) : null;
    if (!m || id === null || seen.has(id)) continue;
    seen.add(id);
    items.push({ id, done: m[1] !== " ", text: m[2]! });
  }
  const omitted = Number(OMITTED_RE.exec(body)?.[1] ?? "0");
  const ev = EVENT_RE.exec(body);
  const evId = ev ? dec(ev[1]!) : null;
  return {
    ...key,
    items,
    omitted: Number.isSafeInteger(omitted) ? omitted : 0,
    lastEvent: evId === null ? null : { id: evId, comment: ev?.[2] !== undefined },
  };
}
