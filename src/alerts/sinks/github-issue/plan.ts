import type { AlertMessage } from "../../types.ts";
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

export function planIssue(current: CurrentIssue | null, message: AlertMessage): IssuePlan {
  if (!handles(message)) return { action: "none", reason: `${message.kind} alerts have no release issue` };
  const { project, tag } = message.incident;
  const item = itemFor(message);
  if (current === null) {
    if (item.done) return { action: "none", reason: "resolved before any issue was filed" };
    const doc: IssueDoc = { project, tag, items: [item], omitted: 0, lastEvent: { id: message.id, comment: false } };
    return { action: "create", title: issueTitle(project, tag), body: renderIssueBody(doc, message.status_url) };
  }
  const doc = parseIssueBody(current.body) ?? { project, tag, items: [], omitted: 0, lastEvent: null };
  const before = doc.items.find((i) => i.id === item.id);
  const flipped = before === undefined ? true : before.done !== item.done;
  if (!flipped) {
    if (doc.lastEvent?.id === message.id && doc.lastEvent.comment) {
      return {
        action: "comment",
        comment: commentFor(message, item, doc.items, current.state),
        marker: eventMarker(message.id),
      };
    }
    if (before?.text === item.text) return { action: "none", reason: "the checklist already shows this" };
    const items = doc.items.map((i) => (i.id === item.id ? item : i));
    const next: IssueDoc = { ...doc, items, lastEvent: { id: message.id, comment: false } };
    return { action: "update", body: renderIssueBody(next, message.status_url), state: null, comment: null };
  }
  const items = before === undefined ? [...doc.items, item] : doc.items.map((i) => (i.id === item.id ? item : i));
  const want: "open" | "closed" = openCount(items) === 0 ? "closed" : "open";
  const next: IssueDoc = { ...doc, items, lastEvent: { id: message.id, comment: true } };
  return {
    action: "update",
    body: renderIssueBody(next, message.status_url),
    state: want === current.state ? null : want,
    comment: commentFor(message, item, items, current.state),
  };
}

const HEADLINE: Record<string, string> = {
  open: "Drift opened",
  reopen: "Drift returned",
  remind: "Drift still open",
  resolve: "Resolved",
};

/**
 * The comment for a checklist change; it ends in the message's event marker. `stateBefore` is the issue's state
 * before the change, `items` the checklist after it.
 */
export function commentFor(
  message: AlertMessage,
  item: ChecklistItem,
  items: readonly ChecklistItem[],
  stateBefore: "open" | "closed",
): string {
  const open = openCount(items);
  const lines = [`**${HEADLINE[message.kind] ?? message.kind}:** ${item.text}`, ""];
  if (open === 0) lines.push(`Every item is resolved (${items.length}); closing this issue.`);
  else if (stateBefore === "closed") lines.push(`Reopening: ${open} open, ${items.length - open} resolved.`);
  else lines.push(`${open} open, ${items.length - open} resolved.`);
  if (message.incident.evidence.length > 0)
    lines.push(
      "",
      `Evidence: ${message.incident.evidence
        .slice(0, 5)
        .map((u) => inlineText(u, 300))
        .join(" · ")}`,
    );
  lines.push("", eventMarker(message.id));
  return lines.join("\n") + "\n";
}
