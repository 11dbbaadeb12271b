import { errorMessage } from "../errors.ts";
import type { Attestations, GithubApi, ReleaseInfo } from "./github.ts";

/**
 * The immutable-release check after publish (release-hygiene.md "gh release verify-asset"): when the repository
 * enables immutable releases, the release must be immutable and its release attestation (in-toto release
 * predicate) must name every asset with the asset's sha256 and the release tag. Small and self-contained: it reads
 * the statement from the inline bundle and does not verify the Sigstore signature (provenance work does that).
 */

export interface ImmutableVerdict {
  enabled: boolean;
  /** null: could not tell. */
  ok: boolean | null;
  detail: string;
}

interface Statement {
  predicateType?: unknown;
  predicate?: { tag?: unknown };
  subject?: { name?: unknown; uri?: unknown; digest?: { sha256?: unknown } }[];
}

/** Pure: does a release statement cover every asset (name and sha256) of this release. */
export function statementProblems(statement: Statement, release: ReleaseInfo, tag: string): string[] {
  const problems: string[] = [];
  if (typeof statement.predicateType !== "string" || !statement.predicateType.includes("/attestation/release/"))
    problems.push(`predicateType ${String(statement.predicateType)} is not an in-toto release predicate`);
  if (statement.predicate?.tag !== tag) problems.push(`predicate tag ${String(statement.predicate?.tag)} != ${tag}`);
  const subjects = new Map<string, unknown>();
  for (const s of statement.subject ?? []) if (typeof s.name === "string") subjects.set(s.name, s.digest?.sha256);
  for (const a of release.assets) {
    const want = (a.digest ?? "").replace(/^sha256:/, "");
    if (!subjects.has(a.name)) problems.push(`${a.name} is not a subject of the release attestation`);
    else if (want !== "" && subjects.get(a.name) !== want)
      problems.push(`${a.name}: attested sha256 ${String(subjects.get(a.name))} != asset digest ${want}`);
  }
  return problems;
}

function statementOf(list: Attestations): Statement | null {
  for (const a of list.attestations) {
    const payload = a.bundle?.dsseEnvelope?.payload;
    if (!payload) continue;
    return JSON.parse(Buffer.from(payload, "base64").toString("utf8")) as Statement;
  }
  return null;
}

export async function checkImmutableRelease(gh: GithubApi, tag: string): Promise<ImmutableVerdict> {
  let enabled: boolean;
  try {
    enabled = await gh.immutableReleasesEnabled();
  } catch (err) {
    return {
      enabled: false,
      ok: null,
      detail: `could not tell whether immutable releases are enabled: ${errorMessage(err)}`,
    };
  }
  try {
    if (!enabled) return { enabled: false, ok: true, detail: "immutable releases are not enabled for the repository" };
    const release = await gh.releaseByTag(tag);
    if (!release) return { enabled: true, ok: false, detail: `no GitHub release ${tag}` };
    if (release.immutable !== true)
      return { enabled: true, ok: false, detail: `release ${tag} is not immutable (immutable releases are enabled)` };
    const first = release.assets.find((a) => a.digest);
    if (!first) return { enabled: true, ok: false, detail: `release ${tag} has no asset digests to look up` };
    const list = await gh.releaseAttestations(first.digest ?? "");
    const statement = list ? statementOf(list) : null;
    if (!list || list.attestations.length === 0)
      return { enabled: true, ok: false, detail: `no release attestation for ${tag} (looked up by ${first.name})` };
    if (!statement) {
      return {
        enabled: true,
        ok: null,
        detail: `the release attestation of ${tag} has no inline bundle (bundle_url form not read by this check)`,
      };
    }
    const problems = statementProblems(statement, release, tag);
    return problems.length === 0
      ? {
          enabled: true,
          ok: true,
          detail: `release ${tag} is immutable; its release attestation covers all ${release.assets.length} assets`,
        }
      : { enabled: true, ok: false, detail: problems.join("; ") };
  } catch (err) {
    return { enabled: true, ok: null, detail: `could not check the immutable release: ${errorMessage(err)}` };
  }
}
