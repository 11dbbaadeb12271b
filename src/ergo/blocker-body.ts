/**
 * Markdown bodies for release-blocker tasks and epics, in the layout of plasmite's file_release_blocker.sh
 * (plasmite-release.md §9): ## Goal, ## Background / Rationale, (## Evidence,) ## Acceptance Criteria,
 * ## Automated Validation Gates. Used by the ergo alert sink and the release driver.
 */

export interface BlockerBodySections {
  goal: string;
  background: string;
  /** Bullet lines (without the leading "- "); the section is left out when empty. */
  evidence?: readonly string[];
  acceptance: readonly string[];
  gates: readonly string[];
  /** Extra sections appended after the gates. */
  extra?: readonly { heading: string; lines: readonly string[] }[];
}

const bullets = (lines: readonly string[]) => lines.map((l) => `- ${oneLine(l)}`).join("\n");

export function renderBlockerBody(s: BlockerBodySections): string {
  const parts = [`## Goal\n\n${s.goal.trim()}`, `## Background / Rationale\n\n${s.background.trim()}`];
  if (s.evidence && s.evidence.length > 0) parts.push(`## Evidence\n\n${bullets(s.evidence)}`);
  parts.push(`## Acceptance Criteria\n\n${bullets(s.acceptance)}`);
  parts.push(`## Automated Validation Gates\n\n${bullets(s.gates)}`);
  for (const x of s.extra ?? []) parts.push(`## ${oneLine(x.heading)}\n\n${bullets(x.lines)}`);
  return `${parts.join("\n\n")}\n`;
}

/** Body of the `Release blockers: <tag>` epic. */
export function blockerEpicBody(tag: string): string {
  return renderBlockerBody({
    goal: `Track every release blocker for ${tag} until the release is complete on all channels.`,
    background:
      "Each task in this epic is one blocker: a channel that does not deliver the release as planned, or a failed " +
      "release step. release-monitor files them and marks them done when the problem clears.",
    acceptance: [`Every task in this epic is done or canceled.`, `\`monitor verify ${tag}\` reports ok.`],
    gates: [
      "`ergo list --epic <this-epic-id> --json` lists the blockers with their states.",
      "`ergo list --ready --epic <this-epic-id> --json` lists the blockers ready to work on.",
      `\`monitor verify ${tag}\` exits 0.`,
    ],
  });
}

/** Collapse whitespace (newlines included) to single spaces and cap the length. */
export function oneLine(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
