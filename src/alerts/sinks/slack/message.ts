import type { IncomingWebhookSendArguments } from "@slack/webhook";
import type { AlertItem, AlertKind, AlertMessage } from "../../types.ts";

/** Block Kit message for one alert (pure). Slack limits: header 150 chars, field 2000, section text 3000. */

export const KIND_HEADER: Record<AlertKind, { emoji: string; label: string }> = {
  open: { emoji: "🔴", label: "Release drift" },
  reopen: { emoji: "🔴", label: "Release drift reopened" },
  remind: { emoji: "🔁", label: "Reminder" },
  resolve: { emoji: "✅", label: "Resolved" },
  degraded: { emoji: "⚠️", label: "Registry degraded" },
  recovered: { emoji: "✅", label: "Registry recovered" },
};

export const MAX_EVIDENCE_LINKS = 5;

type Block = NonNullable<IncomingWebhookSendArguments["blocks"]>[number];

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function cap(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `<url|label>` for http(s) URLs; null for anything else. */
export function mrkdwnLink(url: string, label?: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
  const safe = parsed.href.replace(/\|/g, "%7C").replace(/</g, "%3C").replace(/>/g, "%3E");
  const text = label ?? linkLabel(parsed);
  return `<${safe}|${escapeMrkdwn(text).replace(/\|/g, "¦")}>`;
}

function linkLabel(u: URL): string {
  const segments = u.pathname.split("/").filter((s) => s !== "");
  const last = segments[segments.length - 1];
  if (last === undefined) return u.host;
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  return cap(segments.length > 1 ? `${u.host}/…/${name}` : `${u.host}/${name}`, 80);
}

function field(label: string, value: string): { type: "mrkdwn"; text: string } {
  return { type: "mrkdwn", text: cap(`*${label}*\n${escapeMrkdwn(value === "" ? "—" : value)}`, 2000) };
}

export function buildSlackMessage(message: AlertMessage): IncomingWebhookSendArguments {
  if (message.items !== undefined && message.items.length > 1) return buildRollupMessage(message, message.items);
  const i = message.incident;
  const { emoji, label } = KIND_HEADER[message.kind];
  const cleared = message.kind === "resolve" || message.kind === "recovered";
  const resolution = message.resolution ?? "the finding is no longer reported";

  const lines = [`*${escapeMrkdwn(cap(message.summary, 1000))}*`];
  if (cleared) lines.push(`*What cleared:* ${escapeMrkdwn(cap(resolution, 1000))}`);
  if (message.kind === "remind") lines.push(`_Still open since ${escapeMrkdwn(i.opened_at ?? i.first_seen)}_`);
  if (message.kind === "reopen") lines.push(`_Came back after being resolved (${i.reopen_count}×)_`);

  const fields = [
    field("Project", i.project),
    field("Tag", i.tag),
    field("Channel", i.channel),
    field("Finding", i.code),
  ];
  if (i.subject !== "") fields.push(field("Subject", i.subject));
  if (i.expected !== null || i.actual !== null) {
    fields.push(field("Expected", i.expected ?? "—"), field("Actual", i.actual ?? "—"));
  }
  fields.push(field("First seen", i.first_seen));

  const blocks: Block[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: cap(`${emoji} ${label}: ${i.project} ${i.tag} · ${i.channel}`, 150),
        emoji: true,
      },
    },
    { type: "section", text: { type: "mrkdwn", text: cap(lines.join("\n"), 3000) } },
    { type: "section", fields: fields.slice(0, 10) },
  ];
  const links = i.evidence
    .map((url) => mrkdwnLink(url))
    .filter((l): l is string => l !== null)
    .slice(0, MAX_EVIDENCE_LINKS);
  if (links.length > 0) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: cap(`*Evidence*\n${links.join(" · ")}`, 3000) } });
  }
  const status = message.status_url === null ? null : mrkdwnLink(message.status_url, "Status page");
  if (status !== null) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: status }] });

  const where = `${i.project} ${i.tag}, ${i.channel}, ${i.code}${i.subject === "" ? "" : ` ${i.subject}`}`;
  let text = `${emoji} ${label}: ${message.summary} (${where})`;
  if (cleared) text += ` — cleared: ${resolution}`;
  if (message.status_url !== null) text += ` — status: ${message.status_url}`;
  return { text: cap(escapeMrkdwn(text), 3000), blocks };
}

/** Incident lines listed in one rolled-up message before "…and N more". */
export const MAX_ROLLUP_LINES = 20;

/** One message for several incidents of one release (`group: release`): a line per incident. */
function buildRollupMessage(message: AlertMessage, items: readonly AlertItem[]): IncomingWebhookSendArguments {
  const { project, tag } = message.incident;
  const { emoji, label } = KIND_HEADER[message.kind];
  const cleared = message.kind === "resolve" || message.kind === "recovered";
  const lineOf = (it: AlertItem): string => {
    const i = it.incident;
    const what = `\`${i.channel}\` ${i.code}${i.subject === "" ? "" : ` (${i.subject})`}`;
    const fixed = cleared && it.resolution !== null ? ` — _${escapeMrkdwn(cap(it.resolution, 300))}_` : "";
    return `• ${escapeMrkdwn(what)}: ${escapeMrkdwn(cap(it.incident.message, 300))}${fixed}`;
  };
  const lines = items.slice(0, MAX_ROLLUP_LINES).map(lineOf);
  if (items.length > MAX_ROLLUP_LINES) lines.push(`_…and ${items.length - MAX_ROLLUP_LINES} more_`);
  const channels = [...new Set(items.map((it) => it.incident.channel))].join(", ");
  const firstSeen = items.map((it) => it.incident.first_seen).sort()[0] ?? "";

  const blocks: Block[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: cap(`${emoji} ${label}: ${project} ${tag} · ${items.length} incidents`, 150),
        emoji: true,
      },
    },
    { type: "section", text: { type: "mrkdwn", text: cap(`*${escapeMrkdwn(cap(message.summary, 1000))}*`, 3000) } },
    { type: "section", text: { type: "mrkdwn", text: cap(lines.join("\n"), 3000) } },
    {
      type: "section",
      fields: [
        field("Project", project),
        field("Tag", tag),
        field("Channels", channels),
        field("First seen", firstSeen),
      ],
    },
  ];
  const links = [...new Set(items.flatMap((it) => it.incident.evidence))]
    .map((url) => mrkdwnLink(url))
    .filter((l): l is string => l !== null)
    .slice(0, MAX_EVIDENCE_LINKS);
  if (links.length > 0) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: cap(`*Evidence*\n${links.join(" · ")}`, 3000) } });
  }
  const status = message.status_url === null ? null : mrkdwnLink(message.status_url, "Status page");
  if (status !== null) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: status }] });

  const each = items.map(
    (it) => `${it.incident.channel} ${it.incident.code}${it.incident.subject === "" ? "" : ` ${it.incident.subject}`}`,
  );
  let text = `${emoji} ${label}: ${message.summary} — ${each.join("; ")}`;
  if (message.status_url !== null) text += ` — status: ${message.status_url}`;
  return { text: cap(escapeMrkdwn(text), 3000), blocks };
}
