import { createHash } from "node:crypto";
import pLimit from "p-limit";
import { AppError, errorMessage } from "../../errors.ts";
import { CACHE_TTL_HEADER } from "../../http/client.ts";
import { githubGet } from "../../http/github.ts";
import type { DownloadedAsset, PlanWith, Probe, ProbeContext } from "../../probes/types.ts";
import type { ChecksumFile, GithubAsset, GithubObservation, GithubPlan, GithubRelease, SidecarRead } from "./types.ts";
import { MAX_INVALID_LINES, parseChecksumFile, parseSidecar } from "./checksums.ts";
import { GitRefBody, GitTagBody, LatestReleaseBody, ReleaseBody, parseUpstream } from "./schemas.ts";
import { matchesExtra } from "./config.ts";

/** The checksum file is a few lines of text; anything bigger is not what we think it is. */
export const CHECKSUM_MAX_BYTES = 1024 * 1024;
/**
 * How long the daemon reuses a downloaded checksum file instead of fetching it again. The copy is keyed by the
 * asset's identity (API URL with its id, updated_at, size, digest): uploaded assets never change in place, a
 * re-upload is a new asset. Downloading it every cycle would also bump the release's download_count, which changes
 * the ETag of every release document, so no conditional request could answer 304. Never under `--deep`.
 */
export const CHECKSUM_CACHE_TTL_MS = 24 * 3_600_000;
/** Parallel asset downloads under `--deep` (each one streams; memory stays bounded whatever the sizes). */
export const DEEP_DOWNLOAD_CONCURRENCY = 3;
/** A sidecar holds one line; anything bigger is not a sidecar. */
export const SIDECAR_MAX_BYTES = 4096;
/** Parallel sidecar reads (`checksums: { sidecar }`): one small file per asset. */
const SIDECAR_CONCURRENCY = 4;
/** Annotated tags may point at other tags; peel at most this many levels. */
const MAX_TAG_PEEL = 5;
/**
 * How long the daemon reuses a tag object without asking again. A git object is addressed by its sha and never
 * changes; a moved tag is a new object, seen through the ref (asked every time). One request fewer per project and
 * cycle in steady state (docs/benchmarks.md, scale).
 */
export const TAG_OBJECT_CACHE_TTL_MS = 30 * 24 * 3_600_000;

/**
 * GitHub Releases: the tag (peeled to its commit), the published release for the tag, the repository's
 * `releases/latest`, the parsed checksum asset, and under `--deep` the sha256 of every uploaded asset.
 * Raw observations only; drift/ compares them with the plan. Contract: registry-contracts.md §1.6.
 */
export const githubProbe: Probe<"github", GithubPlan, GithubObservation> = {
  channel: "github",
  async observe(plan: PlanWith<"github", GithubPlan>, ctx: ProbeContext): Promise<GithubObservation> {
    const gh = plan.github;
    if (!gh) throw new AppError("E_PROBE_FAILED", `project ${plan.project} has no github channel`);
    // A Map, not an object: asset names are upstream data (`__proto__` is a valid asset name).
    const downloads: Map<string, DownloadedAsset> | null = ctx.deep ? new Map() : null;
    const tagP = observeTag(ctx, gh, plan.tag);
    const releaseP = observeRelease(ctx, gh, plan.tag);
    const latestP = observeLatest(ctx, gh);
    // The checksum file depends on the release only: fetch it while the tag is still being peeled (the longest
    // chain is release -> checksum 302 -> download host, not tag ref -> tag object -> checksum -> …).
    const checksumsP = releaseP.then((release) => observeChecksums(ctx, gh, release, downloads));
    const sidecarsP = releaseP.then((release) => observeSidecars(ctx, gh, release, downloads));
    await settleAll<unknown>([tagP, releaseP, latestP, checksumsP, sidecarsP]);
    const [tag, release, latest_release_tag, checksums] = [await tagP, await releaseP, await latestP, await checksumsP];
    const sidecars = await sidecarsP;
    if (downloads && release && !release.draft) {
      // A sidecar that could not be read is already that sidecar's "could not tell": not downloaded again.
      const tried = new Set(
        [...(sidecars?.values() ?? [])].filter((sc) => sc.state === "unreadable").map((sc) => sc.name),
      );
      await hashAssets(
        ctx,
        gh,
        release.assets.filter((a) => !tried.has(a.name)),
        downloads,
      );
    }
    return {
      channel: "github",
      repo: `${gh.owner}/${gh.repo}`,
      tag,
      release,
      latest_release_tag,
      checksums,
      downloads: downloads ? toSortedRecord(downloads) : null,
      ...(sidecars ? { sidecars: toSortedRecord(sidecars) } : {}),
      ...(gh.assets.length === 0 && gh.checksum_file === null ? { assets_judged: false as const } : {}),
      ...(gh.extra_assets?.length ? { extra_assets: extraAssetNames(gh, release) } : {}),
    };
  },
};

/** The attached files an `extra_assets` pattern matches (never an expected asset, the checksum file or a sidecar). */
function extraAssetNames(gh: GithubPlan, release: GithubRelease | null): string[] {
  const judged = new Set([
    ...gh.assets.map((a) => a.name),
    ...(gh.checksum_file ? [gh.checksum_file] : []),
    ...(gh.checksum_sidecar ? gh.assets.map((a) => `${a.name}${gh.checksum_sidecar}`) : []),
  ]);
  return (release?.assets ?? [])
    .map((a) => a.name)
    .filter((n) => !judged.has(n) && (gh.extra_assets ?? []).some((p) => matchesExtra(n, p)));
}

// ---------------------------------------------------------------- tag

async function observeTag(ctx: ProbeContext, gh: GithubPlan, tag: string): Promise<GithubObservation["tag"]> {
  const where = `${gh.owner}/${gh.repo}`;
  const data = await githubGet(`tag ${tag} of ${where}`, () =>
    ctx.octokit.rest.git.getRef({
      owner: gh.owner,
      repo: gh.repo,
      ref: `tags/${tag}`,
      request: { signal: ctx.signal },
    }),
  );
  if (data === null) return { name: tag, exists: false, object_type: null, commit_sha: null };
  const ref = parseUpstream(GitRefBody, data, `git ref tags/${tag} of ${where}`);
  let object = ref.object;
  for (let depth = 0; object.type === "tag" && depth < MAX_TAG_PEEL; depth++) {
    const sha = object.sha;
    const tagObject = await githubGet(`annotated tag ${tag} (${sha}) of ${where}`, () =>
      ctx.octokit.rest.git.getTag({
        owner: gh.owner,
        repo: gh.repo,
        tag_sha: sha,
        headers: { [CACHE_TTL_HEADER]: String(TAG_OBJECT_CACHE_TTL_MS) },
        request: { signal: ctx.signal },
      }),
    );
    if (tagObject === null) {
      throw new AppError("E_PROBE_FAILED", `tag ${tag} of ${where} points at tag object ${sha}, which answers 404`);
    }
    object = parseUpstream(GitTagBody, tagObject, `tag object ${sha} of ${where}`).object;
  }
  const object_type = ref.object.type === "tag" ? "tag" : ref.object.type === "commit" ? "commit" : null;
  if (object.type !== "commit") {
    ctx.log.warn({ tag, object_type: object.type }, "tag does not resolve to a commit");
  }
  return { name: tag, exists: true, object_type, commit_sha: object.type === "commit" ? object.sha : null };
}

// ---------------------------------------------------------------- releases

async function observeRelease(ctx: ProbeContext, gh: GithubPlan, tag: string): Promise<GithubRelease | null> {
  const where = `${gh.owner}/${gh.repo}`;
  // The daemon has just read the release list to pick this tag: the published release for it is the document
  // `releases/tags/{tag}` would answer (the same OpenAPI `release`), so it is not asked for again.
  const listed = ctx.releaseList?.();
  const data =
    (listed && listedRelease(listed, tag, false)) ??
    (await githubGet(`release ${tag} of ${where}`, () =>
      ctx.octokit.rest.repos.getReleaseByTag({ owner: gh.owner, repo: gh.repo, tag, request: { signal: ctx.signal } }),
    ));
  if (data !== null) {
    const release = toRelease(parseUpstream(ReleaseBody, data, `release ${tag} of ${where}`));
    // Its assets' digests start the attestation lookups (provenance prefetch), on the next turn: the checksum file,
    // the next hop of the critical path, is asked for first.
    const early = ctx.early;
    if (early) setImmediate(() => early(release));
    return release;
  }
  return findDraft(ctx, gh, tag, listed);
}

/** The list item for `tag` that is (draft) or is not (published) a draft; undefined when there is none. */
function listedRelease(list: readonly unknown[], tag: string, draft: boolean): unknown {
  return list.find(
    (r) =>
      typeof r === "object" &&
      r !== null &&
      (r as { tag_name?: unknown }).tag_name === tag &&
      ((r as { draft?: unknown }).draft === true) === draft,
  );
}

/**
 * `releases/tags/{tag}` only returns published releases. A draft for the tag is visible in the release list to
 * tokens with push access: look there (first page, newest first; the caller's copy when it has one) so a forgotten
 * draft reads `release-draft` rather than `release-missing`.
 */
async function findDraft(
  ctx: ProbeContext,
  gh: GithubPlan,
  tag: string,
  listed: readonly unknown[] | undefined,
): Promise<GithubRelease | null> {
  const where = `${gh.owner}/${gh.repo}`;
  const list =
    listed ??
    (await githubGet(`releases of ${where}`, () =>
      ctx.octokit.rest.repos.listReleases({
        owner: gh.owner,
        repo: gh.repo,
        per_page: 100,
        request: { signal: ctx.signal },
      }),
    ));
  if (!Array.isArray(list)) return null;
  const draft = listedRelease(list as unknown[], tag, true);
  return draft ? toRelease(parseUpstream(ReleaseBody, draft, `draft release ${tag} of ${where}`)) : null;
}

function toRelease(r: ReleaseBody): GithubRelease {
  const assets: GithubAsset[] = r.assets.map((a) => ({
    id: a.id,
    name: a.name,
    size: a.size,
    state: a.state,
    digest: a.digest,
    browser_download_url: a.browser_download_url,
    url: a.url,
    content_type: a.content_type,
    created_at: a.created_at,
    updated_at: a.updated_at,
  }));
  return {
    id: r.id,
    tag_name: r.tag_name,
    name: r.name,
    draft: r.draft,
    prerelease: r.prerelease,
    immutable: r.immutable,
    created_at: r.created_at,
    published_at: r.published_at,
    html_url: r.html_url,
    target_commitish: r.target_commitish,
    assets,
  };
}

async function observeLatest(ctx: ProbeContext, gh: GithubPlan): Promise<string | null> {
  const where = `${gh.owner}/${gh.repo}`;
  const data = await githubGet(`latest release of ${where}`, () =>
    ctx.octokit.rest.repos.getLatestRelease({ owner: gh.owner, repo: gh.repo, request: { signal: ctx.signal } }),
  );
  if (data === null) return null;
  return parseUpstream(LatestReleaseBody, data, `latest release of ${where}`).tag_name;
}

// ---------------------------------------------------------------- checksum file

/** Only `uploaded` assets are real: failed uploads leave `starter`/`open` placeholders. */
function isUploaded(asset: GithubAsset): boolean {
  return asset.state === "uploaded";
}

async function observeChecksums(
  ctx: ProbeContext,
  gh: GithubPlan,
  release: GithubRelease | null,
  downloads: Map<string, DownloadedAsset> | null,
): Promise<ChecksumFile | null> {
  // Draft assets are not downloadable from the public URL; the draft itself is the finding.
  if (!gh.checksum_file || !release || release.draft) return null;
  const asset = release.assets.find((a) => a.name === gh.checksum_file && isUploaded(a));
  if (!asset) return null;
  const res = await ctx.http.request({
    url: asset.browser_download_url,
    headers: { accept: "application/octet-stream" },
    redirectHosts: gh.download_hosts,
    maxBytes: CHECKSUM_MAX_BYTES,
    signal: ctx.signal,
    ...assetCache(ctx, asset),
  });
  if (res.status !== 200) {
    throw new AppError(
      "E_HTTP_STATUS",
      `checksum file ${asset.name} (${asset.browser_download_url}) answered HTTP ${res.status}`,
      { details: { status: res.status } },
    );
  }
  // Under --deep the checksum asset is hashed from these bytes instead of being downloaded twice.
  downloads?.set(asset.name, { sha256: createHash("sha256").update(res.body).digest("hex"), bytes: res.body.length });
  const { file, invalidTotal } = parseChecksumFile(asset.name, res.text());
  if (invalidTotal > MAX_INVALID_LINES) {
    ctx.log.warn(
      { asset: asset.name, invalid_lines: invalidTotal, kept: MAX_INVALID_LINES },
      "checksum file has many invalid lines",
    );
  }
  return file;
}

// ---------------------------------------------------------------- sidecars

/** The same cache rule as the checksum file: an uploaded asset never changes in place. Never under `--deep`. */
function assetCache(ctx: ProbeContext, asset: GithubAsset): { cacheTtlMs?: number; cacheKey?: string } {
  if (ctx.deep) return {};
  return {
    cacheTtlMs: CHECKSUM_CACHE_TTL_MS,
    cacheKey: `github-asset ${asset.url} ${asset.updated_at ?? "-"} ${asset.size} ${asset.digest ?? "-"}`,
  };
}

/**
 * `checksums: { sidecar }`: each expected asset's `<asset><suffix>`, read and parsed (the check compares). A sidecar
 * that is not on the release is `missing`; one that answers other than 200, or not at all, is `unreadable` (could
 * not tell), and the other sidecars are still read. Null in checksum-file mode and for drafts (not downloadable).
 */
async function observeSidecars(
  ctx: ProbeContext,
  gh: GithubPlan,
  release: GithubRelease | null,
  downloads: Map<string, DownloadedAsset> | null,
): Promise<Map<string, SidecarRead> | null> {
  const suffix = gh.checksum_sidecar;
  if (!suffix || !release || release.draft) return null;
  const uploaded = new Map(release.assets.filter(isUploaded).map((a) => [a.name, a]));
  const out = new Map<string, SidecarRead>();
  const limit = pLimit(SIDECAR_CONCURRENCY);
  const wanted = gh.assets.filter((a) => uploaded.has(a.name));
  await Promise.all(
    wanted.map((want) =>
      limit(async () => {
        const name = `${want.name}${suffix}`;
        const asset = uploaded.get(name);
        out.set(want.name, asset ? await readSidecar(ctx, gh, asset, downloads) : { name, state: "missing" });
      }),
    ),
  );
  return out;
}

async function readSidecar(
  ctx: ProbeContext,
  gh: GithubPlan,
  asset: GithubAsset,
  downloads: Map<string, DownloadedAsset> | null,
): Promise<SidecarRead> {
  let res;
  try {
    res = await ctx.http.request({
      url: asset.browser_download_url,
      headers: { accept: "application/octet-stream" },
      redirectHosts: gh.download_hosts,
      maxBytes: SIDECAR_MAX_BYTES,
      signal: ctx.signal,
      ...assetCache(ctx, asset),
    });
  } catch (err) {
    // The run's deadline or cancellation ends the probe; anything else is this one sidecar's "could not tell".
    if (ctx.signal.aborted) throw err;
    return { name: asset.name, state: "unreadable", error: errorMessage(err) };
  }
  if (res.status !== 200) return { name: asset.name, state: "unreadable", error: `HTTP ${res.status}` };
  downloads?.set(asset.name, { sha256: createHash("sha256").update(res.body).digest("hex"), bytes: res.body.length });
  return parseSidecar(asset.name, res.text());
}

// ---------------------------------------------------------------- --deep

async function hashAssets(
  ctx: ProbeContext,
  gh: GithubPlan,
  assets: readonly GithubAsset[],
  into: Map<string, DownloadedAsset>,
): Promise<void> {
  const limit = pLimit(DEEP_DOWNLOAD_CONCURRENCY);
  // The first failure settles the channel as unknown: stop the other downloads instead of finishing them.
  const failed = new AbortController();
  const signal = AbortSignal.any([ctx.signal, failed.signal]);
  const todo = assets.filter((a) => isUploaded(a) && !into.has(a.name));
  const results = await settleAll(
    todo.map((a) =>
      limit(async () => {
        try {
          return await hashAsset(ctx, gh, a, signal);
        } catch (err) {
          failed.abort(err);
          throw err;
        }
      }),
    ),
  );
  todo.forEach((a, i) => {
    const r = results[i];
    if (r) into.set(a.name, r);
  });
}

/** Streams one asset through sha256 (memory stays at one chunk whatever the size). */
export async function hashAsset(
  ctx: ProbeContext,
  gh: GithubPlan,
  asset: GithubAsset,
  signal: AbortSignal = ctx.signal,
): Promise<DownloadedAsset> {
  const hash = createHash("sha256");
  const res = await ctx.http.stream(
    {
      url: asset.browser_download_url,
      headers: { accept: "application/octet-stream" },
      redirectHosts: gh.download_hosts,
      signal,
    },
    (chunk) => hash.update(chunk),
  );
  if (res.status !== 200) {
    throw new AppError(
      "E_HTTP_STATUS",
      `asset ${asset.name} (${asset.browser_download_url}) answered HTTP ${res.status}`,
      {
        details: { status: res.status },
      },
    );
  }
  return { sha256: hash.digest("hex"), bytes: res.bytes };
}

/**
 * Like Promise.all, but waits for every promise before rejecting with the first error, so no request is still
 * running (and appending evidence) after the probe has returned.
 */
async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** `Object.fromEntries` defines own properties, so hostile names stay plain keys. Sorted for stable reports. */
function toSortedRecord<T>(map: ReadonlyMap<string, T>): Record<string, T> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
