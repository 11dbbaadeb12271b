import { alertItems, type AlertMessage } from "../../types.ts";
import {
  eventMarker,
  inlineText,
  issueTitle,
  itemFor,
  openCount,
  parseIssueBody,
  renderIssueBody,
  type ChecklistItem,
  type IssueDoc,
} from "./body.ts";

/** What the sink found on GitHub for the message's (project, tag): nothing, or the issue as it is now. */
export interface CurrentIssue {
  number: number;
  body: string | null;
  state: "open" | "closed";
}

/**
 * What to do on GitHub for one alert message, decided from the issue's current state alone (pure):
 *
 *   none     nothing to change (a reminder of a listed item, a repeat of an applied message, a resolve with no issue)
 *   create   no issue yet: open one with the label and a one-item checklist (no comment; the body says it)
 *   update   the checklist changed: PATCH body (and state when it flips), then add `comment`
 *            (`comment` is null when only an item's wording changed)
 *   comment  this message was applied to the body already but its comment may be missing (a retried delivery):
 *            add `comment` unless a comment carrying `marker` exists
 */
export type IssuePlan =
  | { action: "none"; reason: string }
  | { action: "create"; title: string; body: string }
  | { action: "update"; body: string; state: "open" | "closed" | null; comment: string | null }
  | { action: "comment"; comment: string; marker: string };

/** Kinds this sink acts on; registry-degraded notices are not about a release and have no issue. */
export function handles(message: AlertMessage): boolean {
  const k = message.kind;
  return (k === "open" || k === "reopen" || k === "remind" || k === "resolve") && message.incident.project !== "*";
}

/**
 * A rolled-up message (`group: release`, `items`) is one change to the checklist: every item it carries is applied
 * to the body at once, and the one comment lists them all, so a release with three incidents gets one update and
 * one comment, not three.
 */
export function planIssue(current: CurrentIssue | null, message: AlertMessage): IssuePlan {
  if (!handles(message)) return { action: "none", reason: `${message.kind} alerts have no release issue` };
  const { project, tag } = message.incident;
  const wanted = itemsFor(message);
  if (current === null) {
    if (wanted.every((i) => i.done)) return { action: "none", reason: "resolved before any issue was filed" };
    const doc: IssueDoc = { project, tag, items: wanted, omitted: 0, lastEvent: { id: message.id, comment: false } };
    return { action: "create", title: issueTitle(project, tag), body: renderIssueBody(doc, message.status_url) };
  }
  const doc = parseIssueBody(current.body) ?? { project, tag, items: [], omitted: 0, lastEvent: null };
  const before = new Map(doc.items.map((i) => [i.id, i]));
  const flipped = wanted.filter((w) => before.get(w.id)?.done !== w.done);
  const items = merged(doc.items, wanted);
  if (flipped.length === 0) {
    if (doc.lastEvent?.id === message.id && doc.lastEvent.comment) {
      return {
        action: "comment",
        comment: commentFor(message, wanted, doc.items, current.state),
        marker: eventMarker(message.id),
      };
    }
    if (wanted.every((w) => before.get(w.id)?.text === w.text))
      return { action: "none", reason: "the checklist already shows this" };
    const next: IssueDoc = { ...doc, items, lastEvent: { id: message.id, comment: false } };
    return { action: "update", body: renderIssueBody(next, message.status_url), state: null, comment: null };
  }
  const want: "open" | "closed" = openCount(items) === 0 ? "closed" : "open";
  const next: IssueDoc = { ...doc, items, lastEvent: { id: message.id, comment: true } };
  return {
    action: "update",
    body: renderIssueBody(next, message.status_url),
    state: want === current.state ? null : want,
    comment: commentFor(message, flipped, items, current.state),
  };
}

/** The checklist lines a message asks for: one per item of a rolled-up message, else its one incident's. */
function itemsFor(message: AlertMessage): ChecklistItem[] {
  return alertItems(message).map((it) => itemFor({ ...message, incident: it.incident, resolution: it.resolution }));
}

/** `items` with each of `wanted` replacing its line, or appended (in order) when new. */
function merged(items: readonly ChecklistItem[], wanted: readonly ChecklistItem[]): ChecklistItem[] {
  const byId = new Map(wanted.map((w) => [w.id, w]));
  const known = new Set(items.map((i) => i.id));
  return [...items.map((i) => byId.get(i.id) ?? i), ...wanted.filter((w) => !known.has(w.id))];
}

const HEADLINE: Record<string, string> = {
  open: "Drift opened",
  reopen: "Drift returned",
  remind: "Drift still open",
  resolve: "Resolved",
};

/**
 * The comment for a checklist change; it ends in the message's event marker. `changed` are the lines the message
 * changed (one, or several for a rolled-up message), `items` the checklist after it, `stateBefore` the issue's
 * state before the change.
 */
export function commentFor(
  message: AlertMessage,
  changed: readonly ChecklistItem[],
  items: readonly ChecklistItem[],
  stateBefore: "open" | "closed",
): string {
  const open = openCount(items);
  const headline = HEADLINE[message.kind] ?? message.kind;
  const lines =
    changed.length === 1
      ? [`**${headline}:** ${changed[0]!.text}`, ""]
      : [`**${headline} (${changed.length}):**`, "", ...changed.map((c) => `- ${c.text}`), ""];
  if (open === 0) lines.push(`Every item is resolved (${items.length}); closing this issue.`);
  else if (stateBefore === "closed") lines.push(`Reopening: ${open} open, ${items.length - open} resolved.`);
  else lines.push(`${open} open, ${items.length - open} resolved.`);
  const evidence = alertItems(message).flatMap((it) => it.incident.evidence);
  if (evidence.length > 0)
    lines.push(
      "",
      `Evidence: ${[...new Set(evidence)]
        .slice(0, 5)
        .map((u) => inlineText(u, 300))
        .join(" · ")}`,
    );
  lines.push("", eventMarker(message.id));
  return lines.join("\n") + "\n";
}
