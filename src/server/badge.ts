import type { Status } from "../drift/types.ts";
import type { Report } from "../report/types.ts";
import { escapeHtml } from "./html.ts";

/**
 * A shields.io-style flat badge for one project's latest release:
 *   `release v0.8.0 | in sync` (green), `release v0.8.0 | drift: npm, pypi` (red), `… | pending` (yellow),
 *   `… | unknown` (grey). Text widths are estimated from Verdana 11 px advance widths (close enough to never clip).
 */

export interface BadgeContent {
  label: string;
  message: string;
  color: string;
}

const COLORS: Record<Status | "none", string> = {
  ok: "#4c1",
  drift: "#e05d44",
  pending: "#dfb317",
  unknown: "#9f9f9f",
  skipped: "#9f9f9f",
  none: "#9f9f9f",
};

export function badgeContent(report: Report | null): BadgeContent {
  if (!report) return { label: "release", message: "unknown", color: COLORS.none };
  const label = `release ${report.tag}`;
  switch (report.status) {
    case "ok":
      return { label, message: "in sync", color: COLORS.ok };
    case "drift": {
      const drifted = report.channels.filter((c) => c.status === "drift").map((c) => c.channel);
      return { label, message: `drift: ${drifted.join(", ")}`, color: COLORS.drift };
    }
    case "pending":
      return { label, message: "pending", color: COLORS.pending };
    case "unknown":
      return { label, message: "unknown", color: COLORS.unknown };
    case "skipped":
      return { label, message: "not checked", color: COLORS.skipped };
  }
}

/** Verdana 11 px advance widths (px), grouped; anything else counts as a wide-ish 7.5 px. */
const WIDTH_GROUPS: [string, number][] = [
  ["il.,:;'|!`", 3.6],
  ["jI()[]{} /\\-", 4.6],
  ["frt", 4.9],
  ['sz*^"', 6.0],
  ["abcdeghknopquvxy0123456789#$+<=>?_~", 6.9],
  ["ABCDEFGHJKLNOPQRSTUVXYZ&%", 7.6],
  ["mw", 10.7],
  ["MW@", 11.2],
];
const WIDTHS = new Map<string, number>(
  WIDTH_GROUPS.flatMap(([chars, w]) => [...chars].map((c) => [c, w] as [string, number])),
);

export function textWidth(text: string): number {
  let w = 0;
  for (const c of text) w += WIDTHS.get(c) ?? 7.5;
  return w;
}

export function renderBadge(b: BadgeContent): string {
  const label = b.label.slice(0, 120);
  const message = b.message.slice(0, 120);
  const lw = Math.round(textWidth(label) + 10);
  const mw = Math.round(textWidth(message) + 10);
  const w = lw + mw;
  const title = escapeHtml(`${label}: ${message}`);
  const l = escapeHtml(label);
  const m = escapeHtml(message);
  const color = /^#[0-9a-f]{3,6}$/i.test(b.color) ? b.color : COLORS.none;
  const lx = lw / 2;
  const mx = lw + mw / 2;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${title}">
<title>${title}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${color}"/><rect width="${w}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="11">
<text x="${lx}" y="15" fill="#010101" fill-opacity=".3">${l}</text><text x="${lx}" y="14">${l}</text>
<text x="${mx}" y="15" fill="#010101" fill-opacity=".3">${m}</text><text x="${mx}" y="14">${m}</text>
</g>
</svg>
`;
}
