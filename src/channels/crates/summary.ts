import type { SummaryInput } from "../channel.ts";
import { maxVersion } from "../../drift/versions.ts";
import { obj, str, has, versionMissing, versionWithLatest } from "../lenient.ts";
import type { CratesObservation } from "./types.ts";

/** report@1 `observed` for crates.io. */
export interface CratesObserved {
  crate: string;
  /** Version the API answered for, null on 404. */
  version: string | null;
  checksum: string | null;
  yanked: boolean | null;
  yank_message: string | null;
  index: { found: boolean; versions: number; latest: string | null };
  download_sha256: string | null;
}

export function observedCrates(o: CratesObservation): CratesObserved {
  const api = o.api_version;
  // Yank state: the API's when freshly read, else the index line for the same version (the index decides).
  const line = api ? o.index.entries.find((e) => e.vers === api.num) : undefined;
  const live = o.index.entries.filter((e) => !e.yanked).map((e) => e.vers);
  return {
    crate: o.crate,
    version: api?.num ?? null,
    checksum: api?.checksum ?? null,
    yanked: api ? (o.api_cached && line ? line.yanked : api.yanked) : null,
    yank_message: api?.yank_message ?? null,
    index: { found: o.index.found, versions: o.index.entries.length, latest: maxVersion(live, "0.0.0") },
    download_sha256: o.download?.sha256 ?? null,
  };
}

export function summaryCrates(s: SummaryInput): string {
  const o = s.observed;
  if (versionMissing(s.findings, s.version)) return `missing ${s.version}`;
  const index = obj(o["index"]);
  const yanked = has(s.findings, "yanked") ? " YANKED" : "";
  const sha = has(s.findings, "sha-mismatch") ? ", checksum MISMATCH" : "";
  return `${versionWithLatest(s.version, str(index?.["latest"]), yanked)}${sha}`;
}
