export const STATUSES = ["ok", "pending", "drift", "unknown", "skipped"] as const;
export type Status = (typeof STATUSES)[number];

/** Stable finding codes (report@1). Adding codes is fine; renaming is a breaking change. */
/** The provenance checks' finding codes (issue 13), a subset of FINDING_CODES. */
export const PROVENANCE_FINDING_CODES = [
  "provenance-missing",
  "provenance-signature-invalid",
  "provenance-digest-mismatch",
  "provenance-commit-mismatch",
  "provenance-repository-mismatch",
  "provenance-workflow-mismatch",
  "publisher-not-trusted",
  "release-attestation-mismatch",
  "provenance-downgrade",
] as const;

export const FINDING_CODES = [
  "tag-missing",
  "release-missing",
  "release-draft",
  "release-prerelease",
  "asset-missing",
  "asset-unexpected",
  "asset-not-uploaded",
  "checksum-missing",
  "checksum-file-missing",
  "checksum-invalid",
  "sha-mismatch",
  "digest-unavailable",
  "formula-missing",
  "formula-version-mismatch",
  "formula-url-mismatch",
  "formula-placeholder",
  "formula-platform-missing",
  "formula-ahead",
  "version-missing",
  /** npm: the version (or the whole package) was unpublished; permanent. */
  "version-unpublished",
  "version-not-latest",
  "yanked",
  /** crates.io: the sparse index and the API disagree on a version's yank state (the index decides). */
  "index-api-disagree",
  "deprecated",
  "file-missing",
  "probe-failed",
  /** Info: a cross-channel comparison could not run because the other channel's data is unavailable. */
  "cross-check-skipped",
  /** Info: the checksum file is on a draft release, whose assets are not downloaded. */
  "checksum-file-unread",
  /** Unknown: an asset's checksum sidecar (`<asset>.sha256`) is on the release but could not be read. */
  "checksum-unreadable",
  // Provenance (src/provenance): drift under policy `required`, severity `warning` under `warn`.
  ...PROVENANCE_FINDING_CODES,
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

/**
 * How much a finding weighs: `drift` findings make the channel drift (or pending inside grace). `warning` (provenance
 * findings under policy `warn`) is reported without changing the channel's status.
 */
export type FindingSeverity = "drift" | "pending" | "info" | "unknown" | "warning";

export interface Finding {
  code: FindingCode;
  severity: FindingSeverity;
  message: string;
  subject?: string;
  expected?: string;
  actual?: string;
  /** True when the finding is held back by the propagation grace window. */
  in_grace?: boolean;
}

/** Worst status wins; `skipped` never affects the overall verdict. */
const RANK: Record<Status, number> = { skipped: 0, ok: 1, pending: 2, unknown: 3, drift: 4 };

export function worstStatus(statuses: readonly Status[]): Status {
  let worst: Status = "ok";
  let any = false;
  for (const s of statuses) {
    if (s === "skipped") continue;
    any = true;
    if (RANK[s] > RANK[worst]) worst = s;
  }
  return any ? worst : "skipped";
}
