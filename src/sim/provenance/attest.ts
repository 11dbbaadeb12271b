/**
 * The sim's attestations in the shapes each registry serves, for any subjects: GitHub build provenance (SLSA v1 as
 * `actions/attest-build-provenance` writes it), GitHub's immutable-release attestation (release v0.2), npm's pair
 * (publish + SLSA) and PyPI's Integrity API object. Each is signed at run time by the sim signer.
 */
import { GITHUB_ACTIONS_ISSUER, GITHUB_RELEASES_SAN } from "../../provenance/identity.ts";
import { PREDICATE } from "../../provenance/statement.ts";
import { toPep740, type SimIdentity, type SimSigner } from "./signer.ts";

export interface SimBuild {
  /** `owner/repo`. */
  readonly repository: string;
  /** `.github/workflows/release.yml`. */
  readonly workflowPath: string;
  readonly ref: string;
  readonly commit: string;
  readonly runId?: number;
}

export interface SimSubject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

const STATEMENT_V1 = "https://in-toto.io/Statement/v1";

export function buildStatement(build: SimBuild, subjects: readonly SimSubject[]): Record<string, unknown> {
  const repoUrl = `https://github.com/${build.repository}`;
  return {
    _type: STATEMENT_V1,
    subject: subjects,
    predicateType: PREDICATE.slsaV1,
    predicate: {
      buildDefinition: {
        buildType: "https://actions.github.io/buildtypes/workflow/v1",
        externalParameters: { workflow: { ref: build.ref, repository: repoUrl, path: build.workflowPath } },
        internalParameters: {
          github: { event_name: build.ref.startsWith("refs/tags/") ? "push" : "workflow_dispatch" },
        },
        resolvedDependencies: [{ uri: `git+${repoUrl}@${build.ref}`, digest: { gitCommit: build.commit } }],
      },
      runDetails: {
        builder: { id: "https://github.com/actions/runner/github-hosted" },
        metadata: { invocationId: `${repoUrl}/actions/runs/${build.runId ?? 1}/attempts/1` },
      },
    },
  };
}

/** The Fulcio identity of a GitHub Actions run of `build`. */
export function workflowIdentity(build: SimBuild): SimIdentity {
  const repoUrl = `https://github.com/${build.repository}`;
  const signer = `${repoUrl}/${build.workflowPath}@${build.ref}`;
  return {
    san: signer,
    issuer: GITHUB_ACTIONS_ISSUER,
    extensions: {
      buildSignerUri: signer,
      buildSignerDigest: build.commit,
      sourceRepositoryUri: repoUrl,
      sourceRepositoryDigest: build.commit,
      sourceRepositoryRef: build.ref,
      buildConfigUri: signer,
      runInvocationUri: `${repoUrl}/actions/runs/${build.runId ?? 1}/attempts/1`,
    },
  };
}

/** One GitHub build-provenance bundle covering `subjects` (sha256 digests of release assets). */
export function githubBuildBundle(signer: SimSigner, build: SimBuild, subjects: readonly SimSubject[]) {
  return signer.signWithCertificate(buildStatement(build, subjects), workflowIdentity(build));
}

/** The immutable-release attestation: the tag's purl (sha1 = tag commit) plus every asset. */
export function githubReleaseBundle(
  signer: SimSigner,
  release: {
    readonly repository: string;
    readonly tag: string;
    readonly commit: string;
    readonly assets: readonly SimSubject[];
  },
) {
  const purl = `pkg:github/${release.repository}@${release.tag}`;
  const statement = {
    _type: STATEMENT_V1,
    subject: [{ uri: purl, digest: { sha1: release.commit } }, ...release.assets],
    predicateType: PREDICATE.releaseV02,
    predicate: { purl, repository: release.repository, tag: release.tag },
  };
  return signer.signWithCertificate(statement, { san: GITHUB_RELEASES_SAN, issuer: "https://sim.invalid/releases" });
}

/** npm's `/-/npm/v1/attestations/<name>@<v>` body: the registry-key publish attestation and the SLSA provenance. */
export async function npmAttestationsBody(
  signer: SimSigner,
  pkg: { readonly name: string; readonly version: string; readonly sha512Hex: string; readonly registry: string },
  build: SimBuild,
) {
  const purlName = pkg.name.startsWith("@") ? `%40${pkg.name.slice(1)}` : pkg.name;
  const subject = [{ name: `pkg:npm/${purlName}@${pkg.version}`, digest: { sha512: pkg.sha512Hex } }];
  const publish = await signer.signWithRegistryKey({
    _type: "https://in-toto.io/Statement/v0.1",
    subject,
    predicateType: PREDICATE.npmPublish,
    predicate: { name: pkg.name, version: pkg.version, registry: pkg.registry },
  });
  const provenance = await githubBuildBundle(signer, build, subject);
  return {
    attestations: [
      { predicateType: PREDICATE.npmPublish, bundle: publish },
      { predicateType: PREDICATE.slsaV1, bundle: provenance },
    ],
  };
}

/** PyPI's Integrity API body for one file, published by `build`'s workflow. */
export async function pypiProvenanceBody(
  signer: SimSigner,
  file: { readonly filename: string; readonly sha256: string },
  build: SimBuild,
) {
  const bundle = await signer.signWithCertificate(
    {
      _type: STATEMENT_V1,
      subject: [{ name: file.filename, digest: { sha256: file.sha256 } }],
      predicateType: PREDICATE.pypiPublish,
      predicate: null,
    },
    workflowIdentity(build),
  );
  const workflow = build.workflowPath.slice(build.workflowPath.lastIndexOf("/") + 1);
  return {
    version: 1,
    attestation_bundles: [
      {
        publisher: { kind: "GitHub", repository: build.repository, workflow, environment: null },
        attestations: [toPep740(bundle)],
      },
    ],
  };
}
