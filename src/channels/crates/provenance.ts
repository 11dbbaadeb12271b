/**
 * crates.io provenance (provenance.md §3.4): `version.trustpub_data` is a registry assertion, not a signature
 * (`signature: not-applicable`); its `sha` must be the expected commit and its repository the expected one.
 * `published_by` a user where trusted publishing is expected is `publisher-not-trusted`. Downgrade: the highest lower
 * version had trusted-publishing data.
 */
import type { CratesObservation } from "./types.ts";
import { cratesApiQueue } from "./api-queue.ts";
import {
  compareCratesRun,
  compareDowngrade,
  compareTrustpub,
  previousVersion,
  type ActionsRun,
  type ProvenanceFinding,
} from "../../provenance/compare.ts";
import { fetchActionsRun, parseCratesPublish, type CratesPublish } from "../../provenance/fetch.ts";
import type { ChannelProvenance, GatherContext } from "../../provenance/gather.ts";

async function publishOf(ctx: GatherContext, crate: string, version: string): Promise<CratesPublish | string> {
  const key = `crates:${crate}@${version}`;
  const hit = ctx.cache ? await ctx.cache.get(key) : undefined;
  if (hit !== undefined) return JSON.parse(hit) as CratesPublish;
  const url = `${ctx.endpoints.cratesApi}/api/v1/crates/${encodeURIComponent(crate)}/${encodeURIComponent(version)}`;
  try {
    // The same document the probe asked for, through the same process-wide queue: one API request per version.
    const res = await cratesApiQueue.get(url, async (u) => {
      const r = await ctx.http({ url: u, headers: { accept: "application/json" } });
      return { status: r.status, body: Buffer.from(r.body).toString("utf8") };
    });
    if (res.status !== 200) return `${new URL(url).host} answered HTTP ${res.status}`;
    const publish = parseCratesPublish(JSON.parse(res.body));
    if (!publish) return `${new URL(url).host}: malformed version`;
    // A published version's trusted-publishing data never changes.
    if (ctx.cache) await ctx.cache.set(key, JSON.stringify(publish));
    return publish;
  } catch (err) {
    return `${new URL(url).host}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * The Actions run behind `trustpub_data.run_id` (GitHub trusted publishing only), or why it could not be read. A
 * run's workflow path and head_sha never change, so a read run is cached like the trusted-publishing data.
 */
async function runOf(ctx: GatherContext, repository: string, runId: string): Promise<ActionsRun | string> {
  const key = `crates-run:${repository}:${runId}`;
  const hit = ctx.cache ? await ctx.cache.get(key) : undefined;
  if (hit !== undefined) return JSON.parse(hit) as ActionsRun;
  const got = await fetchActionsRun(ctx.http, {
    apiBase: ctx.endpoints.githubApi,
    repository,
    runId,
    apiHeaders: ctx.endpoints.githubHeaders,
  });
  if (got.kind !== "found") return got.kind === "unknown" ? got.reason : `Actions run ${runId} not found`;
  const run: ActionsRun = { id: runId, ...got.value };
  if (ctx.cache) await ctx.cache.set(key, JSON.stringify(run));
  return run;
}

export const cratesProvenance: ChannelProvenance = {
  channel: "crates",
  async gather(ctx) {
    const plan = ctx.plan.crates;
    const o = ctx.observations.crates as CratesObservation | null | undefined;
    if (!plan || !o?.api_version) return { items: [], findings: [], nothing: "the version is not on crates.io" };
    const publish = await publishOf(ctx, plan.crate, ctx.plan.version);
    const subject = `${plan.crate} ${ctx.plan.version}`;
    if (typeof publish === "string") {
      return {
        items: [
          {
            subject,
            compared: {
              result: {
                signature: "unknown",
                repository: null,
                workflow: null,
                ref: null,
                commit: null,
                subjects_matched: false,
              },
              findings: [],
            },
          },
        ],
        findings: [],
      };
    }
    const expectedTp = ctx.expectations.trustedPublisher.crates !== "off";
    const compared = compareTrustpub(ctx.expected, {
      name: subject,
      trustpub: publish.trustpub,
      publishedBy: publish.publishedBy,
      trustedPublishingExpected: expectedTp,
    });
    const findings: ProvenanceFinding[] = [];
    let unknown: string | undefined;
    const tp = publish.trustpub;
    let runWorkflow: string | undefined;
    if (ctx.expectations.cratesRun === "follow" && tp?.provider === "github" && "run_id" in tp) {
      const repository = "repository" in tp && typeof tp.repository === "string" ? tp.repository : undefined;
      if (repository !== undefined && typeof tp.run_id === "string") {
        const run = await runOf(ctx, repository, tp.run_id);
        if (typeof run === "string") unknown = `Actions run ${tp.run_id}: ${run}`;
        else {
          runWorkflow = run.path;
          findings.push(...compareCratesRun(ctx.expected, subject, run, tp.sha));
        }
      }
    }
    const versions = o.index.entries.map((e) => e.vers);
    const prev = previousVersion(versions, ctx.plan.version);
    if (prev !== undefined && publish.trustpub === null) {
      const before = await publishOf(ctx, plan.crate, prev);
      if (typeof before !== "string" && before.trustpub !== null)
        findings.push(
          ...compareDowngrade(
            "crates",
            { version: prev, provenance: false, trustedPublisher: true },
            { version: ctx.plan.version, provenance: false, trustedPublisher: false },
          ),
        );
    }
    const item =
      runWorkflow === undefined ? compared : { ...compared, result: { ...compared.result, workflow: runWorkflow } };
    return {
      items: [{ subject, compared: item }],
      findings,
      publisherCodes: ["publisher-not-trusted"],
      ...(unknown !== undefined ? { unknown } : {}),
    };
  },
};
