import { nodeId, type Issue, type IssueComment, type IssueLabel, type Repo } from "../model-github.ts";
import { json, type Reply, type SimRequest } from "../server.ts";
import type { SimUrls } from "../services.ts";
import { isoSeconds } from "../time.ts";
import type { World } from "../world.ts";
import { paginate, repoApi, simUser, withLink } from "./github-render.ts";

/**
 * The issues endpoints of the simulated GitHub API, the ones the github-issue sink uses, shaped like the real REST
 * API (OpenAPI `issue`, `issue-comment`; docs.github.com/rest/issues):
 *
 *   GET   /repos/{o}/{r}/issues?labels=&state=&sort=&direction=&per_page=&page=   list (Link pagination)
 *   POST  /repos/{o}/{r}/issues                       create: 201 + Location; needs a token (401 otherwise)
 *   GET   /repos/{o}/{r}/issues/{n}                   one issue
 *   PATCH /repos/{o}/{r}/issues/{n}                   title, body, state, state_reason, labels
 *   GET   /repos/{o}/{r}/issues/{n}/comments          list, oldest first (Link pagination)
 *   POST  /repos/{o}/{r}/issues/{n}/comments          create: 201 + Location
 *
 * Validation failures answer 422 with GitHub's two body forms (schema: `Invalid request.\n\n"x" wasn't supplied.`;
 * model: `Validation Failed` with `errors[]`), a body that is not JSON answers 400 `Problems parsing JSON`.
 */

const DOCS = "https://docs.github.com/rest/issues";
const TITLE_MAX = 256;
/** GitHub refuses issue and comment bodies longer than this. */
export const ISSUE_BODY_MAX = 65_536;

function notFound(doc: string): Reply {
  return json(404, { message: "Not Found", documentation_url: `${DOCS}/${doc}`, status: "404" });
}

function requiresAuth(doc: string): Reply {
  return json(401, { message: "Requires authentication", documentation_url: `${DOCS}/${doc}`, status: "401" });
}

function invalidRequest(message: string, doc: string): Reply {
  return json(422, { message: `Invalid request.\n\n${message}`, documentation_url: `${DOCS}/${doc}`, status: "422" });
}

function validationFailed(error: Record<string, unknown>, doc: string): Reply {
  return json(422, {
    message: "Validation Failed",
    errors: [{ resource: "Issue", ...error }],
    documentation_url: `${DOCS}/${doc}`,
    status: "422",
  });
}

type Parsed = { ok: true; value: Record<string, unknown> } | { ok: false; reply: Reply };

function parseBody(req: SimRequest, doc: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString("utf8"));
  } catch {
    return {
      ok: false,
      reply: json(400, { message: "Problems parsing JSON", documentation_url: `${DOCS}/${doc}`, status: "400" }),
    };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, reply: invalidRequest("Invalid input: object is expected.", doc) };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Writes the router lets through (everything else that is not GET/HEAD is 404). */
export function isIssuesWrite(req: SimRequest): boolean {
  const s = req.segments;
  const base = s[0] === "repos" ? 3 : s[0] === "repositories" ? 2 : -1;
  if (base < 0 || s[base] !== "issues") return false;
  const tail = s.slice(base + 1);
  if (req.method === "POST") return tail.length === 0 || (tail.length === 2 && tail[1] === "comments");
  return req.method === "PATCH" && tail.length === 1;
}

function renderLabel(urls: SimUrls, repo: Repo, l: IssueLabel): Record<string, unknown> {
  return {
    id: l.id,
    node_id: nodeId("LA", l.id),
    url: `${repoApi(urls, repo)}/labels/${encodeURIComponent(l.name)}`,
    name: l.name,
    color: l.color,
    default: false,
    description: null,
  };
}

export function renderIssue(urls: SimUrls, repo: Repo, i: Issue): Record<string, unknown> {
  const api = `${repoApi(urls, repo)}/issues/${i.number}`;
  return {
    url: api,
    repository_url: repoApi(urls, repo),
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: `${urls.githubWeb}/${repo.slug}/issues/${i.number}`,
    id: i.id,
    node_id: nodeId("I", i.id),
    number: i.number,
    title: i.title,
    user: simUser(urls),
    labels: i.labels.map((l) => renderLabel(urls, repo, l)),
    state: i.state,
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: i.comments.length,
    created_at: isoSeconds(i.createdAt),
    updated_at: isoSeconds(i.updatedAt),
    closed_at: i.closedAt === null ? null : isoSeconds(i.closedAt),
    author_association: "OWNER",
    type: null,
    active_lock_reason: null,
    body: i.body,
    closed_by: i.state === "closed" ? simUser(urls) : null,
    reactions: reactions(`${api}/reactions`),
    timeline_url: `${api}/timeline`,
    performed_via_github_app: null,
    state_reason: i.stateReason,
  };
}

function renderComment(urls: SimUrls, repo: Repo, i: Issue, c: IssueComment): Record<string, unknown> {
  const api = `${repoApi(urls, repo)}/issues/comments/${c.id}`;
  return {
    url: api,
    html_url: `${urls.githubWeb}/${repo.slug}/issues/${i.number}#issuecomment-${c.id}`,
    issue_url: `${repoApi(urls, repo)}/issues/${i.number}`,
    id: c.id,
    node_id: nodeId("IC", c.id),
    user: simUser(urls),
    created_at: isoSeconds(c.createdAt),
    updated_at: isoSeconds(c.updatedAt),
    author_association: "OWNER",
    body: c.body,
    reactions: reactions(`${api}/reactions`),
    performed_via_github_app: null,
  };
}

function reactions(url: string): Record<string, unknown> {
  return {
    url,
    total_count: 0,
    "+1": 0,
    "-1": 0,
    laugh: 0,
    hooray: 0,
    confused: 0,
    heart: 0,
    rocket: 0,
    eyes: 0,
  };
}

/** `labels` as GitHub takes it: names, or objects with a `name`. Null when malformed. */
function labelNames(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  const names: string[] = [];
  for (const v of value) {
    const name = typeof v === "string" ? v : v && typeof v === "object" ? (v as { name?: unknown }).name : undefined;
    if (typeof name !== "string" || name.trim() === "") return null;
    names.push(name.trim());
  }
  return names;
}

function labelsOf(repo: Repo, world: World, names: string[]): IssueLabel[] {
  const out = new Map<string, IssueLabel>();
  for (const n of names)
    out.set(
      n.toLowerCase(),
      repo.label(n, () => world.github.nextLabelId()),
    );
  return [...out.values()];
}

/** `/repos/{owner}/{repo}/issues/<rest>`. */
export function issuesRoute(req: SimRequest, repo: Repo, rest: string[], world: World): Reply {
  const [n, sub] = rest;
  if (rest.length === 0) return req.method === "POST" ? createIssue(req, repo, world) : listIssues(req, repo, world);
  const issue = n !== undefined && /^\d+$/.test(n) ? (repo.issues.get(Number(n)) ?? null) : null;
  if (rest.length === 1) {
    if (!issue) return notFound("issues#get-an-issue");
    return req.method === "PATCH" ? updateIssue(req, repo, issue, world) : ok(renderIssue(world.urls, repo, issue));
  }
  if (sub === "comments" && rest.length === 2) {
    if (!issue) return notFound("comments#list-issue-comments");
    return req.method === "POST" ? createComment(req, repo, issue, world) : listComments(req, repo, issue, world);
  }
  return notFound("issues");
}

/** GETs revalidate by ETag (a hash of the body), as GitHub's do. */
function ok(value: unknown): Reply {
  const reply = json(200, value);
  reply.cache = {};
  return reply;
}

function listIssues(req: SimRequest, repo: Repo, world: World): Reply {
  const doc = "issues#list-repository-issues";
  const state = req.query.get("state") ?? "open";
  if (state !== "open" && state !== "closed" && state !== "all") {
    return validationFailed({ field: "state", code: "invalid", value: state }, doc);
  }
  const wanted = (req.query.get("labels") ?? "")
    .split(",")
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l !== "");
  const sort = req.query.get("sort") ?? "created";
  const asc = req.query.get("direction") === "asc";
  const list = [...repo.issues.values()]
    .filter((i) => state === "all" || i.state === state)
    .filter((i) => wanted.every((w) => i.labels.some((l) => l.name.toLowerCase() === w)))
    .sort((a, b) => {
      const key = (i: Issue) =>
        sort === "updated" ? i.updatedAt : sort === "comments" ? i.comments.length : i.createdAt;
      const d = key(a) - key(b) || a.number - b.number;
      return asc ? d : -d;
    });
  const { page, link } = paginate(req, world.urls, repo, "issues", list);
  return withLink(ok(page.map((i) => renderIssue(world.urls, repo, i))), link);
}

function createIssue(req: SimRequest, repo: Repo, world: World): Reply {
  const doc = "issues#create-an-issue";
  if (!req.authenticated) return requiresAuth(doc);
  const parsed = parseBody(req, doc);
  if (!parsed.ok) return parsed.reply;
  const b = parsed.value;
  if (b["title"] === undefined || b["title"] === null) return invalidRequest('"title" wasn\'t supplied.', doc);
  const title = typeof b["title"] === "number" ? String(b["title"]) : b["title"];
  if (typeof title !== "string") return invalidRequest("For 'properties/title', is not a string or integer.", doc);
  if (title.trim() === "") return validationFailed({ field: "title", code: "missing_field" }, doc);
  if (title.length > TITLE_MAX)
    return validationFailed(
      { field: "title", code: "custom", message: `title is too long (maximum is ${TITLE_MAX} characters)` },
      doc,
    );
  const body = b["body"] ?? null;
  if (body !== null && typeof body !== "string") return invalidRequest("For 'properties/body', is not a string.", doc);
  if (body !== null && body.length > ISSUE_BODY_MAX) return bodyTooLong(doc);
  const names = b["labels"] === undefined ? [] : labelNames(b["labels"]);
  if (names === null) return invalidRequest("For 'items', is not a string or object.", doc);
  const issue = repo.openIssue({
    id: world.github.nextIssueId(),
    title,
    body,
    labels: labelsOf(repo, world, names),
    at: world.now(),
  });
  const value = renderIssue(world.urls, repo, issue);
  return json(201, value, { location: String(value["url"]) });
}

function updateIssue(req: SimRequest, repo: Repo, issue: Issue, world: World): Reply {
  const doc = "issues#update-an-issue";
  if (!req.authenticated) return requiresAuth(doc);
  const parsed = parseBody(req, doc);
  if (!parsed.ok) return parsed.reply;
  const b = parsed.value;
  const next = { ...issue };
  if (b["title"] !== undefined && b["title"] !== null) {
    if (typeof b["title"] !== "string") return invalidRequest("For 'properties/title', is not a string.", doc);
    if (b["title"].trim() === "") return validationFailed({ field: "title", code: "missing_field" }, doc);
    if (b["title"].length > TITLE_MAX)
      return validationFailed(
        { field: "title", code: "custom", message: `title is too long (maximum is ${TITLE_MAX} characters)` },
        doc,
      );
    next.title = b["title"];
  }
  if (b["body"] !== undefined) {
    if (b["body"] !== null && typeof b["body"] !== "string")
      return invalidRequest("For 'properties/body', is not a string.", doc);
    if (typeof b["body"] === "string" && b["body"].length > ISSUE_BODY_MAX) return bodyTooLong(doc);
    next.body = b["body"];
  }
  if (b["labels"] !== undefined) {
    const names = labelNames(b["labels"]);
    if (names === null) return invalidRequest("For 'items', is not a string or object.", doc);
    next.labels = labelsOf(repo, world, names);
  }
  const reason = b["state_reason"];
  if (
    reason !== undefined &&
    reason !== null &&
    reason !== "completed" &&
    reason !== "not_planned" &&
    reason !== "reopened"
  )
    return invalidRequest(
      `For 'properties/state_reason', ${JSON.stringify(reason)} is not one of ["completed", "not_planned", "reopened", null].`,
      doc,
    );
  const now = world.now();
  if (b["state"] !== undefined) {
    const state = b["state"];
    if (state !== "open" && state !== "closed")
      return validationFailed({ field: "state", code: "invalid", value: state }, doc);
    if (state === "closed" && issue.state === "open") {
      next.closedAt = now;
      next.stateReason = reason === "not_planned" ? "not_planned" : "completed";
    } else if (state === "open" && issue.state === "closed") {
      next.closedAt = null;
      next.stateReason = "reopened";
    }
    next.state = state;
  }
  next.updatedAt = now;
  Object.assign(issue, next);
  return json(200, renderIssue(world.urls, repo, issue));
}

function listComments(req: SimRequest, repo: Repo, issue: Issue, world: World): Reply {
  const since = req.query.get("since");
  const from = since === null ? Number.NEGATIVE_INFINITY : Date.parse(since);
  if (Number.isNaN(from))
    return validationFailed({ field: "since", code: "invalid", value: since }, "comments#list-issue-comments");
  const list = issue.comments.filter((c) => c.updatedAt >= from);
  const { page, link } = paginate(req, world.urls, repo, `issues/${issue.number}/comments`, list);
  return withLink(ok(page.map((c) => renderComment(world.urls, repo, issue, c))), link);
}

function createComment(req: SimRequest, repo: Repo, issue: Issue, world: World): Reply {
  const doc = "comments#create-an-issue-comment";
  if (!req.authenticated) return requiresAuth(doc);
  const parsed = parseBody(req, doc);
  if (!parsed.ok) return parsed.reply;
  const body = parsed.value["body"];
  if (body === undefined || body === null) return invalidRequest('"body" wasn\'t supplied.', doc);
  if (typeof body !== "string") return invalidRequest("For 'properties/body', is not a string.", doc);
  if (body.trim() === "")
    return validationFailed({ resource: "IssueComment", field: "body", code: "missing_field" }, doc);
  if (body.length > ISSUE_BODY_MAX) return bodyTooLong(doc);
  const at = world.now();
  const comment: IssueComment = { id: world.github.nextCommentId(), body, createdAt: at, updatedAt: at };
  issue.comments.push(comment);
  issue.updatedAt = at;
  const value = renderComment(world.urls, repo, issue, comment);
  return json(201, value, { location: String(value["url"]) });
}

function bodyTooLong(doc: string): Reply {
  return validationFailed(
    { field: "body", code: "custom", message: `body is too long (maximum is ${ISSUE_BODY_MAX} characters)` },
    doc,
  );
}
