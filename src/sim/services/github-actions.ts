import { createHmac } from "node:crypto";
import type {
  ActionsStore,
  ArtifactRecord,
  JobRecord,
  RunFilter,
  WorkflowRecord,
  WorkflowRunRecord,
} from "../model-actions.ts";
import { nodeId, type Repo } from "../model-github.ts";
import { json, redirect, text, type Reply, type SimRequest } from "../server.ts";
import type { SimUrls } from "../services.ts";
import { httpDate, isoSeconds } from "../time.ts";
import type { World } from "../world.ts";
import type { SimCratesProvenance } from "../provenance/served.ts";
import { repoApi } from "./github-render.ts";

/**
 * GitHub Actions REST endpoints of the simulated GitHub API (registry-contracts.md §1.6 "Actions"; shapes from
 * openapi-examples/workflow*.json, artifact*.json, job-paginated.json and the PyGithub Workflow/WorkflowRun/Artifact
 * replays), mounted under `/repos/{owner}/{repo}/actions/…` by github-api.ts, plus:
 * - `POST /_sim/push {repo, tag, sha}` on the API host: the control endpoint a bare repository's post-receive hook
 *   calls when a tag arrives (see model-actions.ts);
 * - `/actions-results/<uuid>/<name>.zip?se=…&sig=…` on the download host: the signed artifact blob behind the
 *   302 of `GET …/actions/artifacts/{id}/zip`.
 */

const DOCS = "https://docs.github.com/rest";
const URL_TTL_MS = 60_000;

function notFound(doc: string): Reply {
  return json(404, { message: "Not Found", documentation_url: `${DOCS}/${doc}`, status: "404" });
}

function unprocessable(message: string, doc: string): Reply {
  return json(422, { message, documentation_url: `${DOCS}/${doc}`, status: "422" });
}

function requiresAuth(doc: string): Reply {
  return json(401, { message: "Requires authentication", documentation_url: `${DOCS}/${doc}`, status: "401" });
}

const ACTOR = (urls: SimUrls) => ({
  login: "sim-user",
  id: 1_000_001,
  node_id: "MDQ6VXNlcjEwMDAwMDE=",
  type: "User",
  site_admin: false,
  url: `${urls.githubApi}/users/sim-user`,
  html_url: `${urls.githubWeb}/sim-user`,
});

function renderWorkflow(urls: SimUrls, repo: Repo, wf: WorkflowRecord): Record<string, unknown> {
  const api = repoApi(urls, repo);
  return {
    id: wf.id,
    node_id: nodeId("W", wf.id),
    name: wf.name,
    path: wf.path,
    state: wf.state,
    created_at: isoSeconds(wf.createdAt),
    updated_at: isoSeconds(wf.updatedAt),
    url: `${api}/actions/workflows/${wf.id}`,
    html_url: `${urls.githubWeb}/${repo.slug}/blob/${repo.defaultBranch}/${wf.path}`,
    badge_url: `${urls.githubWeb}/${repo.slug}/workflows/${encodeURIComponent(wf.name)}/badge.svg`,
  };
}

function runHtml(urls: SimUrls, repo: Repo, id: number): string {
  return `${urls.githubWeb}/${repo.slug}/actions/runs/${id}`;
}

/** A completed publish run in GitHub's shape, for the run behind a crate's `trustpub_data.run_id`. */
function renderTrustpubRun(
  urls: SimUrls,
  repo: Repo,
  id: number,
  version: string,
  crates: SimCratesProvenance,
): Record<string, unknown> {
  const api = repoApi(urls, repo);
  const at = isoSeconds(Date.UTC(2026, 0, 1));
  return {
    id,
    name: crates.runWorkflow.replace(/^.*\//, "").replace(/\.ya?ml$/, ""),
    node_id: nodeId("WFR", id),
    head_branch: "main",
    head_sha: crates.runSha,
    path: crates.runWorkflow,
    display_title: `publish ${version}`,
    run_number: 1,
    event: "workflow_dispatch",
    status: "completed",
    conclusion: "success",
    url: `${api}/actions/runs/${id}`,
    html_url: runHtml(urls, repo, id),
    created_at: at,
    updated_at: at,
    run_attempt: 1,
  };
}

function renderRun(store: ActionsStore, urls: SimUrls, repo: Repo, run: WorkflowRunRecord): Record<string, unknown> {
  const api = repoApi(urls, repo);
  const status = store.status(run);
  const updated = status === "completed" ? run.completesAt : status === "in_progress" ? run.startsAt : run.createdAt;
  return {
    id: run.id,
    name: run.workflow.name,
    node_id: nodeId("WFR", run.id),
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: run.workflow.path,
    display_title: run.displayTitle,
    run_number: run.runNumber,
    event: run.event,
    status,
    conclusion: status === "completed" ? run.conclusion : null,
    workflow_id: run.workflow.id,
    check_suite_id: run.id + 7,
    url: `${api}/actions/runs/${run.id}`,
    html_url: runHtml(urls, repo, run.id),
    pull_requests: [],
    created_at: isoSeconds(run.createdAt),
    updated_at: isoSeconds(updated),
    actor: ACTOR(urls),
    triggering_actor: ACTOR(urls),
    run_attempt: 1,
    run_started_at: isoSeconds(run.startsAt),
    jobs_url: `${api}/actions/runs/${run.id}/jobs`,
    logs_url: `${api}/actions/runs/${run.id}/logs`,
    artifacts_url: `${api}/actions/runs/${run.id}/artifacts`,
    cancel_url: `${api}/actions/runs/${run.id}/cancel`,
    rerun_url: `${api}/actions/runs/${run.id}/rerun`,
    workflow_url: `${api}/actions/workflows/${run.workflow.id}`,
    head_commit: { id: run.headSha, tree_id: run.headSha, message: run.displayTitle },
    repository: { id: repo.id, name: repo.name, full_name: repo.slug },
    head_repository: { id: repo.id, name: repo.name, full_name: repo.slug },
  };
}

function renderJob(
  store: ActionsStore,
  urls: SimUrls,
  repo: Repo,
  run: WorkflowRunRecord,
  job: JobRecord,
): Record<string, unknown> {
  const api = repoApi(urls, repo);
  const status = store.status(run);
  const done = status === "completed";
  const skipped = done && (job.conclusion === "skipped" || job.conclusion === "cancelled");
  const started = isoSeconds(run.startsAt);
  return {
    id: job.id,
    run_id: run.id,
    workflow_name: run.workflow.name,
    head_branch: run.headBranch,
    run_url: `${api}/actions/runs/${run.id}`,
    run_attempt: 1,
    node_id: nodeId("CR", job.id),
    head_sha: run.headSha,
    url: `${api}/actions/jobs/${job.id}`,
    html_url: `${runHtml(urls, repo, run.id)}/job/${job.id}`,
    status,
    conclusion: done ? job.conclusion : null,
    created_at: isoSeconds(run.createdAt),
    started_at: status === "queued" ? isoSeconds(run.createdAt) : started,
    completed_at: done ? isoSeconds(skipped ? run.startsAt : run.completesAt) : null,
    name: job.name,
    steps:
      status === "queued"
        ? []
        : job.steps.map((name, i) => ({
            name,
            status: done ? "completed" : i === 0 ? "in_progress" : "queued",
            conclusion: done ? (job.stepConclusions[i] ?? null) : null,
            number: i + 1,
            started_at: done || i === 0 ? started : null,
            completed_at: done ? isoSeconds(run.completesAt) : null,
          })),
    check_run_url: `${api}/check-runs/${job.id}`,
    labels: ["ubuntu-latest"],
    runner_id: done && !skipped ? 1 : null,
    runner_name: done && !skipped ? "GitHub Actions 1" : null,
    runner_group_id: done && !skipped ? 2 : null,
    runner_group_name: done && !skipped ? "GitHub Actions" : null,
  };
}

function renderArtifact(urls: SimUrls, repo: Repo, run: WorkflowRunRecord, a: ArtifactRecord): Record<string, unknown> {
  const api = repoApi(urls, repo);
  return {
    id: a.id,
    node_id: nodeId("MDg6QXJ0aWZhY3Q", a.id),
    name: a.name,
    size_in_bytes: a.zip.length,
    url: `${api}/actions/artifacts/${a.id}`,
    archive_download_url: `${api}/actions/artifacts/${a.id}/zip`,
    expired: false,
    created_at: isoSeconds(a.createdAt),
    expires_at: isoSeconds(a.expiresAt),
    updated_at: isoSeconds(a.createdAt),
    digest: a.digest,
    workflow_run: {
      id: run.id,
      repository_id: repo.id,
      head_repository_id: repo.id,
      head_branch: run.headBranch,
      head_sha: run.headSha,
    },
  };
}

/** `per_page`/`page` with a GitHub-style Link header over `/repositories/<id>/…`. */
function page<T>(
  req: SimRequest,
  urls: SimUrls,
  repo: Repo,
  suffix: string,
  items: T[],
): { items: T[]; link: string | null } {
  const perPage = Math.min(100, Math.max(1, Number.parseInt(req.query.get("per_page") ?? "30", 10) || 30));
  const n = Math.max(1, Number.parseInt(req.query.get("page") ?? "1", 10) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((n - 1) * perPage, n * perPage);
  if (last === 1) return { items: slice, link: null };
  const href = (p: number): string => {
    const q = new URLSearchParams(req.query);
    q.set("page", String(p));
    return `<${urls.githubApi}/repositories/${repo.id}/${suffix}?${q.toString()}>`;
  };
  const parts: string[] = [];
  if (n > 1) parts.push(`${href(n - 1)}; rel="prev"`);
  if (n < last) parts.push(`${href(n + 1)}; rel="next"`, `${href(last)}; rel="last"`);
  if (n > 1) parts.push(`${href(1)}; rel="first"`);
  return { items: slice, link: parts.join(", ") };
}

function withLink(reply: Reply, link: string | null): Reply {
  if (link) reply.headers["link"] = link;
  return reply;
}

/**
 * The `created` filter in GitHub search syntax: `>=T`, `>T`, `<=T`, `<T`, `A..B` (`*` open), or a date/time.
 * A bare date covers that whole UTC day. Returns null when unparsable.
 */
export function parseCreatedFilter(q: string): ((ms: number) => boolean) | null {
  const at = (s: string, end: boolean): number | null => {
    if (s === "*") return end ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(s);
    const ms = Date.parse(dateOnly ? `${s}T00:00:00Z` : s);
    if (Number.isNaN(ms)) return null;
    return dateOnly && end ? ms + 86_400_000 - 1 : ms;
  };
  const m = /^(>=|<=|>|<)(.+)$/.exec(q);
  if (m) {
    const [, op, value = ""] = m;
    const t = at(value, op === "<=" || op === ">");
    if (t === null) return null;
    if (op === ">=") return (ms) => ms >= t;
    if (op === ">") return (ms) => ms > t;
    if (op === "<=") return (ms) => ms <= t;
    return (ms) => ms < t;
  }
  if (q.includes("..")) {
    const [a = "", b = ""] = q.split("..");
    const from = at(a, false);
    const to = at(b, true);
    if (from === null || to === null) return null;
    return (ms) => ms >= from && ms <= to;
  }
  const from = at(q, false);
  const to = at(q, true);
  if (from === null || to === null) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(q)
    ? (ms) => ms >= from && ms <= to
    : (ms) => Math.floor(ms / 1000) === Math.floor(from / 1000);
}

function runFilter(req: SimRequest): RunFilter | string {
  const f: RunFilter = {};
  const q = req.query;
  const event = q.get("event");
  const branch = q.get("branch");
  const status = q.get("status");
  const headSha = q.get("head_sha");
  const created = q.get("created");
  if (event) f.event = event;
  if (branch) f.branch = branch;
  if (status) f.status = status;
  if (headSha) f.headSha = headSha.toLowerCase();
  if (created) {
    const m = parseCreatedFilter(created);
    if (!m) return `Invalid value for created: ${created}`;
    f.created = m;
  }
  return f;
}

function runsReply(req: SimRequest, world: World, repo: Repo, filter: RunFilter, suffix: string): Reply {
  const runs = world.actions.runs(repo.slug, filter);
  const { items, link } = page(req, world.urls, repo, suffix, runs);
  return withLink(
    json(200, {
      total_count: runs.length,
      workflow_runs: items.map((r) => renderRun(world.actions, world.urls, repo, r)),
    }),
    link,
  );
}

function parseBody(req: SimRequest): Record<string, unknown> | null {
  try {
    const v = JSON.parse(req.body.toString("utf8")) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `POST` is only allowed on the dispatch route (the caller answers 404 for other methods). */
export function isActionsWrite(req: SimRequest): boolean {
  const s = req.segments;
  return (
    req.method === "POST" &&
    s[0] === "repos" &&
    s[3] === "actions" &&
    s[4] === "workflows" &&
    s[6] === "dispatches" &&
    s.length === 7
  );
}

/** `/repos/{owner}/{repo}/actions/<rest>`. */
export function actionsRoute(req: SimRequest, repo: Repo, rest: string[], world: World): Reply {
  const store = world.actions;
  const urls = world.urls;
  store.tick();
  const [a, b, c] = rest;
  const get = req.method === "GET" || req.method === "HEAD";

  if (a === "workflows") {
    if (rest.length === 1 && get) {
      const all = store.workflows(repo.slug);
      const { items, link } = page(req, urls, repo, "actions/workflows", all);
      return withLink(
        json(200, { total_count: all.length, workflows: items.map((w) => renderWorkflow(urls, repo, w)) }),
        link,
      );
    }
    const wf = b === undefined ? null : store.workflow(repo.slug, b);
    if (rest.length === 2 && get) {
      return wf ? json(200, renderWorkflow(urls, repo, wf)) : notFound("actions/workflows#get-a-workflow");
    }
    if (c === "runs" && rest.length === 3 && get) {
      if (!wf) return notFound("actions/workflow-runs#list-workflow-runs-for-a-workflow");
      const filter = runFilter(req);
      if (typeof filter === "string")
        return unprocessable(filter, "actions/workflow-runs#list-workflow-runs-for-a-workflow");
      return runsReply(req, world, repo, { ...filter, workflowId: wf.id }, `actions/workflows/${wf.id}/runs`);
    }
    if (c === "dispatches" && rest.length === 3 && req.method === "POST") {
      const doc = "actions/workflows#create-a-workflow-dispatch-event";
      if (!req.authenticated) return requiresAuth(doc);
      const body = parseBody(req);
      if (!body || typeof body["ref"] !== "string" || body["ref"] === "") {
        return unprocessable('Invalid request.\n\n"ref" wasn\'t supplied.', doc);
      }
      const inputs = body["inputs"] ?? {};
      if (typeof inputs !== "object" || inputs === null || Array.isArray(inputs)) {
        return unprocessable("Invalid request.\n\nFor 'properties/inputs', is not an object.", doc);
      }
      const result = store.dispatch(repo.slug, b ?? "", body["ref"], inputs as Record<string, unknown>);
      if (!result.ok) {
        return result.status === 404 ? notFound(result.doc) : unprocessable(result.message, result.doc);
      }
      if (body["return_run_details"] === true && store.honorReturnRunDetails) {
        return json(200, {
          workflow_run_id: result.run.id,
          run_url: `${repoApi(urls, repo)}/actions/runs/${result.run.id}`,
          html_url: runHtml(urls, repo, result.run.id),
        });
      }
      return { status: 204, headers: {}, body: null };
    }
    return notFound("actions/workflows");
  }

  if (a === "runs" && get) {
    if (rest.length === 1) {
      const filter = runFilter(req);
      if (typeof filter === "string")
        return unprocessable(filter, "actions/workflow-runs#list-workflow-runs-for-a-repository");
      return runsReply(req, world, repo, filter, "actions/runs");
    }
    const run = b !== undefined && /^\d+$/.test(b) ? store.run(repo.slug, Number(b)) : null;
    if (!run && rest.length === 2 && b !== undefined && /^\d+$/.test(b)) {
      // The run a crates.io trusted publish names in trustpub_data.run_id (not scripted in the Actions store).
      const tp = world.trustpubRun(repo.slug, Number(b));
      if (tp) return json(200, renderTrustpubRun(urls, repo, Number(b), tp.version, tp.crates));
    }
    if (!run) return notFound("actions/workflow-runs#get-a-workflow-run");
    if (rest.length === 2) return json(200, renderRun(store, urls, repo, run));
    if (c === "jobs" && rest.length === 3) {
      const { items, link } = page(req, urls, repo, `actions/runs/${run.id}/jobs`, run.jobs);
      return withLink(
        json(200, { total_count: run.jobs.length, jobs: items.map((j) => renderJob(store, urls, repo, run, j)) }),
        link,
      );
    }
    if (c === "artifacts" && rest.length === 3) {
      const name = req.query.get("name");
      const list = run.artifacts.filter((x) => !name || x.name === name);
      const { items, link } = page(req, urls, repo, `actions/runs/${run.id}/artifacts`, list);
      return withLink(
        json(200, { total_count: list.length, artifacts: items.map((x) => renderArtifact(urls, repo, run, x)) }),
        link,
      );
    }
    return notFound("actions/workflow-runs");
  }

  if (a === "jobs" && b !== undefined && /^\d+$/.test(b) && rest.length === 2 && get) {
    for (const run of store.runs(repo.slug)) {
      const job = run.jobs.find((j) => j.id === Number(b));
      if (job) return json(200, renderJob(store, urls, repo, run, job));
    }
    return notFound("actions/workflow-jobs#get-a-job-for-a-workflow-run");
  }

  if (a === "artifacts" && get) {
    if (rest.length === 1) {
      const name = req.query.get("name");
      const all = store
        .runs(repo.slug)
        .flatMap((r) => r.artifacts.map((x) => ({ r, x })))
        .filter(({ x }) => !name || x.name === name);
      const { items, link } = page(req, urls, repo, "actions/artifacts", all);
      return withLink(
        json(200, { total_count: all.length, artifacts: items.map(({ r, x }) => renderArtifact(urls, repo, r, x)) }),
        link,
      );
    }
    const artifact = b !== undefined && /^\d+$/.test(b) ? store.artifact(repo.slug, Number(b)) : null;
    if (!artifact) return notFound("actions/artifacts#get-an-artifact");
    const run = store.run(repo.slug, artifact.runId);
    if (!run) return notFound("actions/artifacts#get-an-artifact");
    if (rest.length === 2) return json(200, renderArtifact(urls, repo, run, artifact));
    if (c === "zip" && rest.length === 3) {
      if (!req.authenticated) return requiresAuth("actions/artifacts#download-an-artifact");
      return redirect(302, signedArtifactUrl(world, artifact), { "content-type": "text/html;charset=utf-8" });
    }
    return notFound("actions/artifacts");
  }

  if (a === "secrets" && rest.length === 1 && get) {
    if (!req.authenticated) return requiresAuth("actions/secrets#list-repository-secrets");
    const all = store.secrets(repo.slug);
    const { items, link } = page(req, urls, repo, "actions/secrets", all);
    return withLink(
      json(200, {
        total_count: all.length,
        secrets: items.map((s) => ({
          name: s.name,
          created_at: isoSeconds(s.createdAt),
          updated_at: isoSeconds(s.updatedAt),
        })),
      }),
      link,
    );
  }

  return notFound("actions");
}

/** `POST /_sim/push {repo, tag, sha}` (or `ref: "refs/tags/<tag>"`): a tag arrived on `repo`. */
export function simControlRoute(req: SimRequest, world: World): Reply {
  if (req.segments[1] !== "push" || req.segments.length !== 2 || req.method !== "POST") {
    return json(404, { message: "unknown sim control endpoint" });
  }
  const body = parseBody(req);
  const repo = body?.["repo"];
  const sha = body?.["sha"];
  const ref = body?.["ref"];
  const tag = body?.["tag"] ?? (typeof ref === "string" && ref.startsWith("refs/tags/") ? ref.slice(10) : undefined);
  if (
    typeof repo !== "string" ||
    !/^[^/\s]+\/[^/\s]+$/.test(repo) ||
    typeof tag !== "string" ||
    tag === "" ||
    typeof sha !== "string" ||
    !/^[0-9a-f]{40}$/i.test(sha)
  ) {
    return json(400, { message: 'expected {"repo":"owner/name","tag":"v1.2.3","sha":"<40 hex>"}' });
  }
  const runs = world.actions.onTagPushed(repo, tag, sha.toLowerCase());
  return json(201, {
    repo,
    tag,
    sha: sha.toLowerCase(),
    runs: runs.map((r) => ({ id: r.id, workflow: r.workflow.file })),
  });
}

function signature(world: World, uuid: string, expiry: string): string {
  return createHmac("sha256", `release-monitor-sim-actions-results\0${world.seed}`)
    .update(`${uuid}\n${expiry}`)
    .digest("base64");
}

/** Short-lived signed blob URL on the download host, like the real `productionresultssa*.blob.core.windows.net` one. */
export function signedArtifactUrl(world: World, a: ArtifactRecord): string {
  const se = isoSeconds(world.now() + URL_TTL_MS);
  const q = new URLSearchParams({
    sp: "r",
    sv: "2021-12-02",
    sr: "b",
    se,
    rscd: `attachment; filename=${a.name}.zip`,
    sig: signature(world, a.uuid, se),
  });
  return `${world.urls.githubDownload}/actions-results/${a.uuid}/${encodeURIComponent(a.name)}.zip?${q.toString()}`;
}

/** The download host's answer for `/actions-results/<uuid>/<name>.zip`. */
export function actionsResultsDownload(req: SimRequest, world: World): Reply {
  const [, uuid] = req.segments;
  const blobError = (status: number, code: string, message: string): Reply =>
    text(
      status,
      `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
      "application/xml",
    );
  if (req.segments.length !== 3 || !uuid)
    return blobError(404, "ResourceNotFound", "The specified resource does not exist.");
  if (req.header("authorization") !== undefined) {
    return blobError(
      400,
      "InvalidAuthenticationInfo",
      "Authentication information is not given in the correct format.",
    );
  }
  const se = req.query.get("se") ?? "";
  if ((req.query.get("sig") ?? "") !== signature(world, uuid, se)) {
    return blobError(403, "AuthenticationFailed", "Server failed to authenticate the request.");
  }
  const expiry = Date.parse(se);
  if (Number.isNaN(expiry) || world.now() > expiry)
    return blobError(403, "AuthenticationFailed", `Signed expiry time [${se}] has passed.`);
  const artifact = world.actions.artifactByUuid(uuid);
  if (!artifact) return blobError(404, "BlobNotFound", "The specified blob does not exist.");
  return {
    status: 200,
    headers: {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename=${artifact.name}.zip`,
      "last-modified": httpDate(artifact.createdAt),
      "x-ms-blob-type": "BlockBlob",
    },
    body: artifact.zip,
  };
}
