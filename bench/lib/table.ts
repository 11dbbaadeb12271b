/** Target rows (what `npm run bench` prints and bench/results.json keeps) and a plain-text table. */

export type Verdict = "PASS" | "MISS" | "INFO";

export interface TargetRow {
  section: string;
  metric: string;
  /** Human-readable measured figure (medians unless stated). */
  measured: string;
  target: string;
  /** The figure the verdict compares, and the ratio to the target's bound when there is one. */
  value: number | null;
  ratio: string;
  verdict: Verdict;
}

export function row(
  section: string,
  metric: string,
  measured: string,
  target: string,
  value: number | null,
  ratio: string,
  pass: boolean | null,
): TargetRow {
  return { section, metric, measured, target, value, ratio, verdict: pass === null ? "INFO" : pass ? "PASS" : "MISS" };
}

export function renderTable(rows: readonly TargetRow[]): string {
  const head = ["section", "metric", "measured", "target", "ratio", "result"];
  const cells = rows.map((r) => [r.section, r.metric, r.measured, r.target, r.ratio, r.verdict]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

export const ms = (x: number): string => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
export const times = (x: number): string => `${x.toFixed(2)}x`;
export const mib = (x: number): string => `${Math.round(x)} MB`;
