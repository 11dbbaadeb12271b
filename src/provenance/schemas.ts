/**
 * Lenient (upstream) schemas for the attestation shapes each registry serves (../shared/reference/provenance.md
 * §3.1–3.4). Unknown fields pass through; only the fields this module reads are constrained.
 */
import { z } from "zod";

/** A Sigstore bundle as JSON; `@sigstore/bundle` validates it fully before verification. */
export const SigstoreBundle = z.looseObject({
  mediaType: z.string(),
  verificationMaterial: z.looseObject({}),
  dsseEnvelope: z
    .looseObject({
      payload: z.string(),
      payloadType: z.string(),
      signatures: z.array(z.looseObject({ sig: z.string() })),
    })
    .optional(),
});
export type SigstoreBundle = z.infer<typeof SigstoreBundle>;

/** `GET /repos/{o}/{r}/attestations/sha256:<hex>`: `bundle` is null since 2026-07 and `bundle_url` serves it. */
export const GithubAttestationsResponse = z.looseObject({
  attestations: z.array(
    z.looseObject({
      bundle: SigstoreBundle.nullable().optional(),
      bundle_url: z.string().nullable().optional(),
      repository_id: z.number().optional(),
      initiator: z.string().optional(),
    }),
  ),
});
export type GithubAttestationsResponse = z.infer<typeof GithubAttestationsResponse>;

/** `GET /-/npm/v1/attestations/<name>@<version>`. */
export const NpmAttestationsResponse = z.looseObject({
  attestations: z.array(z.looseObject({ predicateType: z.string(), bundle: SigstoreBundle })),
});
export type NpmAttestationsResponse = z.infer<typeof NpmAttestationsResponse>;

/** One PEP 740 attestation object. */
export const Pep740Attestation = z.looseObject({
  version: z.literal(1),
  verification_material: z.looseObject({
    certificate: z.string(),
    transparency_entries: z.array(z.looseObject({})).min(1),
  }),
  envelope: z.looseObject({ statement: z.string(), signature: z.string() }),
});
export type Pep740Attestation = z.infer<typeof Pep740Attestation>;

export const PypiPublisher = z.looseObject({
  kind: z.string(),
  repository: z.string().optional(),
  workflow: z.string().optional(),
  environment: z.string().nullable().optional(),
});
export type PypiPublisher = z.infer<typeof PypiPublisher>;

/** `GET /integrity/<project>/<version>/<file>/provenance` (application/vnd.pypi.integrity.v1+json). */
export const PypiProvenance = z.looseObject({
  version: z.literal(1),
  attestation_bundles: z.array(
    z.looseObject({ publisher: PypiPublisher, attestations: z.array(Pep740Attestation).min(1) }),
  ),
});
export type PypiProvenance = z.infer<typeof PypiProvenance>;

/** PyPI's "none" body: `{"message":"No provenance available for <file>"}`. */
export const PypiNoProvenance = z.looseObject({ message: z.string().regex(/^No provenance available/) });

/** crates.io `version.trustpub_data` (a registry assertion, not a signature). */
export const CratesTrustpubData = z.union([
  z.looseObject({ provider: z.literal("github"), repository: z.string(), run_id: z.string(), sha: z.string() }),
  z.looseObject({ provider: z.literal("gitlab"), project_path: z.string(), job_id: z.string(), sha: z.string() }),
  z.looseObject({ provider: z.string(), sha: z.string() }),
]);
export type CratesTrustpubData = z.infer<typeof CratesTrustpubData>;

/** `GET /repos/{o}/{r}/actions/runs/{run_id}`: the fields the crates.io cross-check reads. */
export const ActionsRunResponse = z.looseObject({
  id: z.number(),
  path: z.string(),
  head_sha: z.string(),
});

export const CratesVersionProvenance = z.looseObject({
  version: z.looseObject({
    num: z.string(),
    trustpub_data: CratesTrustpubData.nullable().optional(),
    published_by: z.looseObject({ login: z.string() }).nullable().optional(),
  }),
});
export type CratesVersionProvenance = z.infer<typeof CratesVersionProvenance>;

/** An in-toto Statement (v0.1 or v1). Subjects carry `name` (artefacts) or `uri` (the release purl). */
export const InTotoStatement = z.looseObject({
  _type: z.string().regex(/^https:\/\/in-toto\.io\/Statement\/v(0\.1|1)$/),
  subject: z.array(
    z.looseObject({
      name: z.string().optional(),
      uri: z.string().optional(),
      digest: z.record(z.string(), z.string()),
    }),
  ),
  predicateType: z.string(),
  predicate: z.unknown(),
});
export type InTotoStatement = z.infer<typeof InTotoStatement>;

/** SLSA provenance v1 (the fields read). */
export const SlsaV1Predicate = z.looseObject({
  buildDefinition: z.looseObject({
    buildType: z.string(),
    externalParameters: z.looseObject({
      workflow: z.looseObject({ repository: z.string(), path: z.string(), ref: z.string() }).optional(),
    }),
    resolvedDependencies: z
      .array(z.looseObject({ uri: z.string().optional(), digest: z.record(z.string(), z.string()).optional() }))
      .optional(),
  }),
  runDetails: z
    .looseObject({
      builder: z.looseObject({ id: z.string() }).optional(),
      metadata: z.looseObject({ invocationId: z.string().optional() }).optional(),
    })
    .optional(),
});

/** SLSA provenance v0.2 (npm's old generation). */
export const SlsaV02Predicate = z.looseObject({
  buildType: z.string(),
  invocation: z.looseObject({
    configSource: z.looseObject({
      uri: z.string(),
      digest: z.record(z.string(), z.string()).optional(),
      entryPoint: z.string().optional(),
    }),
  }),
});

/** The in-toto release predicate (v0.1 has `releaseId`, v0.2 `databaseId`). */
export const ReleasePredicate = z.looseObject({
  purl: z.string(),
  repository: z.string().optional(),
  tag: z.string().optional(),
});

/** npm's publish predicate. */
export const NpmPublishPredicate = z.looseObject({ name: z.string(), version: z.string(), registry: z.string() });
