/**
 * Decoding in-toto statements from DSSE envelopes into the claims the comparison reads: subjects, the build's
 * repository / workflow / ref / commit (SLSA v1 and v0.2), the release predicate's tag commit and asset set, and
 * npm's publish predicate.
 */
import {
  InTotoStatement,
  NpmPublishPredicate,
  ReleasePredicate,
  SigstoreBundle,
  SlsaV02Predicate,
  SlsaV1Predicate,
} from "./schemas.ts";

export const PREDICATE = {
  slsaV1: "https://slsa.dev/provenance/v1",
  slsaV02: "https://slsa.dev/provenance/v0.2",
  releaseV01: "https://in-toto.io/attestation/release/v0.1",
  releaseV02: "https://in-toto.io/attestation/release/v0.2",
  npmPublish: "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
  pypiPublish: "https://docs.pypi.org/attestations/publish/v1",
} as const;

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface Subject {
  readonly name: string | undefined;
  readonly uri: string | undefined;
  readonly digest: Readonly<Record<string, string>>;
}

export interface BuildClaims {
  /** `owner/repo`, from `workflow.repository` (a URL) or the v0.2 config source. */
  readonly repository: string | undefined;
  readonly workflowPath: string | undefined;
  readonly ref: string | undefined;
  readonly commit: string | undefined;
}

export interface ReleaseClaims {
  readonly repository: string;
  readonly tag: string;
  /** sha1 of the `pkg:github/<o>/<r>@<tag>` subject: the tag's commit. */
  readonly commit: string | undefined;
  /** Asset name → sha256 of every other subject. */
  readonly assets: ReadonlyMap<string, string>;
}

export interface DecodedStatement {
  readonly predicateType: string;
  readonly subjects: readonly Subject[];
  readonly build: BuildClaims | undefined;
  readonly release: ReleaseClaims | undefined;
  readonly npmPublish: { readonly name: string; readonly version: string } | undefined;
}

export type DecodeResult = { ok: true; statement: DecodedStatement } | { ok: false; reason: string };

/** Decode the statement a DSSE bundle carries. The envelope is not trusted by this: verify the bundle too. */
export function decodeBundleStatement(bundle: unknown): DecodeResult {
  const parsed = SigstoreBundle.safeParse(bundle);
  if (!parsed.success) return { ok: false, reason: "not a Sigstore bundle" };
  const env = parsed.data.dsseEnvelope;
  if (!env) return { ok: false, reason: "the bundle has no DSSE envelope" };
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) return { ok: false, reason: `payloadType ${env.payloadType}` };
  return decodeStatementBytes(Buffer.from(env.payload, "base64"));
}

export function decodeStatementBytes(bytes: Uint8Array): DecodeResult {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return { ok: false, reason: "the payload is not JSON" };
  }
  const st = InTotoStatement.safeParse(json);
  if (!st.success) return { ok: false, reason: `not an in-toto statement: ${st.error.issues[0]?.message ?? ""}` };
  const subjects = st.data.subject.map((s) => ({ name: s.name, uri: s.uri, digest: s.digest }));
  const { predicateType, predicate } = st.data;
  return {
    ok: true,
    statement: {
      predicateType,
      subjects,
      build: buildClaims(predicateType, predicate),
      release: releaseClaims(predicateType, predicate, subjects),
      npmPublish: predicateType === PREDICATE.npmPublish ? npmPublish(predicate) : undefined,
    },
  };
}

function buildClaims(predicateType: string, predicate: unknown): BuildClaims | undefined {
  if (predicateType === PREDICATE.slsaV1) {
    const p = SlsaV1Predicate.safeParse(predicate);
    if (!p.success) return undefined;
    const wf = p.data.buildDefinition.externalParameters.workflow;
    const dep = p.data.buildDefinition.resolvedDependencies?.find((d) => d.digest?.["gitCommit"] !== undefined);
    return {
      repository: wf ? repoSlug(wf.repository) : undefined,
      workflowPath: wf?.path,
      ref: wf?.ref,
      commit: dep?.digest?.["gitCommit"],
    };
  }
  if (predicateType === PREDICATE.slsaV02) {
    const p = SlsaV02Predicate.safeParse(predicate);
    if (!p.success) return undefined;
    const src = p.data.invocation.configSource;
    const m = /^git\+https:\/\/github\.com\/([^/]+\/[^@]+)@(.+)$/.exec(src.uri);
    return {
      repository: m?.[1],
      workflowPath: src.entryPoint,
      ref: m?.[2],
      commit: src.digest?.["sha1"],
    };
  }
  return undefined;
}

function releaseClaims(predicateType: string, predicate: unknown, subjects: readonly Subject[]) {
  if (predicateType !== PREDICATE.releaseV01 && predicateType !== PREDICATE.releaseV02) return undefined;
  const p = ReleasePredicate.safeParse(predicate);
  if (!p.success) return undefined;
  const m = /^pkg:github\/([^/]+\/[^@]+)@(.+)$/.exec(p.data.purl);
  if (!m?.[1] || !m[2]) return undefined;
  const purlSubject = subjects.find((s) => (s.uri ?? s.name) === p.data.purl);
  const assets = new Map<string, string>();
  for (const s of subjects) {
    if (s !== purlSubject && s.name !== undefined && s.digest["sha256"] !== undefined) {
      assets.set(s.name, s.digest["sha256"]);
    }
  }
  return { repository: m[1], tag: m[2], commit: purlSubject?.digest["sha1"], assets };
}

function npmPublish(predicate: unknown) {
  const p = NpmPublishPredicate.safeParse(predicate);
  return p.success ? { name: p.data.name, version: p.data.version } : undefined;
}

/** `https://github.com/o/r` (or `o/r`) → `o/r`. */
export function repoSlug(repository: string): string {
  return repository
    .replace(/^https:\/\/github\.com\//, "")
    .replace(/\.git$/, "")
    .replace(/\/$/, "");
}
