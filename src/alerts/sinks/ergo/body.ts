import { renderBlockerBody } from "../../../ergo/blocker-body.ts";
import type { AlertMessage } from "../../types.ts";

/** Marks which incident a blocker task belongs to, so a restart with lost memory re-finds it by body. */
export function incidentMarker(incidentId: string): string {
  return `Incident key: \`${incidentId}\``;
}

export function markedIncident(body: string): string | null {
  const m = /Incident key: `([^`\n]+)`/.exec(body);
  return m ? m[1]! : null;
}

/** Task body for one incident, in plasmite's release-blocker layout plus an Evidence section. */
export function incidentTaskBody(message: AlertMessage, agent?: string): string {
  const i = message.incident;
  const where = `${i.project} ${i.tag} on ${i.channel}${i.subject === "" ? "" : ` (${i.subject})`}`;
  const verify = `monitor verify ${i.tag} --project ${i.project} --channel ${i.channel}`;
  const background = [
    `release-monitor reports \`${i.code}\` for ${where}: ${i.message}`,
    "",
    `${incidentMarker(i.id)}. This task is marked done automatically when the finding clears; if it comes back, a new task is filed.`,
  ];
  if (i.reopen_count > 0)
    background.push("", `This incident has come back ${i.reopen_count} time(s) after being resolved.`);
  if (agent !== undefined) background.push("", `Filed by ${agent}.`);
  const evidence = [
    `Expected: ${i.expected ?? "—"}`,
    `Actual: ${i.actual ?? "—"}`,
    `First seen: ${i.first_seen}`,
    `Last seen: ${i.last_seen}`,
    ...i.evidence.slice(0, 20).map((url) => `Evidence: ${url}`),
  ];
  if (message.status_url !== null) evidence.push(`Status page: ${message.status_url}`);
  return renderBlockerBody({
    goal: `${message.summary}. Make ${i.channel} deliver ${i.project} ${i.tag} as planned.`,
    background: background.join("\n"),
    evidence,
    acceptance: [
      `\`${verify}\` reports ok.`,
      `release-monitor no longer reports \`${i.code}\`${i.subject === "" ? "" : ` for ${i.subject}`} on ${i.channel}.`,
    ],
    gates: [
      `\`${verify} --json\` exits 0.`,
      `\`monitor verify ${i.tag} --project ${i.project}\` exits 0 before the release is announced.`,
    ],
  });
}
