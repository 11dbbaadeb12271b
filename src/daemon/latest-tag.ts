import semver from "semver";
import { z } from "zod";
import type { ProjectConfig } from "../config/schema.ts";
import { AppError } from "../errors.ts";
import type { HttpClient } from "../http/client.ts";
import type { Evidence } from "../http/evidence.ts";
import { githubGet, type GithubClientFactory } from "../http/github.ts";
import type { ReleaseList } from "../probes/types.ts";

export interface LatestRelease {
  tag: string;
  version: string;
  published_at: string | null;
  /** The release list it was picked from, with the exchange that read it (absent for a tag known otherwise). */
  list?: ReleaseList;
}

/** Lenient: only the fields we use. */
const ReleaseListBody = z.array(
  z.looseObject({
    tag_name: z.string(),
    draft: z.boolean().default(false),
    prerelease: z.boolean().default(false),
    published_at: z.string().nullable().optional(),
  }),
);

/** Releases GitHub returns per page; the list is newest first, so the latest semver is on the first page. */
export const RELEASES_PER_PAGE = 100;

/**
 * The project's latest release: `GET /repos/{o}/{r}/releases` (one conditional request, answered with 304 in
 * steady state), highest semver among non-draft releases whose tag carries the project's prefix; prereleases (the
 * GitHub flag or a semver pre-release part) only with `includePrereleases`. null when there is none.
 */
export async function findLatestRelease(
  deps: { http: HttpClient; github: GithubClientFactory },
  project: ProjectConfig,
  includePrereleases: boolean,
  signal: AbortSignal,
): Promise<LatestRelease | null> {
  const [owner = "", repo = ""] = project.repo.split("/");
  const evidence: Evidence[] = [];
  const octokit = deps.github(deps.http.recording(evidence));
  const data = await githubGet(`releases of ${project.repo}`, () =>
    octokit.rest.repos.listReleases({ owner, repo, per_page: RELEASES_PER_PAGE, request: { signal } }),
  );
  if (data === null) throw new AppError("E_PROBE_FAILED", `GitHub repository ${project.repo} not found (404)`);
  const parsed = ReleaseListBody.safeParse(data);
  if (!parsed.success) {
    throw new AppError("E_UPSTREAM_MALFORMED", `releases of ${project.repo}: unexpected response shape`, {
      details: { issues: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`) },
    });
  }
  const latest = pickLatest(parsed.data, project.tag_prefix, includePrereleases);
  return latest && { ...latest, list: { items: data, evidence } };
}

/** Pure: the highest-semver eligible release. */
export function pickLatest(
  releases: readonly {
    tag_name: string;
    draft: boolean;
    prerelease: boolean;
    published_at?: string | null | undefined;
  }[],
  prefix: string,
  includePrereleases: boolean,
): LatestRelease | null {
  let best: LatestRelease | null = null;
  for (const r of releases) {
    if (r.draft) continue;
    if (prefix && !r.tag_name.startsWith(prefix)) continue;
    const version = prefix ? r.tag_name.slice(prefix.length) : r.tag_name;
    const v = semver.valid(version);
    if (!v) continue;
    if (!includePrereleases && (r.prerelease || semver.prerelease(v) !== null)) continue;
    if (best === null || semver.gt(v, best.version))
      best = { tag: r.tag_name, version: v, published_at: r.published_at ?? null };
  }
  return best ? { ...best, version: prefix ? best.tag.slice(prefix.length) : best.tag } : null;
}
