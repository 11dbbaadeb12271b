// ---------------------------------------------------------------- plan piece

export interface NpmPlan {
  package: string;
}

// ---------------------------------------------------------------- observation

export interface NpmVersionDoc {
  version: string;
  deprecated: string | null;
  integrity: string | null;
  shasum: string | null;
  tarball: string | null;
  /**
   * From the fresh version endpoint only (absent on packument entries): what the provenance gatherer needs, so it
   * does not fetch the same document again. `dist.attestations.url`, and `_npmUser` (null when the document has none).
   */
  attestations_url?: string | null;
  npm_user?: { name: string | null; trusted_publisher: boolean } | null;
}

export interface NpmObservation {
  channel: "npm";
  package: string;
  /** The registry that answered (no credentials), ends with "/". */
  registry: string;
  /** false when the packument answers 404; null when it could not be read (over the size cap, 5xx) */
  packument_found: boolean | null;
  /** From the packument, else `/-/package/{name}/dist-tags`; empty when neither answered. */
  dist_tags: Record<string, string>;
  versions: string[];
  /** Deprecation message per version, from the packument. */
  deprecated: Record<string, string>;
  /** The version document: from `/{name}/{version}` (fresh), falling back to the packument entry. */
  version_doc: NpmVersionDoc | null;
  /** Where `version_doc` came from: the fresh version endpoint, or the (CDN-cached) packument. */
  version_doc_source: "version-endpoint" | "packument" | null;
  /** The package, or this version, was unpublished (`time.unpublished`, or listed in `time` but not in `versions`). */
  unpublished: { scope: "package" | "version"; at: string | null } | null;
  /** Why the packument could not be read, when it could not (the version document answered alone). */
  packument_error: string | null;
  /** `--deep`: hashes of the downloaded tarball. */
  download: { sha512_base64: string; sha1_hex: string; bytes: number } | null;
}
