import type { SummaryInput } from "../channel.ts";
import { publicUrl } from "../../http/public-url.ts";
import { str, has, versionMissing, versionWithLatest } from "../lenient.ts";
import type { NpmObservation } from "./types.ts";

/** report@1 `observed` for npm. */
export interface NpmObserved {
  package: string;
  /** The registry that answered (no credentials). */
  registry: string;
  /** null when the packument could not be read (the version document answered alone). */
  found: boolean | null;
  latest: string | null;
  version: string | null;
  version_present: boolean;
  integrity: string | null;
  shasum: string | null;
  tarball: string | null;
  deprecated: string | null;
  download: { sha512: string; sha1: string } | null;
}

export function observedNpm(o: NpmObservation): NpmObserved {
  const doc = o.version_doc;
  return {
    package: o.package,
    registry: o.registry,
    found: o.packument_found,
    latest: o.dist_tags["latest"] ?? null,
    version: doc?.version ?? null,
    version_present: doc !== null,
    integrity: doc?.integrity ?? null,
    shasum: doc?.shasum ?? null,
    tarball: doc?.tarball ? publicUrl(doc.tarball) : null,
    deprecated: doc
      ? o.version_doc_source === "version-endpoint"
        ? doc.deprecated
        : (doc.deprecated ?? o.deprecated[doc.version] ?? null)
      : null,
    download: o.download ? { sha512: o.download.sha512_base64, sha1: o.download.sha1_hex } : null,
  };
}

export function summaryNpm(s: SummaryInput): string {
  const o = s.observed;
  if (has(s.findings, "version-unpublished")) return `unpublished ${s.version}`;
  if (versionMissing(s.findings, s.version)) return `missing ${s.version}`;
  const deprecated = has(s.findings, "deprecated") ? " DEPRECATED" : "";
  const sha = has(s.findings, "sha-mismatch") ? ", integrity MISMATCH" : "";
  return `${versionWithLatest(s.version, str(o["latest"]), deprecated)}${sha}`;
}
