import { nodeId, type GitCommit, type Release, type ReleaseAsset, type Repo } from "../model-github.ts";
import type { Reply, SimRequest } from "../server.ts";
import type { SimUrls } from "../services.ts";
import { isoSeconds } from "../time.ts";

/** JSON shapes of the GitHub REST API (OpenAPI `release`, `release-asset`, `git-ref`, `tag`, `content-file`). */

function user(
  urls: SimUrls,
  login: string,
  id: number,
  type: "User" | "Bot" | "Organization",
): Record<string, unknown> {
  const api = `${urls.githubApi}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: nodeId(type === "Bot" ? "BOT" : "U", id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: type === "Bot" ? `${urls.githubWeb}/apps/${login.replace(/\[bot\]$/, "")}` : `${urls.githubWeb}/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type,
    user_view_type: "public",
    site_admin: false,
  };
}

/** Releases in the plasmite pipeline are created by the workflow token. */
export function actionsBot(urls: SimUrls): Record<string, unknown> {
  return user(urls, "github-actions[bot]", 41898282, "Bot");
}

export function ownerUser(urls: SimUrls, repo: Repo): Record<string, unknown> {
  return user(urls, repo.owner, repo.ownerId, "User");
}

/** The account behind any accepted token (what `GET /user` describes), as it appears on issues and comments. */
export function simUser(urls: SimUrls): Record<string, unknown> {
  return user(urls, "sim-user", 1_000_001, "User");
}

export function authenticatedUser(urls: SimUrls): Record<string, unknown> {
  return {
    ...user(urls, "sim-user", 1_000_001, "User"),
    name: "Simulated User",
    company: null,
    blog: "",
    location: null,
    email: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 2,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z",
  };
}

export function repoApi(urls: SimUrls, repo: Repo): string {
  return `${urls.githubApi}/repos/${repo.owner}/${repo.name}`;
}

function seg(value: string): string {
  return value.split("/").map(encodeURIComponent).join("/");
}

export function browserDownloadUrl(urls: SimUrls, repo: Repo, release: Release, asset: ReleaseAsset): string {
  const tag = release.draft ? `untagged-${release.nodeId.slice(-10)}` : release.tagName;
  return `${urls.githubWeb}/${repo.owner}/${repo.name}/releases/download/${seg(tag)}/${encodeURIComponent(asset.name)}`;
}

export function renderAsset(urls: SimUrls, repo: Repo, release: Release, asset: ReleaseAsset): Record<string, unknown> {
  return {
    url: `${repoApi(urls, repo)}/releases/assets/${asset.id}`,
    id: asset.id,
    node_id: asset.nodeId,
    name: asset.name,
    label: asset.label,
    uploader: actionsBot(urls),
    content_type: asset.contentType,
    state: asset.state,
    size: asset.content.size,
    digest: asset.digest,
    download_count: asset.downloadCount,
    created_at: isoSeconds(asset.createdAt),
    updated_at: isoSeconds(asset.updatedAt),
    browser_download_url: browserDownloadUrl(urls, repo, release, asset),
  };
}

export function renderRelease(urls: SimUrls, repo: Repo, release: Release): Record<string, unknown> {
  const api = repoApi(urls, repo);
  const tagPath = release.draft ? `untagged-${release.nodeId.slice(-10)}` : seg(release.tagName);
  return {
    url: `${api}/releases/${release.id}`,
    assets_url: `${api}/releases/${release.id}/assets`,
    upload_url: `${urls.githubApi}/uploads/repos/${repo.owner}/${repo.name}/releases/${release.id}/assets{?name,label}`,
    html_url: `${urls.githubWeb}/${repo.owner}/${repo.name}/releases/tag/${tagPath}`,
    id: release.id,
    author: actionsBot(urls),
    node_id: release.nodeId,
    tag_name: release.tagName,
    target_commitish: release.targetCommitish,
    name: release.name,
    draft: release.draft,
    immutable: release.immutable,
    prerelease: release.prerelease,
    created_at: isoSeconds(release.createdAt),
    updated_at: isoSeconds(release.updatedAt),
    published_at: release.publishedAt === null ? null : isoSeconds(release.publishedAt),
    assets: release.assets.map((a) => renderAsset(urls, repo, release, a)),
    tarball_url: release.draft ? null : `${api}/tarball/${seg(release.tagName)}`,
    zipball_url: release.draft ? null : `${api}/zipball/${seg(release.tagName)}`,
    body: release.body,
  };
}

export function renderRepo(urls: SimUrls, repo: Repo): Record<string, unknown> {
  const api = repoApi(urls, repo);
  const head = repo.head();
  return {
    id: repo.id,
    node_id: nodeId("R", repo.id),
    name: repo.name,
    full_name: repo.slug,
    private: false,
    owner: ownerUser(urls, repo),
    html_url: `${urls.githubWeb}/${repo.slug}`,
    description: null,
    fork: false,
    url: api,
    releases_url: `${api}/releases{/id}`,
    tags_url: `${api}/tags`,
    contents_url: `${api}/contents/{+path}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    created_at: isoSeconds(repo.createdAt),
    updated_at: isoSeconds(head?.at ?? repo.createdAt),
    pushed_at: isoSeconds(head?.at ?? repo.createdAt),
    homepage: null,
    size: 1024,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: true,
    archived: false,
    disabled: false,
    visibility: "public",
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: repo.defaultBranch,
  };
}

export function renderCommit(urls: SimUrls, repo: Repo, commit: GitCommit): Record<string, unknown> {
  const api = repoApi(urls, repo);
  const who = {
    name: "github-actions[bot]",
    email: "41898282+github-actions[bot]@users.noreply.github.com",
    date: isoSeconds(commit.at),
  };
  return {
    sha: commit.sha,
    node_id: nodeId("C", commit.sha),
    url: `${api}/git/commits/${commit.sha}`,
    html_url: `${urls.githubWeb}/${repo.slug}/commit/${commit.sha}`,
    author: who,
    committer: who,
    tree: {
      sha: commit.sha.split("").reverse().join(""),
      url: `${api}/git/trees/${commit.sha.split("").reverse().join("")}`,
    },
    message: commit.message,
    parents: commit.parent
      ? [
          {
            sha: commit.parent,
            url: `${api}/git/commits/${commit.parent}`,
            html_url: `${urls.githubWeb}/${repo.slug}/commit/${commit.parent}`,
          },
        ]
      : [],
    verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
  };
}

/** RFC 5988 Link header with `/repositories/<id>/…` URLs, as GitHub sends them. */
export function paginate<T>(
  req: SimRequest,
  urls: SimUrls,
  repo: Repo,
  suffix: string,
  items: T[],
): { page: T[]; link: string | null } {
  const perPage = Math.min(100, Math.max(1, Number.parseInt(req.query.get("per_page") ?? "30", 10) || 30));
  const page = Math.max(1, Number.parseInt(req.query.get("page") ?? "1", 10) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (last === 1) return { page: slice, link: null };
  const href = (n: number): string => {
    const q = new URLSearchParams(req.query);
    q.set("page", String(n));
    return `<${urls.githubApi}/repositories/${repo.id}/${suffix}?${q.toString()}>`;
  };
  const parts: string[] = [];
  if (page > 1) parts.push(`${href(page - 1)}; rel="prev"`);
  if (page < last) parts.push(`${href(page + 1)}; rel="next"`, `${href(last)}; rel="last"`);
  if (page > 1) parts.push(`${href(1)}; rel="first"`);
  return { page: slice, link: parts.join(", ") };
}

export function withLink(reply: Reply, link: string | null): Reply {
  if (link) reply.headers["link"] = link;
  return reply;
}
