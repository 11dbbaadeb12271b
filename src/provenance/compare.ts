/**
 * The pure comparison: expected identity + decoded, verified evidence → provenance findings and a per-item result.
 * No I/O. The caller maps findings onto severities by policy (`required` → drift, `warn` → warning); "could not tell"
 * is never a finding here, it is `signature: "unknown"` with no claim checked.
 */
import semver from "semver";
import { parseWorkflowSan, signerProblem, type AttestationKind } from "./identity.ts";
import type { DecodedStatement } from "./statement.ts";
import type { SignerIdentity } from "./verify.ts";
import type { PROVENANCE_FINDING_CODES } from "../drift/types.ts";

export type ProvenanceFindingCode = (typeof PROVENANCE_FINDING_CODES)[number];

export interface ProvenanceFinding {
  readonly code: ProvenanceFindingCode;
  readonly message: string;
  readonly subject?: string;
  readonly expected?: string;
  readonly actual?: string;
}

export type SignatureStatus = "verified" | "invalid" | "absent" | "unknown" | "not-applicable";

export interface ItemResult {
  readonly signature: SignatureStatus;
  readonly repository: string | null;
  readonly workflow: string | null;
  readonly ref: string | null;
  readonly commit: string | null;
  readonly subjects_matched: boolean;
}

export interface Compared {
  readonly result: ItemResult;
  readonly findings: readonly ProvenanceFinding[];
}

export interface ExpectedIdentity {
  /** `owner/repo`. */
  readonly repository: string;
  /** The expected 40-hex commit; undefined when it could not be resolved (commit checks are then skipped). */
  readonly commit: string | undefined;
  /**
   * The tag's peeled commit, which an immutable release's attestation names whatever the build ran from; default
   * `commit` (they differ only under `provenance.commit: build-metadata`).
   */
  readonly tagCommit?: string | undefined;
  /** Allowed workflow file paths (`.github/workflows/release.yml`) or bare file names (`release.yml`). */
  readonly workflows: readonly string[];
  /** Allowed refs (`refs/tags/v1.2.3`, `refs/heads/main`). */
  readonly refs: readonly string[];
}

/** The artefact an attestation must cover. */
export interface ArtefactDigest {
  readonly name: string;
  readonly algorithm: "sha256" | "sha512";
  readonly hex: string;
}

/** What the fetch + verify layer found for one artefact. */
export type Evidence =
  | { readonly kind: "none" }
  | { readonly kind: "unknown"; readonly reason: string }
  | {
      readonly kind: "attestation";
      readonly attestation: AttestationKind;
      /** `unknown`: no trusted root available (offline, no cache): claims are reported, never `verified`. */
      readonly signature: "verified" | "invalid" | "unknown";
      readonly reason?: string;
      readonly signer?: SignerIdentity;
      readonly statement: DecodedStatement | undefined;
    };

const EMPTY: ItemResult = {
  signature: "absent",
  repository: null,
  workflow: null,
  ref: null,
  commit: null,
  subjects_matched: false,
};

function finding(
  code: ProvenanceFindingCode,
  message: string,
  detail: { subject?: string; expected?: string; actual?: string } = {},
): ProvenanceFinding {
  return { code, message, ...detail };
}

/** The file name of a workflow path: `.github/workflows/release.yml` → `release.yml`. */
export function workflowFile(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function workflowAllowed(path: string | undefined, allowed: readonly string[]): boolean {
  if (path === undefined) return false;
  return allowed.some((w) => w === path || workflowFile(w) === workflowFile(path));
}

/** Compare one artefact's build / publish attestation (GitHub build provenance, npm SLSA, PyPI publish). */
export function compareAttestation(expected: ExpectedIdentity, artefact: ArtefactDigest, ev: Evidence): Compared {
  if (ev.kind === "unknown") return { result: { ...EMPTY, signature: "unknown" }, findings: [] };
  if (ev.kind === "none") {
    return {
      result: EMPTY,
      findings: [finding("provenance-missing", `no attestation for ${artefact.name}`, { subject: artefact.name })],
    };
  }
  const st = ev.statement;
  const san = parseWorkflowSan(ev.signer?.san);
  const ext = ev.signer?.extensions ?? {};
  const claims = {
    repository: st?.build?.repository ?? san?.repository ?? repoFromUri(ext.sourceRepositoryUri),
    workflow: st?.build?.workflowPath ?? san?.path,
    ref: st?.build?.ref ?? ext.sourceRepositoryRef ?? san?.ref,
    commit: st?.build?.commit ?? ext.sourceRepositoryDigest,
  };
  const subjectsMatched = subjectMatches(st, artefact);
  const result: ItemResult = {
    signature: ev.signature,
    repository: claims.repository ?? null,
    workflow: claims.workflow ?? null,
    ref: claims.ref ?? null,
    commit: claims.commit ?? null,
    subjects_matched: subjectsMatched,
  };
  const findings: ProvenanceFinding[] = [];
  const subject = artefact.name;
  if (ev.signature === "invalid") {
    findings.push(
      finding(
        "provenance-signature-invalid",
        `the attestation for ${subject} does not verify: ${ev.reason ?? "invalid"}`,
        { subject },
      ),
    );
    return { result, findings };
  }
  if (ev.signature === "verified" && ev.signer) {
    const problem = signerProblem(ev.attestation, ev.signer);
    if (problem)
      findings.push(
        finding("provenance-signature-invalid", `untrusted signer for ${subject}: ${problem}`, { subject }),
      );
  }
  if (!subjectsMatched) {
    findings.push(
      finding("provenance-digest-mismatch", `the attestation does not name ${subject}'s ${artefact.algorithm}`, {
        subject,
        expected: `${artefact.algorithm}:${artefact.hex}`,
        actual: subjectDigests(st, artefact.algorithm),
      }),
    );
  }
  // Without a verified signer, claims that only a certificate carries (PyPI's) cannot be told: not findings.
  findings.push(...identityFindings(expected, claims, san, subject, ev.signature === "unknown"));
  return { result, findings };
}

function identityFindings(
  expected: ExpectedIdentity,
  claims: {
    repository: string | undefined;
    workflow: string | undefined;
    ref: string | undefined;
    commit: string | undefined;
  },
  san: ReturnType<typeof parseWorkflowSan>,
  subject: string,
  unverified = false,
): ProvenanceFinding[] {
  const out: ProvenanceFinding[] = [];
  if (unverified && claims.repository === undefined && claims.workflow === undefined && claims.commit === undefined)
    return out;
  if (claims.repository === undefined || claims.repository.toLowerCase() !== expected.repository.toLowerCase()) {
    out.push(
      finding(
        "provenance-repository-mismatch",
        `${subject} was built in ${claims.repository ?? "an unnamed repository"}`,
        {
          subject,
          expected: expected.repository,
          actual: claims.repository ?? "(none)",
        },
      ),
    );
  }
  // The workflow matches when either the statement's workflow path or the signer's SAN (a reusable workflow) is allowed.
  const workflowOk =
    workflowAllowed(claims.workflow, expected.workflows) || workflowAllowed(san?.path, expected.workflows);
  const refOk = claims.ref !== undefined && expected.refs.includes(claims.ref);
  if (!workflowOk || !refOk) {
    out.push(
      finding(
        "provenance-workflow-mismatch",
        `${subject} was built by ${claims.workflow ?? "?"}@${claims.ref ?? "?"}`,
        {
          subject,
          expected: `${expected.workflows.join(" | ")} @ ${expected.refs.join(" | ")}`,
          actual: `${claims.workflow ?? "(none)"}@${claims.ref ?? "(none)"}`,
        },
      ),
    );
  }
  if (expected.commit !== undefined && claims.commit?.toLowerCase() !== expected.commit.toLowerCase()) {
    out.push(
      finding("provenance-commit-mismatch", `${subject} was built from ${claims.commit ?? "an unnamed commit"}`, {
        subject,
        expected: expected.commit,
        actual: claims.commit ?? "(none)",
      }),
    );
  }
  return out;
}

function subjectMatches(st: DecodedStatement | undefined, artefact: ArtefactDigest): boolean {
  return st?.subjects.some((s) => s.digest[artefact.algorithm]?.toLowerCase() === artefact.hex.toLowerCase()) ?? false;
}

function subjectDigests(st: DecodedStatement | undefined, algorithm: string): string {
  const all = st?.subjects.map((s) => s.digest[algorithm]).filter((d) => d !== undefined) ?? [];
  return all.length === 0 ? "(none)" : all.map((d) => `${algorithm}:${d}`).join(", ");
}

function repoFromUri(uri: string | undefined): string | undefined {
  const m = uri === undefined ? null : /^https:\/\/github\.com\/([^/]+\/[^/]+)$/.exec(uri);
  return m?.[1];
}

/** Compare an immutable release's attestation: its purl names the tag and commit, its subjects are the asset set. */
export function compareReleaseAttestation(
  expected: ExpectedIdentity,
  release: { readonly tag: string; readonly assets: ReadonlyMap<string, string> },
  ev: Evidence,
): Compared {
  const subject = `release ${release.tag}`;
  if (ev.kind === "unknown") return { result: { ...EMPTY, signature: "unknown" }, findings: [] };
  if (ev.kind === "none") {
    return {
      result: EMPTY,
      findings: [finding("provenance-missing", `no release attestation for ${release.tag}`, { subject })],
    };
  }
  const rel = ev.statement?.release;
  const result: ItemResult = {
    signature: ev.signature,
    repository: rel?.repository ?? null,
    workflow: null,
    ref: rel ? `refs/tags/${rel.tag}` : null,
    commit: rel?.commit ?? null,
    subjects_matched: rel !== undefined && sameAssets(rel.assets, release.assets),
  };
  if (ev.signature === "invalid") {
    return {
      result,
      findings: [
        finding("provenance-signature-invalid", `the release attestation does not verify: ${ev.reason ?? "invalid"}`, {
          subject,
        }),
      ],
    };
  }
  const findings: ProvenanceFinding[] = [];
  if (ev.signature === "verified" && ev.signer) {
    const problem = signerProblem("github-release", ev.signer);
    if (problem)
      findings.push(finding("provenance-signature-invalid", `untrusted release signer: ${problem}`, { subject }));
  }
  findings.push(...releaseFindings(expected, release, rel, subject));
  return { result, findings };
}

function releaseFindings(
  expected: ExpectedIdentity,
  release: { readonly tag: string; readonly assets: ReadonlyMap<string, string> },
  rel: DecodedStatement["release"],
  subject: string,
): ProvenanceFinding[] {
  if (!rel)
    return [finding("release-attestation-mismatch", "the attestation is not a release attestation", { subject })];
  const out: ProvenanceFinding[] = [];
  const purl = `${rel.repository}@${rel.tag}`;
  const want = `${expected.repository}@${release.tag}`;
  if (purl.toLowerCase() !== want.toLowerCase()) {
    out.push(
      finding("release-attestation-mismatch", `the release attestation names ${purl}`, {
        subject,
        expected: want,
        actual: purl,
      }),
    );
  }
  const tagCommit = expected.tagCommit ?? expected.commit;
  if (tagCommit !== undefined && rel.commit?.toLowerCase() !== tagCommit.toLowerCase()) {
    out.push(
      finding("release-attestation-mismatch", `the release attestation's tag commit is ${rel.commit ?? "absent"}`, {
        subject,
        expected: tagCommit,
        actual: rel.commit ?? "(none)",
      }),
    );
  }
  if (!sameAssets(rel.assets, release.assets)) {
    out.push(
      finding("release-attestation-mismatch", "the release attestation's subjects are not the release's asset set", {
        subject,
        expected: describeAssets(release.assets),
        actual: describeAssets(rel.assets),
      }),
    );
  }
  return out;
}

function sameAssets(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, sha] of a) if (b.get(name)?.toLowerCase() !== sha.toLowerCase()) return false;
  return true;
}

function describeAssets(m: ReadonlyMap<string, string>): string {
  return [...m.keys()].sort().join(", ") || "(none)";
}

/** crates.io `trustpub_data`: a registry assertion, so `signature` is `not-applicable`; its commit still counts. */
/** The GitHub Actions run behind crates.io's `trustpub_data.run_id` (`GET /repos/{o}/{r}/actions/runs/{id}`). */
export interface ActionsRun {
  readonly id: string;
  /** The workflow file, e.g. `.github/workflows/release-publish.yml`. */
  readonly path: string;
  readonly headSha: string;
}

/**
 * Cross-check the run that published a crate: its head_sha is the expected commit, its workflow an allowed one.
 * Each mismatch is a finding carrying both values. A head_sha equal to `trustpub_data.sha` is not reported again
 * (compareTrustpub already judged that commit).
 */
export function compareCratesRun(
  expected: ExpectedIdentity,
  subject: string,
  run: ActionsRun,
  trustpubSha?: string,
): ProvenanceFinding[] {
  const findings: ProvenanceFinding[] = [];
  const head = run.headSha.toLowerCase();
  if (expected.commit !== undefined && head !== expected.commit.toLowerCase() && head !== trustpubSha?.toLowerCase()) {
    findings.push(
      finding("provenance-commit-mismatch", `${subject} was published by Actions run ${run.id} on ${run.headSha}`, {
        subject,
        expected: expected.commit,
        actual: run.headSha,
      }),
    );
  }
  if (!workflowAllowed(run.path, expected.workflows)) {
    findings.push(
      finding("provenance-workflow-mismatch", `${subject} was published by Actions run ${run.id} of ${run.path}`, {
        subject,
        expected: expected.workflows.join(", "),
        actual: run.path,
      }),
    );
  }
  return findings;
}

export function compareTrustpub(
  expected: ExpectedIdentity,
  crate: {
    readonly name: string;
    readonly trustpub: { readonly repository?: string; readonly sha: string } | null;
    readonly publishedBy: string | null;
    readonly trustedPublishingExpected: boolean;
  },
): Compared {
  const subject = crate.name;
  const tp = crate.trustpub;
  const result: ItemResult = {
    signature: "not-applicable",
    repository: tp?.repository ?? null,
    workflow: null,
    ref: null,
    commit: tp?.sha ?? null,
    subjects_matched: tp !== null,
  };
  const findings: ProvenanceFinding[] = [];
  if (tp === null) {
    findings.push(finding("provenance-missing", `${subject} has no trusted-publishing data`, { subject }));
    if (crate.trustedPublishingExpected) {
      findings.push(
        finding(
          "publisher-not-trusted",
          `${subject} was published by ${crate.publishedBy ?? "a token"}, not a trusted publisher`,
          {
            subject,
            actual: crate.publishedBy ?? "(token)",
          },
        ),
      );
    }
    return { result, findings };
  }
  if (tp.repository === undefined || tp.repository.toLowerCase() !== expected.repository.toLowerCase()) {
    findings.push(
      finding(
        "provenance-repository-mismatch",
        `${subject} was published from ${tp.repository ?? "another provider"}`,
        {
          subject,
          expected: expected.repository,
          actual: tp.repository ?? "(none)",
        },
      ),
    );
  }
  if (expected.commit !== undefined && tp.sha.toLowerCase() !== expected.commit.toLowerCase()) {
    findings.push(
      finding("provenance-commit-mismatch", `${subject} was published from ${tp.sha}`, {
        subject,
        expected: expected.commit,
        actual: tp.sha,
      }),
    );
  }
  return { result, findings };
}

/** npm `_npmUser.trustedPublisher`: present when trusted publishing is expected. */
export function compareNpmPublisher(pkg: {
  readonly name: string;
  readonly npmUser: string | null;
  readonly trustedPublisher: boolean;
}): ProvenanceFinding[] {
  if (pkg.trustedPublisher) return [];
  return [
    finding(
      "publisher-not-trusted",
      `${pkg.name} was published by ${pkg.npmUser ?? "an unknown user"} without a trusted publisher`,
      {
        subject: pkg.name,
        actual: pkg.npmUser ?? "(none)",
      },
    ),
  ];
}

/** How much evidence a channel's version carried; the pnpm `no-downgrade` rule compares these. */
export interface TrustLevel {
  readonly version: string;
  readonly provenance: boolean;
  readonly trustedPublisher: boolean;
}

/** `provenance-downgrade`: the previous version had provenance or a trusted publisher and this one does not. */
export function compareDowngrade(
  channel: string,
  previous: TrustLevel | undefined,
  current: TrustLevel,
): ProvenanceFinding[] {
  if (!previous) return [];
  const lost: string[] = [];
  if (previous.provenance && !current.provenance) lost.push("provenance");
  if (previous.trustedPublisher && !current.trustedPublisher) lost.push("trusted publisher");
  if (lost.length === 0) return [];
  return [
    finding(
      "provenance-downgrade",
      `${channel} ${current.version} lost ${lost.join(" and ")} that ${previous.version} had`,
      {
        subject: current.version,
        expected: `${lost.join(" and ")} (as ${previous.version})`,
        actual: "none",
      },
    ),
  ];
}

/** "Previous" for the downgrade rule: the highest version on the channel lower than `current` (semver order). */
export function previousVersion(versions: readonly string[], current: string): string | undefined {
  const lower = versions.filter(
    (v) => semver.valid(v) !== null && semver.valid(current) !== null && semver.lt(v, current),
  );
  return lower.sort(semver.rcompare)[0];
}
