import { createHash } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../errors.ts";
import type { DownloadedAsset, PlanWith, Probe, ProbeContext } from "../../probes/types.ts";
import type { PypiFile, PypiObservation, PypiPlan } from "./types.ts";
import { parseJsonBody, unexpectedStatus } from "../../probes/upstream.ts";
import { pypiEndpoints } from "./settings.ts";

/**
 * PyPI: the project JSON (latest version, every release with its files' yanked flags) and the release JSON (that
 * release's files and digests), fetched concurrently. Non-normalized names answer 301 to the normalized one; the
 * client follows it on the same host and we report the name PyPI answered under. `--deep` hashes every file.
 * Contract: /work/shared/reference/registry-contracts.md §4.
 */
export const pypiProbe: Probe<"pypi", PypiPlan, PypiObservation> = {
  channel: "pypi",
  async observe(plan: PlanWith<"pypi", PypiPlan>, ctx: ProbeContext): Promise<PypiObservation> {
    if (!plan.pypi) throw new AppError("E_PROBE_FAILED", `project ${plan.project} has no pypi channel`);
    const project = plan.pypi.project;
    const [projectDoc, releaseDoc] = await Promise.all([
      fetchProject(ctx, project),
      fetchRelease(ctx, project, plan.version),
    ]);
    const notes: string[] = [];
    let release: PypiObservation["release"] = null;
    if (releaseDoc && releaseDoc.version === plan.version) {
      release = releaseDoc;
    } else if (releaseDoc) {
      // PEP 440 canonical lookup: /pypi/x/0.8/json may answer the 0.8.0 release. Not the version we asked for.
      notes.push(
        `${releaseDoc.url} answered release ${releaseDoc.version} (${releaseDoc.files.length} file(s)) for requested ` +
          `version ${plan.version}; PyPI matched it by PEP 440 canonical form, so it is not counted as ${plan.version}`,
      );
      ctx.log.debug({ requested: plan.version, answered: releaseDoc.version }, "pypi canonical version mismatch");
    }
    const downloads = ctx.deep && release ? await downloadFiles(ctx, release.files) : null;
    return {
      channel: "pypi",
      project,
      normalized_name: projectDoc?.normalized_name ?? releaseDoc?.normalized_name ?? null,
      project_found: projectDoc !== null,
      latest_version: projectDoc?.latest_version ?? null,
      versions: projectDoc?.versions ?? [],
      release: release && {
        version: release.version,
        yanked: release.yanked,
        yanked_reason: release.yanked_reason,
        files: release.files,
      },
      downloads,
      notes,
    };
  },
};

// ---------------------------------------------------------------- documents

const Info = z.object({
  version: z.string(),
  yanked: z.boolean().nullish(),
  yanked_reason: z.string().nullish(),
});

const FileBody = z.object({
  filename: z.string(),
  packagetype: z.string(),
  digests: z.object({ sha256: z.string().nullish() }).nullish(),
  size: z.number().nullish(),
  yanked: z.boolean().nullish(),
  yanked_reason: z.string().nullish(),
  upload_time_iso_8601: z.string().nullish(),
  upload_time: z.string().nullish(),
  url: z.string().nullish(),
});

/** `releases` is deprecated upstream; we only read each file's yanked flag from it. */
const ReleaseFileFlags = z.object({ yanked: z.boolean().nullish() });

const ProjectBody = z.object({
  info: Info,
  releases: z.record(z.string(), z.array(ReleaseFileFlags)).nullish(),
});

const ReleaseBody = z.object({
  info: Info,
  urls: z.array(FileBody),
});

interface ProjectView {
  normalized_name: string | null;
  latest_version: string;
  versions: PypiObservation["versions"];
}

interface ReleaseView {
  url: string;
  normalized_name: string | null;
  version: string;
  yanked: boolean;
  yanked_reason: string | null;
  files: PypiFile[];
}

function projectUrl(ctx: ProbeContext, project: string): string {
  return `${pypiEndpoints(ctx.endpoints).url}/pypi/${encodeURIComponent(project)}/json`;
}

async function fetchProject(ctx: ProbeContext, project: string): Promise<ProjectView | null> {
  const res = await ctx.http.request({
    url: projectUrl(ctx, project),
    headers: { accept: "application/json" },
    signal: ctx.signal,
  });
  if (res.status === 404) return null;
  if (res.status !== 200) throw unexpectedStatus(res);
  const body = parseJsonBody(res, ProjectBody);
  const versions = Object.entries(body.releases ?? {}).map(([version, files]) => ({
    version,
    // A release is yanked when all its files are; releases without files are listed as not yanked.
    yanked: files.length > 0 && files.every((f) => f.yanked === true),
  }));
  return { normalized_name: nameFromUrl(res.url), latest_version: body.info.version, versions };
}

async function fetchRelease(ctx: ProbeContext, project: string, version: string): Promise<ReleaseView | null> {
  const res = await ctx.http.request({
    url: `${pypiEndpoints(ctx.endpoints).url}/pypi/${encodeURIComponent(project)}/${encodeURIComponent(version)}/json`,
    headers: { accept: "application/json" },
    signal: ctx.signal,
  });
  if (res.status === 404) return null;
  if (res.status !== 200) throw unexpectedStatus(res);
  const body = parseJsonBody(res, ReleaseBody);
  const files = body.urls.map(toFile);
  return {
    url: res.url,
    normalized_name: nameFromUrl(res.url),
    version: body.info.version,
    yanked: body.info.yanked ?? (files.length > 0 && files.every((f) => f.yanked)),
    yanked_reason: body.info.yanked_reason ?? null,
    files,
  };
}

function toFile(f: z.infer<typeof FileBody>): PypiFile {
  return {
    filename: f.filename,
    packagetype: f.packagetype,
    sha256: f.digests?.sha256 ?? null,
    size: f.size ?? null,
    yanked: f.yanked ?? false,
    yanked_reason: f.yanked_reason ?? null,
    upload_time: f.upload_time_iso_8601 ?? utc(f.upload_time),
    url: f.url ?? null,
  };
}

/** Older responses only carry `upload_time` ("%Y-%m-%dT%H:%M:%S", UTC without a zone): mark it as UTC. */
function utc(time: string | null | undefined): string | null {
  if (!time) return null;
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/.test(time) ? `${time}Z` : time;
}

/** The project segment of the URL PyPI finally answered (`…/pypi/{name}/json` or `…/pypi/{name}/{v}/json`). */
export function nameFromUrl(url: string): string | null {
  const m = /\/pypi\/([^/]+)\/(?:[^/]+\/)?json\/?$/.exec(new URL(url).pathname);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}

// ---------------------------------------------------------------- downloads (--deep)

async function downloadFiles(ctx: ProbeContext, files: PypiFile[]): Promise<Record<string, DownloadedAsset>> {
  const results = await Promise.all(
    files.map(async (f) => (f.url ? ([f.filename, await downloadFile(ctx, f.url)] as const) : null)),
  );
  const downloads: Record<string, DownloadedAsset> = {};
  for (const r of results) if (r) downloads[r[0]] = r[1];
  return downloads;
}

async function downloadFile(ctx: ProbeContext, url: string): Promise<DownloadedAsset> {
  const hash = createHash("sha256");
  const res = await ctx.http.stream({ url, signal: ctx.signal }, (chunk) => hash.update(chunk));
  if (res.status !== 200) {
    throw new AppError("E_HTTP_STATUS", `${res.url} answered HTTP ${res.status} for a file download`, {
      details: { status: res.status, url: res.url },
    });
  }
  return { sha256: hash.digest("hex"), bytes: res.bytes };
}

// ---------------------------------------------------------------- errors and parsing
