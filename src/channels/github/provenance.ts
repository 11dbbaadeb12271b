/**
 * GitHub provenance (provenance.md §3.1): every expected release asset's digest has a build-provenance attestation
 * naming the asset's sha256 (which must also be its sha256sums.txt line), built from the expected commit by an
 * allowed workflow. The checksum file needs one only if it is attested. An immutable release's release attestation
 * must name the tag's commit and exactly the release's asset set.
 */
import type { GithubAsset, GithubObservation, GithubRelease } from "./types.ts";
import { githubAttestationKind, toEvidenceInTurn } from "../../provenance/index.ts";
import {
  compareAttestation,
  compareReleaseAttestation,
  type Compared,
  type Evidence,
} from "../../provenance/compare.ts";
import { fetchGithubAttestations } from "../../provenance/fetch.ts";
import {
  cachedEvidence,
  startAll,
  type ChannelProvenance,
  type GatherContext,
  type GatheredItem,
  type PrefetchContext,
} from "../../provenance/gather.ts";

const hexOf = (digest: string | null | undefined): string | undefined =>
  digest?.startsWith("sha256:") ? digest.slice("sha256:".length).toLowerCase() : undefined;

/** The attestations of one digest, fetched and verified (what the cache keeps). */
async function lookup(
  ctx: Pick<PrefetchContext, "http" | "endpoints" | "plan" | "verifier">,
  sha256: string,
): Promise<readonly Evidence[]> {
  const e = ctx.endpoints;
  const got = await fetchGithubAttestations(ctx.http, {
    apiBase: e.githubApi,
    repository: ctx.plan.repo,
    sha256,
    apiHeaders: e.githubHeaders,
    bundleHosts: e.bundleHosts,
  });
  if (got.kind !== "found") return [got];
  const verifier = await ctx.verifier();
  return Promise.all(
    got.value.map((a) => toEvidenceInTurn(a.bundle, githubAttestationKind(a.bundle) ?? "github-build", verifier)),
  );
}

const cacheKey = (repository: string, sha256: string) => `github:${repository}:${sha256}`;

async function attestationsFor(ctx: GatherContext, sha256: string, keepNone = false): Promise<readonly Evidence[]> {
  const key = cacheKey(ctx.expected.repository, sha256);
  const verifier = () => Promise.resolve(ctx.verifier);
  return cachedEvidence(ctx.cache, key, () => lookup({ ...ctx, verifier }, sha256), { keepNone });
}

const isKind = (e: Evidence, kind: "github-build" | "github-release") =>
  e.kind === "attestation" && e.attestation === kind;

/** The best of several attestations for one artefact: the first without findings, else the first. */
function best(results: readonly Compared[]): Compared | undefined {
  return results.find((r) => r.findings.length === 0) ?? results[0];
}

function buildResult(ctx: GatherContext, name: string, sha256: string, evidence: readonly Evidence[]): Compared {
  const builds = evidence.filter((e) => isKind(e, "github-build") || e.kind !== "attestation");
  const artefact = { name, algorithm: "sha256" as const, hex: sha256 };
  if (builds.length === 0) return compareAttestation(ctx.expected, artefact, { kind: "none" });
  return best(builds.map((e) => compareAttestation(ctx.expected, artefact, e))) as Compared;
}

export const githubProvenance: ChannelProvenance = {
  channel: "github",
  tagCommit: (o) => (o as GithubObservation | null)?.tag.commit_sha ?? undefined,
  /**
   * From the release document (the probe's first answer): the lookups of every planned asset and of the checksum
   * file that carry a digest, started while the probe peels the tag and reads the checksum file. The cache keeps
   * what is final; `gather`'s requests join the rest (the verification's shared transport). An asset known only from the checksum file or a download waits for it.
   */
  prefetch(ctx, partial) {
    const release = partial as GithubRelease | null;
    const plan = ctx.plan.github;
    if (!plan || !release) return;
    const names = new Set([...plan.assets.map((a) => a.name), ...(plan.checksum_file ? [plan.checksum_file] : [])]);
    for (const asset of release.assets) {
      const sha256 = names.has(asset.name) ? hexOf(asset.digest) : undefined;
      if (sha256 === undefined) continue;
      const key = cacheKey(ctx.repository, sha256);
      cachedEvidence(ctx.cache, key, () => lookup(ctx, sha256)).catch(() => undefined);
    }
  },
  async gather(ctx) {
    const plan = ctx.plan.github;
    const o = ctx.observations.github as GithubObservation | null | undefined;
    if (!plan || !o?.release) return { items: [], findings: [], nothing: "no GitHub release to check" };
    const release = o.release;
    // `assets: []` with `checksums: null`: a release without assets has no artefact to attest.
    if (plan.assets.length === 0 && plan.checksum_file === null) {
      return { items: [], findings: [], notApplicable: "no artefacts" };
    }
    const sums = new Map((o.checksums?.entries ?? []).map((e) => [e.name, e.sha256.toLowerCase()]));
    for (const [name, sc] of Object.entries(o.sidecars ?? {}))
      if (sc.state === "read") sums.set(name, sc.sha256.toLowerCase());
    const digestOf = (asset: GithubAsset) =>
      hexOf(asset.digest) ?? o.downloads?.[asset.name]?.sha256 ?? sums.get(asset.name);
    const present = plan.assets.flatMap((expected) =>
      release.assets.filter((a) => a.name === expected.name).slice(0, 1),
    );
    // Every lookup at once (the checksum file's too); the walk below reads them in the plan's order.
    const evidenceOf = startAll(
      present.flatMap((a) => digestOf(a) ?? []),
      (sha256) => attestationsFor(ctx, sha256),
    );
    const sumsAsset = plan.checksum_file ? release.assets.find((a) => a.name === plan.checksum_file) : undefined;
    const sumsHex = hexOf(sumsAsset?.digest);
    // plasmite's publish job writes the checksum file and never build-attests it: only an attested one is checked.
    // Its absence past the grace is kept, so a steady daemon cycle does not ask again.
    const sumsEvidence = sumsHex
      ? startAll([sumsHex], (hex) => attestationsFor(ctx, hex, ctx.absenceFinal === true))(sumsHex)
      : null;
    const items: GatheredItem[] = [];
    let releaseEvidence: readonly Evidence[] | undefined;
    for (const asset of present) {
      const sha256 = digestOf(asset);
      if (sha256 === undefined) {
        items.push({
          subject: asset.name,
          compared: compareAttestation(
            ctx.expected,
            { name: asset.name, algorithm: "sha256", hex: "" },
            { kind: "unknown", reason: "no digest" },
          ),
        });
        continue;
      }
      const evidence = await evidenceOf(sha256);
      releaseEvidence ??= evidence.some((e) => isKind(e, "github-release")) ? evidence : undefined;
      const compared = buildResult(ctx, asset.name, sha256, evidence);
      const line = sums.get(asset.name);
      const extra =
        line !== undefined && line !== sha256 && compared.result.subjects_matched
          ? [
              {
                code: "provenance-digest-mismatch" as const,
                message: `${plan.checksum_file ?? (plan.checksum_sidecar ? `${asset.name}${plan.checksum_sidecar}` : "the checksum file")} names another sha256 for ${asset.name} than its attestation`,
                subject: asset.name,
                expected: `sha256:${sha256}`,
                actual: `sha256:${line}`,
              },
            ]
          : [];
      items.push({
        subject: asset.name,
        sha256,
        compared: { ...compared, findings: [...compared.findings, ...extra] },
      });
    }
    if (sumsAsset && sumsHex && sumsEvidence) {
      const evidence = await sumsEvidence;
      if (evidence.some((e) => isKind(e, "github-build")))
        items.push({ subject: sumsAsset.name, compared: buildResult(ctx, sumsAsset.name, sumsHex, evidence) });
    }
    if (release.immutable === true) {
      const assets = new Map(
        release.assets.flatMap((a) => {
          const h = hexOf(a.digest);
          return h ? [[a.name, h] as const] : [];
        }),
      );
      const first = [...assets.values()][0];
      const ev = releaseEvidence ?? (first ? await attestationsFor(ctx, first) : []);
      const rel = ev.find((e) => isKind(e, "github-release")) ??
        ev.find((e) => e.kind === "unknown") ?? { kind: "none" as const };
      items.push({
        subject: `release ${release.tag_name}`,
        compared: compareReleaseAttestation(ctx.expected, { tag: release.tag_name, assets }, rel),
      });
    }
    return { items, findings: [] };
  },
};
