import { parseFormula } from "../channels/homebrew/parse-formula.ts";

/**
 * Pure Homebrew formula rewrite, following plasmite's scripts/update_homebrew_formula.sh (plasmite-release.md §7):
 * the `version "…"` line, every `/download/vX.Y.Z/`, the archive names, `PLACEHOLDER_<PLATFORM>_SHA256`, and the
 * `sha256 "…"` line directly after each `url`. Alignment is then checked with the static formula parser, like
 * verify_homebrew_formula_alignment.sh: version equal, and for each platform the expected URL with its sha256.
 */

export interface FormulaArtifactTarget {
  platform: string;
  /** Expected download URL (the config's homebrew url template at this tag). */
  url: string;
  sha256: string;
}

export interface FormulaTarget {
  version: string;
  tag: string;
  artifacts: FormulaArtifactTarget[];
}

const VERSION_LINE = /^(\s*)version(\s+)"([^"]*)"/m;
const VERSIONISH = "[0-9]+\\.[0-9]+\\.[0-9]+[0-9A-Za-z.+-]*?";

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function archiveOf(url: string): string {
  return decodeURIComponent(url.split("/").pop() ?? "");
}

export function formulaVersion(text: string): string | null {
  return VERSION_LINE.exec(text)?.[3] ?? null;
}

export function updateFormula(text: string, t: FormulaTarget): { text: string; from: string | null } {
  const from = formulaVersion(text);
  let out = text.replace(VERSION_LINE, (_m, indent: string, space: string) => `${indent}version${space}"${t.version}"`);
  out = out.replace(new RegExp(`/download/v?${VERSIONISH}/`, "g"), `/download/${t.tag}/`);
  for (const a of t.artifacts) {
    const archive = archiveOf(a.url);
    const pattern = escapeRegex(archive).replace(escapeRegex(t.version), VERSIONISH);
    if (pattern !== escapeRegex(archive)) out = out.replace(new RegExp(pattern, "g"), archive);
    out = out.replaceAll(`PLACEHOLDER_${a.platform.toUpperCase()}_SHA256`, a.sha256);
  }
  const lines = out.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*url\s+"([^"]+)"/.exec(lines[i] ?? "");
    if (!m) continue;
    const a = t.artifacts.find((x) => archiveOf(m[1] ?? "") === archiveOf(x.url));
    if (!a) continue;
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j] ?? "";
      if (/^\s*url\s+"/.test(line)) break;
      if (/^\s*sha256\s+"[^"]*"/.test(line)) {
        lines[j] = line.replace(/^(\s*sha256\s+)"[^"]*"/, `$1"${a.sha256}"`);
        break;
      }
    }
  }
  return { text: lines.join("\n"), from };
}

/** Problems that keep the formula from matching the target; [] when aligned. */
export function formulaProblems(text: string, t: FormulaTarget): string[] {
  const parsed = parseFormula(text);
  const problems: string[] = [];
  if (parsed.version !== t.version) problems.push(`version is ${parsed.version ?? "missing"}, expected ${t.version}`);
  for (const a of t.artifacts) {
    const found = parsed.artifacts.filter((x) => x.resolved_url === a.url);
    if (found.length === 0) {
      problems.push(`${a.platform}: no url ${a.url}`);
      continue;
    }
    if (!found.some((x) => x.sha256 === a.sha256)) {
      problems.push(`${a.platform}: sha256 ${found[0]?.sha256 ?? "missing"}, expected ${a.sha256}`);
    }
  }
  if (/PLACEHOLDER_[A-Z0-9_]+_SHA256/.test(text)) problems.push("a PLACEHOLDER sha256 remains");
  return problems;
}
