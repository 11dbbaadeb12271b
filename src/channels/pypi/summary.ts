import type { SummaryInput } from "../channel.ts";
import { str, list, has, versionMissing, versionWithLatest } from "../lenient.ts";
import type { PypiObservation } from "./types.ts";

/** report@1 `observed` for PyPI. */
export interface PypiObserved {
  project: string;
  found: boolean;
  latest: string | null;
  version: string | null;
  yanked: boolean | null;
  yanked_reason: string | null;
  files: { filename: string; packagetype: string; sha256: string | null; yanked: boolean }[];
  /** Probe notes (what it saw but did not count); present only when there are some. */
  notes?: string[];
}

export function observedPypi(o: PypiObservation): PypiObserved {
  const r = o.release;
  return {
    project: o.normalized_name ?? o.project,
    found: o.project_found,
    latest: o.latest_version,
    version: r?.version ?? null,
    yanked: r ? r.yanked : null,
    yanked_reason: r?.yanked_reason ?? null,
    files: (r?.files ?? []).map((f) => ({
      filename: f.filename,
      packagetype: f.packagetype,
      sha256: f.sha256,
      yanked: f.yanked,
    })),
    ...(o.notes && o.notes.length > 0 ? { notes: [...o.notes] } : {}),
  };
}

export function summaryPypi(s: SummaryInput): string {
  const o = s.observed;
  if (versionMissing(s.findings, s.version)) return `missing ${s.version}`;
  const files = list(o["files"]).length;
  const missing = s.findings.filter((f) => f.code === "file-missing").length;
  const yanked = has(s.findings, "yanked") ? " YANKED" : "";
  const sha = has(s.findings, "sha-mismatch") ? ", sha256 MISMATCH" : "";
  const missingText = missing > 0 ? `, ${missing} missing` : "";
  return `${versionWithLatest(s.version, str(o["latest"]), yanked)}, ${files} files${missingText}${sha}`;
}
