/**
 * PyPI provenance (provenance.md §3.3): the Integrity API's provenance for every file of the version. The subject's
 * sha256 must be the file's; the publisher's repository and workflow must match; the commit is the certificate's
 * source-repository-digest. Downgrade: a file of the highest lower version had provenance.
 */
import { z } from "zod";
import type { PypiObservation } from "./types.ts";
import { toEvidenceInTurn } from "../../provenance/index.ts";
import {
  compareAttestation,
  compareDowngrade,
  previousVersion,
  type Evidence,
  type ProvenanceFinding,
} from "../../provenance/compare.ts";
import { fetchPypiProvenance } from "../../provenance/fetch.ts";
import {
  cachedEvidence,
  startAll,
  type ChannelProvenance,
  type GatherContext,
  type GatheredItem,
} from "../../provenance/gather.ts";

const ReleaseFiles = z.looseObject({ urls: z.array(z.looseObject({ filename: z.string() })) });

async function evidenceFor(ctx: GatherContext, project: string, version: string, filename: string, sha256: string) {
  return cachedEvidence(ctx.cache, `pypi:${project}:${filename}:${sha256}`, async (): Promise<Evidence[]> => {
    const got = await fetchPypiProvenance(ctx.http, { base: ctx.endpoints.pypi, project, version, filename });
    if (got.kind !== "found") return [got];
    return Promise.all(
      got.value.flatMap((b) => b.bundles.map((bundle) => toEvidenceInTurn(bundle, "pypi-publish", ctx.verifier))),
    );
  });
}

async function hadProvenance(ctx: GatherContext, project: string, version: string): Promise<boolean | undefined> {
  try {
    const res = await ctx.http({
      url: `${ctx.endpoints.pypi}/pypi/${encodeURIComponent(project)}/${encodeURIComponent(version)}/json`,
      headers: { accept: "application/json" },
    });
    if (res.status !== 200) return undefined;
    const parsed = ReleaseFiles.safeParse(JSON.parse(Buffer.from(res.body).toString("utf8")));
    const file = parsed.success ? parsed.data.urls[0]?.filename : undefined;
    if (file === undefined) return undefined;
    const got = await fetchPypiProvenance(ctx.http, { base: ctx.endpoints.pypi, project, version, filename: file });
    return got.kind === "unknown" ? undefined : got.kind === "found";
  } catch {
    return undefined;
  }
}

export const pypiProvenance: ChannelProvenance = {
  channel: "pypi",
  async gather(ctx) {
    const o = ctx.observations.pypi as PypiObservation | null | undefined;
    if (!ctx.plan.pypi || !o?.release) return { items: [], findings: [], nothing: "the version is not on PyPI" };
    const project = o.normalized_name ?? o.project;
    const version = o.release.version;
    const shaOf = new Map(
      o.release.files.flatMap((f) => (f.sha256 ? [[f.filename, f.sha256.toLowerCase()] as const] : [])),
    );
    // Every file's provenance at once; the walk below reads them in the release's order.
    const evidenceOf = startAll([...shaOf.keys()], (filename) =>
      evidenceFor(ctx, project, version, filename, shaOf.get(filename) ?? ""),
    );
    const items: GatheredItem[] = [];
    for (const file of o.release.files) {
      const artefact = { name: file.filename, algorithm: "sha256" as const, hex: (file.sha256 ?? "").toLowerCase() };
      if (!file.sha256) {
        items.push({
          subject: file.filename,
          compared: compareAttestation(ctx.expected, artefact, { kind: "unknown", reason: "no sha256" }),
        });
        continue;
      }
      const evidence = await evidenceOf(file.filename);
      const results = evidence.map((e) => compareAttestation(ctx.expected, artefact, e));
      const compared =
        results.find((r) => r.findings.length === 0) ??
        results[0] ??
        compareAttestation(ctx.expected, artefact, { kind: "none" });
      items.push({ subject: file.filename, compared: compared });
    }
    const findings: ProvenanceFinding[] = [];
    const current = items.length > 0 && items.every((i) => i.compared.result.signature !== "absent");
    const prev = previousVersion(
      o.versions.map((v) => v.version),
      version,
    );
    if (prev !== undefined && !current) {
      const had = await hadProvenance(ctx, project, prev);
      if (had === true)
        findings.push(
          ...compareDowngrade(
            "pypi",
            { version: prev, provenance: true, trustedPublisher: false },
            { version, provenance: false, trustedPublisher: false },
          ),
        );
    }
    return { items, findings };
  },
};
