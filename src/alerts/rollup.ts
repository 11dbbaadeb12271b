import type { AlertItem, AlertKind, AlertMessage, Sink, SinkContext } from "./types.ts";

/** An alert before the outbox gives it an id (the state store's AlertDraft). */
type AlertDraft = Omit<AlertMessage, "id">;

/**
 * Rolled-up notifications (`settings.alerts.sinks[].group: release`), decided at ENQUEUE time, pure.
 *
 * Why at enqueue and not at delivery: the outbox's guarantees are per row (strict order per sink, marked sent
 * right after the send, so a crash repeats at most that one row). Rolling up while enqueueing makes the rolled
 * message one ordinary outbox row per `release` sink per (project, tag, kind) per cycle, written in the same
 * transaction as the incident changes, so those guarantees carry over unchanged: no delivery-time batching window,
 * no second queue, no partial batch to recover after a crash. `incident` sinks still get one row per incident.
 *
 * Only release alerts roll up (open, reopen, remind, resolve of a real project); registry-degraded notices are
 * already one per channel. Kinds are not mixed: three opens and a reopen of one release in one cycle are two
 * messages. A "group" of one stays the plain single-incident message for every sink.
 */

const ROLLABLE: ReadonlySet<AlertKind> = new Set(["open", "reopen", "remind", "resolve"]);

const VERB: Partial<Record<AlertKind, string>> = {
  open: "opened",
  reopen: "reopened",
  remind: "still open",
  resolve: "resolved",
};

function groupKey(d: AlertDraft): string | null {
  if (!ROLLABLE.has(d.kind) || d.incident.project === "*") return null;
  return JSON.stringify([d.kind, d.incident.project, d.incident.tag]);
}

/** One message listing `members` (two or more drafts of one release and kind). */
export function rolledDraft(members: readonly AlertDraft[]): AlertDraft {
  const first = members[0];
  if (first === undefined) throw new TypeError("rolledDraft needs members");
  const { project, tag } = first.incident;
  const channels = [...new Set(members.map((m) => m.incident.channel))].join(", ");
  const resolutions = new Set(members.map((m) => m.resolution));
  const items: AlertItem[] = members.map((m) => ({
    incident: m.incident,
    summary: m.summary,
    resolution: m.resolution,
  }));
  return {
    kind: first.kind,
    incident: first.incident,
    summary: `${project} ${tag}: ${members.length} incidents ${VERB[first.kind] ?? first.kind} (${channels})`,
    resolution: resolutions.size === 1 ? first.resolution : null,
    status_url: first.status_url,
    created_at: first.created_at,
    items,
  };
}

export interface RoutedAlerts {
  /** What to enqueue, in order. */
  messages: AlertDraft[];
  /** The sinks of each message (same index). */
  routes: string[][];
}

/**
 * One cycle's lifecycle messages -> outbox messages and their sinks. `incident` sinks get every message as it
 * is; `release` sinks get, for each release and kind with two or more messages, one rolled-up message at the
 * position of the first of them (so each sink still sees its alerts in lifecycle order). Every lifecycle message
 * is kept (the message history), even when only `release` sinks are configured and it has no sink left.
 */
export function routeAlerts(
  drafts: readonly AlertDraft[],
  sinks: readonly Pick<Sink, "name" | "group">[],
): RoutedAlerts {
  const perIncident = sinks.filter((s) => s.group !== "release").map((s) => s.name);
  const perRelease = sinks.filter((s) => s.group === "release").map((s) => s.name);
  const groups = new Map<string, AlertDraft[]>();
  for (const d of drafts) {
    const key = groupKey(d);
    if (key !== null) groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  const out: RoutedAlerts = { messages: [], routes: [] };
  const push = (m: AlertDraft, to: string[]) => {
    out.messages.push(m);
    out.routes.push(to);
  };
  for (const d of drafts) {
    const key = groupKey(d);
    const members = key === null ? undefined : groups.get(key);
    if (members === undefined || members.length < 2 || perRelease.length === 0) {
      push(d, [...perIncident, ...perRelease]);
      continue;
    }
    push(d, perIncident);
    if (members[0] === d) push(rolledDraft(members), perRelease);
  }
  return out;
}

/** The single-incident message for item `n` of a rolled-up one (id `<id>.<n>`, so each has its own identity). */
export function itemMessage(message: AlertMessage, n: number, item: AlertItem): AlertMessage {
  return {
    id: `${message.id}.${n + 1}`,
    kind: message.kind,
    incident: item.incident,
    summary: item.summary,
    resolution: item.resolution,
    status_url: message.status_url,
    created_at: message.created_at,
  };
}

const PROGRESS_KEY = "rollup-progress";

/**
 * Delivers a rolled-up message to a sink that does not render rollups, one incident after the other. Progress
 * is kept in the sink's memory (`<message id>:<items done>`, one key per sink: a sink delivers its rows strictly
 * one at a time), so a retry after item 2 failed starts at item 2, and a crash repeats at most the one item in
 * flight, as for any outbox row.
 */
export async function deliverItemByItem(sink: Sink, message: AlertMessage, ctx: SinkContext): Promise<void> {
  const items = message.items;
  if (items === undefined) return sink.deliver(message, ctx);
  const saved = ctx.memory.get(PROGRESS_KEY);
  const [savedId, savedDone] =
    saved === null ? [null, "0"] : [saved.slice(0, saved.lastIndexOf(":")), saved.slice(saved.lastIndexOf(":") + 1)];
  let done = savedId === message.id ? Number(savedDone) || 0 : 0;
  for (; done < items.length; done++) {
    await sink.deliver(itemMessage(message, done, items[done]!), ctx);
    ctx.memory.set(PROGRESS_KEY, `${message.id}:${done + 1}`);
  }
}
