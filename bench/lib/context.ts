import type { TargetRow } from "./table.ts";

export interface BenchContext {
  quick: boolean;
  /** Scratch directory for this run (under bench/tmp/, git-ignored). */
  tmp: string;
  /** Progress on stderr. */
  log(message: string): void;
  /** Override the scale section's project count. */
  scaleProjects: number | null;
}

export interface SectionResult {
  rows: TargetRow[];
  data: Record<string, unknown>;
}

/** The GitHub token the sims accept (bills the authenticated quota; 304s are free). */
export const BENCH_TOKEN = "ghp_benchToken0123456789abcdefABCDEF01";
