/**
 * `provenance.commit: build-metadata`: the expected commit is the `source_sha` of the build run's release metadata
 * (plasmite's `release-metadata` artifact, one `metadata.json` {tag, version, source_sha, source_ref, source_run_id,
 * source_workflow}), for pipelines that build or publish from main, where the tag's commit is not the build's.
 *
 * The run is found as plasmite's release-publish `resolve-build-run` finds it: the 40 newest successful runs of the
 * build workflow, tag-push runs of this tag first, each run's metadata artifact read until one says `tag == <tag>`.
 * The artifact zip needs a token (GitHub answers 401 without one); its download redirects to a download host, which
 * the HTTP client reaches without the Authorization header. Anything that cannot be read is `unknown`, never a guess.
 */
import { strFromU8, unzipSync } from "fflate";
import { z } from "zod";
import type { Fetched, ProvenanceHttp } from "./fetch.ts";

const Runs = z.looseObject({
  workflow_runs: z.array(
    z.looseObject({ id: z.number(), head_branch: z.string().nullable().optional(), event: z.string().optional() }),
  ),
});
const Artifacts = z.looseObject({
  artifacts: z.array(
    z.looseObject({ name: z.string(), expired: z.boolean().optional(), archive_download_url: z.string() }),
  ),
});
const Metadata = z.looseObject({ tag: z.string(), source_sha: z.string().regex(/^[0-9a-f]{40}$/i) });

/** How many recent successful build runs are read (as plasmite's resolve-build-run does). */
export const BUILD_RUNS_SCANNED = 40;

export interface BuildMetadataQuery {
  readonly apiBase: string;
  readonly repository: string;
  /** The build workflow file (`release.yml`). */
  readonly workflow: string;
  /** The artifact holding metadata.json (`release-metadata`). */
  readonly artifact: string;
  readonly tag: string;
  /** Authorization for the API (needed for the artifact download); never sent to the download host. */
  readonly apiHeaders: Readonly<Record<string, string>>;
  /** Hosts the artifact download may redirect to (settings.github.download_hosts). */
  readonly downloadHosts: readonly string[];
}

export interface BuildMetadata {
  readonly runId: number;
  readonly sourceSha: string;
}

async function getJson(
  http: ProvenanceHttp,
  url: string,
  headers: Readonly<Record<string, string>>,
): Promise<{ ok: true; json: unknown } | { ok: false; reason: string }> {
  const host = new URL(url).host;
  try {
    const res = await http({ url, headers: { accept: "application/vnd.github+json", ...headers } });
    if (res.status !== 200) return { ok: false, reason: `${host} answered HTTP ${res.status}` };
    return { ok: true, json: JSON.parse(Buffer.from(res.body).toString("utf8")) as unknown };
  } catch (err) {
    return { ok: false, reason: `${host}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** metadata.json out of an artifact zip; undefined when the zip holds none or it is malformed. */
export function metadataFromZip(zip: Uint8Array): z.infer<typeof Metadata> | undefined {
  try {
    const files = unzipSync(zip);
    const entry = Object.entries(files).find(([n]) => n === "metadata.json" || n.endsWith("/metadata.json"));
    if (!entry) return undefined;
    const parsed = Metadata.safeParse(JSON.parse(strFromU8(entry[1])));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function fetchBuildMetadata(http: ProvenanceHttp, q: BuildMetadataQuery): Promise<Fetched<BuildMetadata>> {
  const api = `${q.apiBase.replace(/\/$/, "")}/repos/${q.repository}`;
  const runsUrl = `${api}/actions/workflows/${encodeURIComponent(q.workflow)}/runs?status=success&per_page=${BUILD_RUNS_SCANNED}`;
  const runs = await getJson(http, runsUrl, q.apiHeaders);
  if (!runs.ok) return { kind: "unknown", reason: `build runs: ${runs.reason}` };
  const parsed = Runs.safeParse(runs.json);
  if (!parsed.success) return { kind: "unknown", reason: "build runs: malformed response" };
  const all = parsed.data.workflow_runs.slice(0, BUILD_RUNS_SCANNED);
  const ordered = [...all.filter((r) => r.head_branch === q.tag), ...all.filter((r) => r.head_branch !== q.tag)];
  let unreadable: string | undefined;
  for (const run of ordered) {
    const list = await getJson(
      http,
      `${api}/actions/runs/${run.id}/artifacts?name=${encodeURIComponent(q.artifact)}`,
      q.apiHeaders,
    );
    if (!list.ok) {
      unreadable ??= `run ${run.id} artifacts: ${list.reason}`;
      continue;
    }
    const artifacts = Artifacts.safeParse(list.json);
    const artifact = artifacts.success
      ? artifacts.data.artifacts.find((a) => a.name === q.artifact && a.expired !== true)
      : undefined;
    if (!artifact) continue;
    let body: Uint8Array;
    try {
      const res = await http({
        url: artifact.archive_download_url,
        headers: { accept: "application/vnd.github+json", ...q.apiHeaders },
        redirectHosts: q.downloadHosts,
      });
      if (res.status !== 200) {
        unreadable ??= `run ${run.id} ${q.artifact}: HTTP ${res.status}${res.status === 401 ? " (a GitHub token is needed)" : ""}`;
        continue;
      }
      body = res.body;
    } catch (err) {
      unreadable ??= `run ${run.id} ${q.artifact}: ${err instanceof Error ? err.message.replace(/\?\S*/g, "?…") : String(err)}`;
      continue;
    }
    const metadata = metadataFromZip(body);
    if (metadata?.tag === q.tag) return { kind: "found", value: { runId: run.id, sourceSha: metadata.source_sha } };
  }
  // A run that could not be read may be the tag's: that is not "none".
  if (unreadable !== undefined) return { kind: "unknown", reason: unreadable };
  return { kind: "none" };
}
