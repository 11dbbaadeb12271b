/**
 * npm provenance (provenance.md §3.2): `dist.attestations` → `/-/npm/v1/attestations/<name>@<v>` (re-based onto the
 * registry in use). The SLSA statement's sha512 must be `dist.integrity`; repository, workflow and commit must match;
 * the publish attestation must verify with the registry key. `_npmUser.trustedPublisher` per `trusted_publisher.npm`.
 * Downgrade: the highest lower version's document, fetched here, had provenance or a trusted publisher.
 */
import { z } from "zod";
import type { NpmObservation } from "./types.ts";
import { toEvidenceInTurn } from "../../provenance/index.ts";
import {
  compareAttestation,
  compareDowngrade,
  compareNpmPublisher,
  previousVersion,
  type Compared,
  type Evidence,
  type ProvenanceFinding,
  type TrustLevel,
} from "../../provenance/compare.ts";
import { fetchNpmAttestations, rebaseNpmAttestationUrl } from "../../provenance/fetch.ts";
import {
  cachedEvidence,
  type ChannelProvenance,
  type GatherContext,
  type GatheredItem,
} from "../../provenance/gather.ts";
import { PREDICATE } from "../../provenance/statement.ts";

const VersionDoc = z.looseObject({
  version: z.string(),
  dist: z.looseObject({
    integrity: z.string().optional(),
    attestations: z.looseObject({ url: z.string() }).optional(),
  }),
  _npmUser: z
    .looseObject({ name: z.string().optional(), trustedPublisher: z.looseObject({ id: z.string() }).optional() })
    .optional(),
});
type VersionDoc = z.infer<typeof VersionDoc>;

const encodeName = (name: string) => (name.startsWith("@") ? `@${encodeURIComponent(name.slice(1))}` : name);

async function versionDoc(
  ctx: GatherContext,
  registry: string,
  name: string,
  version: string,
): Promise<VersionDoc | string> {
  const url = `${registry.replace(/\/?$/, "/")}${encodeName(name)}/${encodeURIComponent(version)}`;
  try {
    const headers = await ctx.endpoints.npmHeadersFor(registry, url);
    const res = await ctx.http({ url, headers: { accept: "application/json", ...headers } });
    if (res.status === 404) return "no version document";
    if (res.status !== 200) return `${new URL(url).host} answered HTTP ${res.status}`;
    const parsed = VersionDoc.safeParse(JSON.parse(Buffer.from(res.body).toString("utf8")));
    return parsed.success ? parsed.data : `${new URL(url).host}: malformed version document`;
  } catch (err) {
    return `${new URL(url).host}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The probe's version document, when it came from the version endpoint with its provenance fields. */
function fromProbe(o: NpmObservation): VersionDoc | null {
  const d = o.version_doc;
  if (o.version_doc_source !== "version-endpoint" || !d || d.npm_user === undefined || d.attestations_url === undefined)
    return null;
  return {
    version: d.version,
    dist: {
      ...(d.integrity !== null ? { integrity: d.integrity } : {}),
      ...(d.attestations_url !== null ? { attestations: { url: d.attestations_url } } : {}),
    },
    ...(d.npm_user
      ? {
          _npmUser: {
            ...(d.npm_user.name !== null ? { name: d.npm_user.name } : {}),
            ...(d.npm_user.trusted_publisher ? { trustedPublisher: { id: "" } } : {}),
          },
        }
      : {}),
  };
}

const trustOf = (doc: VersionDoc): TrustLevel => ({
  version: doc.version,
  provenance: doc.dist.attestations !== undefined,
  trustedPublisher: doc._npmUser?.trustedPublisher !== undefined,
});

/** sha512 hex of an `sha512-<base64>` integrity string. */
function sha512Hex(integrity: string | undefined): string | undefined {
  const m = integrity === undefined ? null : /^sha512-([A-Za-z0-9+/=]+)$/.exec(integrity.split(/\s+/)[0] ?? "");
  return m?.[1] === undefined ? undefined : Buffer.from(m[1], "base64").toString("hex");
}

async function attestationEvidence(
  ctx: GatherContext,
  registry: string,
  url: string,
  key: string,
): Promise<readonly Evidence[]> {
  return cachedEvidence(ctx.cache, key, async () => {
    const got = await fetchNpmAttestations(ctx.http, url, await ctx.endpoints.npmHeadersFor(registry, url));
    if (got.kind !== "found") return [got];
    return Promise.all(
      got.value.flatMap((a): Promise<Evidence>[] => {
        if (a.predicateType === PREDICATE.slsaV1 || a.predicateType === PREDICATE.slsaV02)
          return [toEvidenceInTurn(a.bundle, "npm-provenance", ctx.verifier)];
        if (a.predicateType === PREDICATE.npmPublish) return [toEvidenceInTurn(a.bundle, "npm-publish", ctx.verifier)];
        return [];
      }),
    );
  });
}

export const npmProvenance: ChannelProvenance = {
  channel: "npm",
  async gather(ctx) {
    const plan = ctx.plan.npm;
    const o = ctx.observations.npm as NpmObservation | null | undefined;
    if (!plan || !o || !o.versions.includes(ctx.plan.version))
      return { items: [], findings: [], nothing: "the version is not on npm" };
    const registry = o.registry;
    // The probe's fresh version document carries what is needed here: no second request for it.
    const doc = fromProbe(o) ?? (await versionDoc(ctx, registry, plan.package, ctx.plan.version));
    const subject = `${plan.package}@${ctx.plan.version}`;
    const unknown = (reason: string): Compared =>
      compareAttestation(ctx.expected, { name: subject, algorithm: "sha512", hex: "" }, { kind: "unknown", reason });
    if (typeof doc === "string") return { items: [{ subject, compared: unknown(doc) }], findings: [] };
    const absenceUnknown = new URL(registry).origin !== new URL(await ctx.endpoints.npmDefaultRegistry()).origin;
    const hex = sha512Hex(doc.dist.integrity ?? o.version_doc?.integrity ?? undefined);
    const items: GatheredItem[] = [];
    // The previous version's document (downgrade) goes out with the attestations, not after them.
    const prev = previousVersion(o.versions, ctx.plan.version);
    const prevDocP = prev === undefined ? undefined : versionDoc(ctx, registry, plan.package, prev);
    const attUrl = doc.dist.attestations ? rebaseNpmAttestationUrl(doc.dist.attestations.url, registry) : undefined;
    if (!attUrl || hex === undefined) {
      items.push({
        subject,
        compared: compareAttestation(
          ctx.expected,
          { name: subject, algorithm: "sha512", hex: hex ?? "" },
          { kind: "none" },
        ),
      });
    } else {
      const evidence = await attestationEvidence(ctx, registry, attUrl, `npm:${registry}:${subject}:${hex}`);
      const slsa = evidence.find((e) => e.kind !== "attestation" || e.attestation === "npm-provenance") ?? {
        kind: "none" as const,
      };
      const compared = compareAttestation(ctx.expected, { name: subject, algorithm: "sha512", hex }, slsa);
      const publish = evidence.find((e) => e.kind === "attestation" && e.attestation === "npm-publish");
      const extra: ProvenanceFinding[] =
        publish?.kind === "attestation" && publish.signature === "invalid"
          ? [
              {
                code: "provenance-signature-invalid",
                message: `npm's publish attestation for ${subject} does not verify: ${publish.reason ?? "invalid"}`,
                subject,
              },
            ]
          : [];
      items.push({ subject, compared: { ...compared, findings: [...compared.findings, ...extra] } });
    }
    const findings: ProvenanceFinding[] = [];
    const absenceFindings: ProvenanceFinding[] = [];
    const publisherCodes: ProvenanceFinding["code"][] = [];
    if (ctx.expectations.trustedPublisher.npm !== "off") {
      findings.push(
        ...compareNpmPublisher({
          name: subject,
          npmUser: doc._npmUser?.name ?? null,
          trustedPublisher: trustOf(doc).trustedPublisher,
        }),
      );
      publisherCodes.push("publisher-not-trusted");
    }
    if (prevDocP !== undefined) {
      const prevDoc = await prevDocP;
      if (typeof prevDoc !== "string") {
        const was = trustOf(prevDoc);
        const now = trustOf(doc);
        if (!absenceUnknown) findings.push(...compareDowngrade("npm", was, now));
        else {
          // On a registry that may strip attestations, lost provenance rests on an absence; a lost trusted
          // publisher (the packument's _npmUser) does not.
          findings.push(...compareDowngrade("npm", { ...was, provenance: false }, { ...now, provenance: false }));
          absenceFindings.push(
            ...compareDowngrade("npm", { ...was, trustedPublisher: false }, { ...now, trustedPublisher: false }),
          );
        }
      }
    }
    return { items, findings, absenceFindings, publisherCodes, absenceUnknown };
  },
};
