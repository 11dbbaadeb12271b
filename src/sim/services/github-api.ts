import { createHash } from "node:crypto";
import { gitBlobSha, nodeId, type GitCommit, type Repo } from "../model-github.ts";
import { json, redirect, text, type Reply, type ServiceDef, type ServiceRuntime, type SimRequest } from "../server.ts";
import type { SimUrls } from "../services.ts";
import { isoSeconds } from "../time.ts";
import {
  authenticatedUser,
  paginate,
  renderAsset,
  renderCommit,
  renderRelease,
  renderRepo,
  repoApi,
  withLink,
} from "./github-render.ts";
import { isIssuesWrite, issuesRoute } from "./github-issues.ts";
import { signedAssetUrl } from "./github-download.ts";
import { actionsRoute, isActionsWrite, simControlRoute } from "./github-actions.ts";
import { githubAttestations } from "./provenance.ts";

const DOCS = "https://docs.github.com/rest";
const SUPPORTED_API_VERSIONS = new Set(["2022-11-28", "2026-03-10"]);
/** SpecificExceptions.testBadUserAgent (real, 2013). */
const BAD_UA_BODY =
  '{"message":"Missing or invalid User Agent string. See http://developer.github.com/v3/#user-agent-required"}';

export interface GithubApiOptions {
  /** When set, only this token is accepted (others get 401 Bad credentials); otherwise any token is. */
  token: string | null;
}

/** Primary rate limit per identity (token or anonymous), one-hour windows. */
class RateLimiter {
  readonly #buckets = new Map<string, { used: number; reset: number }>();

  state(
    identity: string,
    limit: number,
    now: number,
  ): { limit: number; used: number; remaining: number; reset: number } {
    let b = this.#buckets.get(identity);
    if (!b || now >= b.reset * 1000) {
      b = { used: 0, reset: Math.floor(now / 1000) + 3600 };
      this.#buckets.set(identity, b);
    }
    return { limit, used: b.used, remaining: Math.max(0, limit - b.used), reset: b.reset };
  }

  spend(identity: string, limit: number, now: number): void {
    this.state(identity, limit, now);
    const b = this.#buckets.get(identity);
    if (b) b.used++;
  }
}

function notFound(doc: string): Reply {
  return json(404, { message: "Not Found", documentation_url: `${DOCS}/${doc}`, status: "404" });
}

function tokenOf(req: SimRequest): string | null {
  const auth = req.header("authorization");
  if (auth === undefined) return null;
  const m = /^\s*(?:bearer|token)\s+(.+?)\s*$/i.exec(auth);
  return m?.[1] ?? auth.trim();
}

function cached(reply: Reply, lastModified: number): Reply {
  reply.cache = { lastModified };
  return reply;
}

/** Raw media types the contents endpoint answers with bytes; echoed back as the response type. */
function rawMediaType(accept: string): string | null {
  const m = /application\/vnd\.github(?:\.v3)?\.raw(?:\+json)?/i.exec(accept);
  return m ? m[0].toLowerCase() : null;
}

function base64Lines(data: Buffer): string {
  const b64 = data.toString("base64");
  return (b64.match(/.{1,60}/g) ?? [""]).join("\n") + "\n";
}

export function githubApiService(rt: ServiceRuntime, options: GithubApiOptions): ServiceDef {
  const limiter = new RateLimiter();
  let requestCounter = 0;
  const world = rt.world;

  const identity = (req: SimRequest): string => {
    const t = tokenOf(req);
    return t === null ? "anonymous:127.0.0.1" : `token:${createHash("sha256").update(t).digest("hex")}`;
  };
  const limitFor = (req: SimRequest): number =>
    req.authenticated ? world.githubRateLimit.authenticated : world.githubRateLimit.anonymous;

  const contentEntry = (
    urls: SimUrls,
    repo: Repo,
    ref: string,
    path: string,
    data: Buffer | null,
  ): Record<string, unknown> => {
    const api = repoApi(urls, repo);
    const name = path.split("/").pop() ?? path;
    const sha = data ? gitBlobSha(data) : createHash("sha1").update(`tree ${path}`).digest("hex");
    const self = `${api}/contents/${path}?ref=${encodeURIComponent(ref)}`;
    const html = `${urls.githubWeb}/${repo.slug}/${data ? "blob" : "tree"}/${ref}/${path}`;
    const git = `${api}/git/${data ? "blobs" : "trees"}/${sha}`;
    return {
      name,
      path,
      sha,
      size: data ? data.length : 0,
      url: self,
      html_url: html,
      git_url: git,
      download_url: data ? `${urls.githubWeb}/${repo.slug}/raw/${ref}/${path}` : null,
      type: data ? "file" : "dir",
      _links: { self, git, html },
    };
  };

  const contents = (req: SimRequest, repo: Repo, pathParts: string[]): Reply => {
    const urls = world.urls;
    const refParam = req.query.get("ref");
    const commit: GitCommit | null = repo.resolveRef(refParam);
    const doc = "repos/contents#get-repository-content";
    if (!commit) {
      return json(404, {
        message: `No commit found for the ref ${refParam ?? ""}`,
        documentation_url: `${DOCS}/${doc}`,
        status: "404",
      });
    }
    const ref = refParam ?? repo.defaultBranch;
    const path = pathParts.join("/");
    const file = commit.files.get(path);
    const accept = req.header("accept") ?? "";
    if (file) {
      const raw = rawMediaType(accept);
      if (raw) return cached(text(200, file, `${raw}; charset=utf-8`), commit.at);
      const entry = contentEntry(urls, repo, ref, path, file);
      return cached(json(200, { ...entry, content: base64Lines(file), encoding: "base64" }), commit.at);
    }
    const prefix = path === "" ? "" : `${path}/`;
    const children = new Map<string, boolean>();
    for (const p of commit.files.keys()) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      const [first, ...more] = rest.split("/");
      if (first) children.set(first, more.length === 0);
    }
    if (children.size === 0) return notFound(doc);
    const list = [...children.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, isFile]) =>
        contentEntry(urls, repo, ref, prefix + name, isFile ? (commit.files.get(prefix + name) ?? null) : null),
      );
    return cached(json(200, list), commit.at);
  };

  const repoRoute = (req: SimRequest, repo: Repo, rest: string[]): Reply | Promise<Reply> => {
    const urls = world.urls;
    const api = repoApi(urls, repo);
    const [a, b, c] = rest;
    const accept = (req.header("accept") ?? "").toLowerCase();
    if (rest.length === 0) return cached(json(200, renderRepo(urls, repo)), repo.head()?.at ?? repo.createdAt);

    if (a === "releases") {
      if (rest.length === 1) {
        const all = repo.visibleReleases(req.authenticated);
        const { page, link } = paginate(req, urls, repo, "releases", all);
        const lm = Math.max(repo.createdAt, ...page.map((r) => r.updatedAt));
        return withLink(
          cached(
            json(
              200,
              page.map((r) => renderRelease(urls, repo, r)),
            ),
            lm,
          ),
          link,
        );
      }
      if (b === "latest" && rest.length === 2) {
        const latest = repo.latestRelease();
        if (!latest) return notFound("releases/releases#get-the-latest-release");
        return cached(json(200, renderRelease(urls, repo, latest)), latest.updatedAt);
      }
      if (b === "tags" && rest.length >= 3) {
        const tag = rest.slice(2).join("/");
        const release = repo.publishedReleaseByTag(tag);
        if (!release) return notFound("releases/releases#get-a-release-by-tag-name");
        return cached(json(200, renderRelease(urls, repo, release)), release.updatedAt);
      }
      if (b === "assets" && c !== undefined && rest.length === 3) {
        const found = /^\d+$/.test(c) ? repo.findAsset(Number(c)) : null;
        if (!found || (found.release.draft && !req.authenticated))
          return notFound("releases/assets#get-a-release-asset");
        if (accept.includes("application/octet-stream")) {
          found.asset.downloadCount++;
          return redirect(302, signedAssetUrl(world, repo, found.asset), { "content-type": "text/html;charset=utf-8" });
        }
        return cached(json(200, renderAsset(urls, repo, found.release, found.asset)), found.asset.updatedAt);
      }
      if (b !== undefined && /^\d+$/.test(b)) {
        const release = repo.visibleReleases(req.authenticated).find((r) => r.id === Number(b));
        if (!release) return notFound("releases/releases#get-a-release");
        if (rest.length === 2) return cached(json(200, renderRelease(urls, repo, release)), release.updatedAt);
        if (c === "assets" && rest.length === 3) {
          const { page, link } = paginate(req, urls, repo, `releases/${release.id}/assets`, release.assets);
          return withLink(
            cached(
              json(
                200,
                page.map((x) => renderAsset(urls, repo, release, x)),
              ),
              release.updatedAt,
            ),
            link,
          );
        }
      }
      return notFound("releases/releases");
    }

    if (a === "tags" && rest.length === 1) {
      const tags = [...repo.tags.values()].sort((x, y) => y.at - x.at || (x.name < y.name ? 1 : -1));
      const { page, link } = paginate(req, urls, repo, "tags", tags);
      const body = page.map((t) => ({
        name: t.name,
        zipball_url: `${api}/zipball/refs/tags/${t.name}`,
        tarball_url: `${api}/tarball/refs/tags/${t.name}`,
        commit: { sha: t.commitSha, url: `${api}/commits/${t.commitSha}` },
        node_id: nodeId("REF", `${repo.id}:refs/tags/${t.name}`),
      }));
      return withLink(cached(json(200, body), Math.max(repo.createdAt, ...tags.map((t) => t.at))), link);
    }

    if (a === "git") {
      const refJson = (name: string): Record<string, unknown> | null => {
        const t = repo.tags.get(name);
        if (!t) return null;
        const object = t.annotated
          ? { sha: t.tagObjectSha, type: "tag", url: `${api}/git/tags/${t.tagObjectSha}` }
          : { sha: t.commitSha, type: "commit", url: `${api}/git/commits/${t.commitSha}` };
        return {
          ref: `refs/tags/${name}`,
          node_id: nodeId("REF", `${repo.id}:refs/tags/${name}`),
          url: `${api}/git/refs/tags/${name}`,
          object,
        };
      };
      // Octokit sends `git/ref/tags%2Fv1.0.0` (the ref parameter is one encoded segment); GitHub accepts both forms.
      const refPath = b === "ref" ? rest.slice(2).join("/") : "";
      if (b === "ref" && refPath.startsWith("tags/") && refPath.length > 5) {
        const name = refPath.slice(5);
        const r = refJson(name);
        if (!r) return notFound("git/refs#get-a-reference");
        return cached(json(200, r), repo.tags.get(name)?.at ?? repo.createdAt);
      }
      if (b === "matching-refs" && c === "tags") {
        const prefix = rest.slice(3).join("/");
        const list = [...repo.tags.keys()]
          .filter((n) => n.startsWith(prefix))
          .sort()
          .map((n) => refJson(n));
        return cached(json(200, list), Math.max(repo.createdAt, ...[...repo.tags.values()].map((t) => t.at)));
      }
      if (b === "tags" && c !== undefined && rest.length === 3) {
        const t = repo.tagByObjectSha(c.toLowerCase());
        if (!t || !t.tagObjectSha) return notFound("git/tags#get-a-tag");
        return cached(
          json(200, {
            node_id: nodeId("TAG", t.tagObjectSha),
            sha: t.tagObjectSha,
            url: `${api}/git/tags/${t.tagObjectSha}`,
            tagger: {
              name: "github-actions[bot]",
              email: "41898282+github-actions[bot]@users.noreply.github.com",
              date: isoSeconds(t.at),
            },
            object: { sha: t.commitSha, type: "commit", url: `${api}/git/commits/${t.commitSha}` },
            tag: t.name,
            message: t.message,
            verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
          }),
          t.at,
        );
      }
      if (b === "commits" && c !== undefined && rest.length === 3) {
        const commit = repo.commits.get(c.toLowerCase());
        if (!commit) return notFound("git/commits#get-a-commit-object");
        return cached(json(200, renderCommit(urls, repo, commit)), commit.at);
      }
      if (b === "trees" && c !== undefined && rest.length >= 3) {
        // `git/trees/{tree-ish}`: a ref name, a tag or a commit sha; `?recursive=1` lists every file, as GitHub does.
        const commit = repo.resolveRef(rest.slice(2).join("/"));
        if (!commit) return notFound("git/trees#get-a-tree");
        const recursive = req.query.get("recursive") !== null;
        const paths = [...commit.files.keys()].sort();
        const dirs = new Set(
          paths.flatMap((p) =>
            p
              .split("/")
              .slice(0, -1)
              .map((_, i, a) => a.slice(0, i + 1).join("/")),
          ),
        );
        const entries = [
          ...[...dirs].map((path) => ({
            path,
            mode: "040000",
            type: "tree",
            sha: createHash("sha1").update(`tree ${path}`).digest("hex"),
          })),
          ...paths.map((path) => {
            const data = commit.files.get(path)!;
            return { path, mode: "100644", type: "blob", sha: gitBlobSha(data), size: data.length };
          }),
        ]
          .filter((e) => recursive || !e.path.includes("/"))
          .sort((x, y) => (x.path < y.path ? -1 : 1))
          .map((e) => ({ ...e, url: `${api}/git/${e.type === "tree" ? "trees" : "blobs"}/${e.sha}` }));
        const sha = commit.sha.split("").reverse().join("");
        return cached(json(200, { sha, url: `${api}/git/trees/${sha}`, tree: entries, truncated: false }), commit.at);
      }
      return notFound("git");
    }

    if (a === "immutable-releases" && rest.length === 1) {
      // 200 when enabled; 404 when not (docs: "Check if immutable releases are enabled for a repository").
      if (!repo.immutableReleases)
        return notFound("repos/repos#check-if-immutable-releases-are-enabled-for-a-repository");
      return json(200, { enabled: true, enforced_by_owner: false });
    }
    if (a === "attestations" && b !== undefined && rest.length === 2) {
      return githubAttestations(world, repo, decodeURIComponent(b), req.query, req.url.href);
    }
    if (a === "contents") return contents(req, repo, rest.slice(1));
    if (a === "actions") return actionsRoute(req, repo, rest.slice(1), world);
    if (a === "issues") return issuesRoute(req, repo, rest.slice(1), world);
    return notFound("repos");
  };

  const rateLimitBody = (req: SimRequest): Record<string, unknown> => {
    const s = limiter.state(identity(req), limitFor(req), world.now());
    const core = { limit: s.limit, used: s.used, remaining: s.remaining, reset: s.reset };
    const fixed = (limit: number): Record<string, number> => ({ limit, used: 0, remaining: limit, reset: s.reset });
    return {
      resources: {
        core,
        search: fixed(req.authenticated ? 30 : 10),
        graphql: fixed(req.authenticated ? 5000 : 0),
        integration_manifest: fixed(5000),
        source_import: fixed(100),
        code_scanning_upload: fixed(1000),
        code_scanning_autofix: fixed(10),
        actions_runner_registration: fixed(10000),
        scim: fixed(15000),
        dependency_snapshots: fixed(100),
        audit_log: fixed(1750),
        audit_log_streaming: fixed(15),
        code_search: fixed(10),
      },
      rate: core,
    };
  };

  return {
    service: "github-api",
    handle(req) {
      const ua = req.header("user-agent");
      if (ua === undefined || ua.trim() === "") {
        return { ...text(403, BAD_UA_BODY, "application/octet-stream"), note: "none" };
      }
      const token = tokenOf(req);
      if (token !== null && options.token !== null && token !== options.token) {
        return { ...json(401, { message: "Bad credentials", documentation_url: DOCS, status: "401" }), note: "none" };
      }
      const version = req.header("x-github-api-version");
      if (version !== undefined && !SUPPORTED_API_VERSIONS.has(version)) {
        return {
          ...json(400, {
            message: `API version '${version}' is not supported.`,
            documentation_url: `${DOCS}/about-the-rest-api/api-versions`,
            status: "400",
          }),
          note: "none",
        };
      }
      if (req.segments[0] === "_sim") return { ...simControlRoute(req, world), note: "none" };
      if (req.method !== "GET" && req.method !== "HEAD" && !isActionsWrite(req) && !isIssuesWrite(req))
        return { ...notFound("rest"), note: "count" };
      const [first, ...rest] = req.segments;
      if (first === "rate_limit" && rest.length === 0) {
        const reply = json(200, rateLimitBody(req), { "cache-control": "no-cache" });
        return { ...reply, note: "free" };
      }
      const state = limiter.state(identity(req), limitFor(req), world.now());
      if (state.remaining <= 0) {
        const stamp = new Date(world.now()).toISOString().replace("T", " ").slice(0, 19);
        const message = req.authenticated
          ? `API rate limit exceeded for user ID 1000001. If you reach out to GitHub Support for help, please include the request ID ${requestId(requestCounter)} and timestamp ${stamp} UTC.`
          : `API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.) If you reach out to GitHub Support for help, please include the request ID ${requestId(requestCounter)} and timestamp ${stamp} UTC.`;
        return {
          ...json(403, {
            message,
            documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            status: "403",
          }),
          note: "exhausted",
        };
      }
      let reply: Reply | Promise<Reply>;
      if (first === "user" && rest.length === 0) {
        reply = req.authenticated
          ? json(200, authenticatedUser(world.urls))
          : json(401, {
              message: "Requires authentication",
              documentation_url: `${DOCS}/users/users#get-the-authenticated-user`,
              status: "401",
            });
      } else if (first === "repos" && rest.length >= 2) {
        const repo = world.github.repo(rest[0] as string, rest[1] as string);
        reply = repo ? repoRoute(req, repo, rest.slice(2)) : notFound("repos/repos#get-a-repository");
      } else if (first === "repositories" && rest.length >= 1 && /^\d+$/.test(rest[0] as string)) {
        const repo = world.github.repoById(Number(rest[0]));
        reply = repo ? repoRoute(req, repo, rest.slice(1)) : notFound("repos/repos#get-a-repository");
      } else {
        reply = notFound("rest");
      }
      return Promise.resolve(reply).then((r) => ({ ...r, note: "count" }));
    },
    finish(req, reply) {
      requestCounter++;
      reply.headers["x-github-request-id"] = requestId(requestCounter);
      reply.headers["server"] = "github.com";
      if (reply.note === "none") return;
      const auth = req.authenticated;
      Object.assign(reply.headers, {
        "cache-control": reply.headers["cache-control"] ?? `${auth ? "private" : "public"}, max-age=60, s-maxage=60`,
        vary: "Accept, Authorization, Cookie, X-GitHub-OTP,Accept-Encoding, Accept, X-Requested-With",
        "x-github-media-type": "github.v3; format=json",
        "x-github-api-version-selected": req.header("x-github-api-version") ?? "2022-11-28",
        "access-control-allow-origin": "*",
        "access-control-expose-headers":
          "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset",
      });
      const id = identity(req);
      const limit = limitFor(req);
      if (reply.note === "count" && !(auth && reply.status === 304)) {
        limiter.spend(id, limit, world.now());
        if (auth) rt.stats.billGithub();
      }
      const s = limiter.state(id, limit, world.now());
      Object.assign(reply.headers, {
        "x-ratelimit-limit": String(s.limit),
        "x-ratelimit-remaining": String(s.remaining),
        "x-ratelimit-reset": String(s.reset),
        "x-ratelimit-used": String(Math.min(s.used, s.limit)),
        "x-ratelimit-resource": "core",
      });
    },
  };
}

function requestId(n: number): string {
  const h = createHash("sha1").update(`req${n}`).digest("hex").toUpperCase();
  return `${h.slice(0, 4)}:${h.slice(4, 10)}:${h.slice(10, 16)}:${h.slice(16, 22)}:${(0x67000000 + n).toString(16).toUpperCase()}`;
}
