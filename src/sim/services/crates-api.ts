import { type CrateRecord, type CrateVersion } from "../model-crates.ts";
import { json, redirect, type Reply, type ServiceDef, type ServiceRuntime, type SimRequest } from "../server.ts";
import { isoMicros } from "../time.ts";
import type { World } from "../world.ts";
import { compareVersions, isPrerelease } from "../versions.ts";

/** Exact body of crates.io's 403 for a missing/empty User-Agent (integration__server__user_agent_is_required.snap). */
export const CRATES_UA_REQUIRED_BODY = {
  errors: [
    {
      detail:
        "We require that all requests include a `User-Agent` header.  To allow us to determine the impact your bot has on our service, we ask that your user agent actually identify your bot, and not just report the HTTP client library you're using.  Including contact information will also reduce the chance that we will need to take action against your bot.\n\nBad:\n  User-Agent: reqwest/0.9.1\n\nBetter:\n  User-Agent: my_crawler\n\nBest:\n  User-Agent: my_crawler (my_crawler.com/info)\n  User-Agent: my_crawler (help@my_crawler.com)\n\nIf you believe you've received this message in error, please email help@crates.io and include the request id .\n",
    },
  ],
};

function error(status: number, detail: string): Reply {
  return json(status, { errors: [{ detail }] });
}

const PUBLISHER = {
  id: 1,
  login: "sandover",
  name: null,
  avatar: "https://avatars.githubusercontent.com/u/41000000?v=4",
  url: "https://github.com/sandover",
  github_username_matches: true,
  created_at: "2020-01-01T00:00:00.000000Z",
};

/** `trustpub_data` / `published_by` (provenance.md §3.4): a trusted publish has no user. */
function publishedBy(world: World, c: CrateRecord, v: CrateVersion) {
  const found = world.findVersion("crates", c.name, v.num);
  const prov = found ? world.provenanceOf(found.project.name, found.art.version).crates : null;
  if (!prov) return { published_by: PUBLISHER, trustpub_data: null };
  return {
    published_by: null,
    trustpub_data: { provider: "github", repository: prov.repository, run_id: String(prov.runId), sha: prov.sha },
  };
}

function renderVersion(world: World, c: CrateRecord, v: CrateVersion): Record<string, unknown> {
  const publish = publishedBy(world, c, v);
  const base = `/api/v1/crates/${c.name}/${v.num}`;
  return {
    id: v.id,
    crate: c.name,
    num: v.num,
    dl_path: `${base}/download`,
    readme_path: `${base}/readme`,
    updated_at: isoMicros(v.updatedAt),
    created_at: isoMicros(v.createdAt),
    downloads: v.downloads,
    features: v.features,
    yanked: v.yanked,
    yank_message: v.yankMessage,
    lib_links: v.links,
    license: v.license,
    links: {
      dependencies: `${base}/dependencies`,
      version_downloads: `${base}/downloads`,
      authors: `${base}/authors`,
    },
    crate_size: v.content.size,
    published_by: publish.published_by,
    audit_actions: v.auditActions.map((a) => ({
      action: a.action,
      user: a.action === "publish" ? publish.published_by : PUBLISHER,
      time: isoMicros(a.at),
    })),
    checksum: v.checksum,
    rust_version: v.rustVersion,
    has_lib: true,
    bin_names: [c.name],
    edition: v.edition,
    description: c.description,
    homepage: c.homepage,
    documentation: c.documentation,
    repository: c.repository,
    trustpub_data: publish.trustpub_data,
    linecounts: {
      languages: { Rust: { code_lines: 9000, comment_lines: 400, files: 40 } },
      total_code_lines: 9000,
      total_comment_lines: 400,
    },
  };
}

/** `default_version`: non-yanked first, then non-prerelease, then highest semver (calculate_default_version). */
function defaultVersion(versions: CrateVersion[]): string | null {
  const sorted = [...versions].sort(
    (a, b) =>
      Number(a.yanked) - Number(b.yanked) ||
      Number(isPrerelease(a.num)) - Number(isPrerelease(b.num)) ||
      compareVersions(b.num, a.num),
  );
  return sorted[0]?.num ?? null;
}

function highest(versions: CrateVersion[]): string | null {
  return [...versions].sort((a, b) => compareVersions(b.num, a.num))[0]?.num ?? null;
}

function visible(c: CrateRecord): CrateVersion[] {
  return c.versions.filter((v) => !v.hidden);
}

function renderCrate(world: World, c: CrateRecord, include: Set<string> | null): Record<string, unknown> {
  const versions = visible(c);
  const withVersions = include === null || include.has("versions") || include.has("full");
  const live = versions.filter((v) => !v.yanked);
  const byIdDesc = [...versions].sort((a, b) => b.id - a.id);
  const newest = [...live].sort((a, b) => b.createdAt - a.createdAt)[0]?.num ?? "0.0.0";
  const want = (k: string): boolean => include === null || include.has(k) || include.has("full");
  return {
    crate: {
      badges: [],
      categories: want("categories") ? [] : null,
      created_at: isoMicros(c.createdAt),
      default_version: defaultVersion(versions),
      description: c.description,
      documentation: c.documentation,
      downloads: versions.reduce((n, v) => n + v.downloads, 0),
      exact_match: false,
      homepage: c.homepage,
      id: c.name,
      keywords: want("keywords") ? [] : null,
      links: {
        owner_team: `/api/v1/crates/${c.name}/owner_team`,
        owner_user: `/api/v1/crates/${c.name}/owner_user`,
        owners: `/api/v1/crates/${c.name}/owners`,
        reverse_dependencies: `/api/v1/crates/${c.name}/reverse_dependencies`,
        version_downloads: `/api/v1/crates/${c.name}/downloads`,
        versions: withVersions ? null : `/api/v1/crates/${c.name}/versions`,
      },
      max_stable_version: withVersions ? highest(live.filter((v) => !isPrerelease(v.num))) : null,
      max_version: withVersions ? (highest(live) ?? "0.0.0") : "0.0.0",
      name: c.name,
      newest_version: withVersions ? newest : "0.0.0",
      num_versions: versions.length,
      recent_downloads: want("downloads") ? versions.reduce((n, v) => n + v.downloads, 0) : null,
      repository: c.repository,
      trustpub_only: false,
      updated_at: isoMicros(Math.max(c.updatedAt, ...versions.map((v) => v.updatedAt))),
      versions: withVersions ? byIdDesc.map((v) => v.id) : null,
      yanked: versions.length > 0 && versions.every((v) => v.yanked),
    },
    versions: withVersions ? byIdDesc.map((v) => renderVersion(world, c, v)) : null,
    keywords: want("keywords") ? [] : null,
    categories: want("categories") ? [] : null,
  };
}

function parseInclude(req: SimRequest): Set<string> | null {
  const raw = req.query.get("include");
  if (raw === null) return null;
  return new Set(
    raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** crates.io API: `/api/v1/crates/{name}[/{version}[/download]]`, `/versions`. */
export function cratesApiService(rt: ServiceRuntime): ServiceDef {
  const world = rt.world;
  return {
    service: "crates-api",
    handle(req) {
      const s = req.segments;
      const isDownload = s[s.length - 1] === "download";
      const ua = req.header("user-agent");
      if (!isDownload && (ua === undefined || ua.trim() === "")) return json(403, CRATES_UA_REQUIRED_BODY);
      if (s[0] !== "api" || s[1] !== "v1" || s[2] !== "crates" || s.length < 4 || s.length > 6) {
        return error(404, "Not Found");
      }
      const name = s[3] as string;
      const crate = world.crates.get(name);
      if (!crate) return error(404, `crate \`${name}\` does not exist`);
      if (s.length === 4) return json(200, renderCrate(world, crate, parseInclude(req)));
      const sub = s[4] as string;
      if (s.length === 5 && sub === "versions") {
        const sort = req.query.get("sort") === "date" ? "date" : "semver";
        const all = visible(crate).sort((a, b) =>
          sort === "date" ? b.createdAt - a.createdAt : compareVersions(b.num, a.num),
        );
        const perPage = req.query.get("per_page");
        if (perPage === null)
          return json(200, {
            versions: all.map((v) => renderVersion(world, crate, v)),
            meta: { total: all.length, next_page: null },
          });
        const n = Math.max(1, Math.min(100, Number.parseInt(perPage, 10) || 10));
        const offset =
          Number.parseInt(Buffer.from(req.query.get("seek") ?? "", "base64url").toString() || "0", 10) || 0;
        const page = all.slice(offset, offset + n);
        const next =
          offset + n < all.length
            ? `?per_page=${n}&seek=${Buffer.from(String(offset + n)).toString("base64url")}`
            : null;
        return json(200, {
          versions: page.map((v) => renderVersion(world, crate, v)),
          meta: { total: all.length, next_page: next },
        });
      }
      const version = visible(crate).find((v) => v.num === sub);
      if (!version) return error(404, `crate \`${name}\` does not have a version \`${sub}\``);
      if (s.length === 5) return json(200, { version: renderVersion(world, crate, version) });
      if (s.length === 6 && isDownload) {
        const url = `${world.urls.cratesStatic}/crates/${crate.name}/${crate.name}-${version.num}.crate`;
        version.downloads++;
        if ((req.header("accept") ?? "").includes("application/json")) return json(200, { url });
        return redirect(302, url);
      }
      return error(404, "Not Found");
    },
  };
}
