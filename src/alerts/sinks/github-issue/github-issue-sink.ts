import type { Octokit } from "@octokit/rest";
import { parseDuration } from "../../../config/duration.ts";
import { AppError } from "../../../errors.ts";
import type { SecretRegistry } from "../../../secrets.ts";
import { SinkError, type AlertMessage, type Sink, type SinkContext } from "../../types.ts";
import { defineSink } from "../define.ts";
import type { SinkCheckDeps, SinkDeps } from "../deps.ts";
import { markedKey } from "./body.ts";
import { planIssue, type CurrentIssue } from "./plan.ts";
import { GithubIssueSinkSchema, type GithubIssueSinkConfig } from "./schema.ts";

export type { GithubIssueSinkConfig } from "./schema.ts";

/** The token is settings.github.token / $GITHUB_TOKEN, registered as a secret by config/load.ts for everyone. */
export const githubIssueSink = defineSink({
  type: "github-issue",
  schema: GithubIssueSinkSchema,
  secrets: () => [],
  create: (c, deps) => createGithubIssueSink(c, deps),
  check: (c, deps, at) => githubIssueSinkIssues(c, deps, at),
});

/** Start-up check: without a token every call would answer 401 and every alert would wait forever. */
export function githubIssueSinkIssues(config: GithubIssueSinkConfig, deps: SinkCheckDeps, at: string): string[] {
  if (deps.githubToken) return [];
  const where = config.repo ?? "each project's repo";
  return [
    `${at} (type github-issue, name "${config.name}"): needs a GitHub token that can write issues on ${where} (issues:write); set settings.github.token or $GITHUB_TOKEN`,
  ];
}

/**
 * One GitHub issue per (project, tag) with drift, semantic-release's failure issue for releases: a checklist of
 * the release's incidents that is kept current, a comment on every change, closed when every item is checked,
 * reopened when drift returns (plan.ts decides; this file does the I/O).
 *
 * GitHub calls go through `deps.octokit`, the Octokit over the runtime's HTTP client that the probes use (same
 * agent, host limits, validator cache, redaction); its token is settings.github.token / $GITHUB_TOKEN, already a
 * registered secret, and Octokit's own logging is off. Errors carry the status and GitHub's message only.
 *
 * Finding the issue (no duplicates across restarts): the issue number remembered in sink memory, checked against
 * the body marker; otherwise every issue with the label (state all, oldest first, all pages) is scanned for the
 * marker `<!-- release-monitor:<project>@<tag> -->`. The body carries the checklist and the last message applied,
 * so a retried delivery compares against what GitHub shows and repeats nothing it can see:
 *   - create succeeded, answer lost: the retry finds the issue by label + marker and does nothing more;
 *   - body updated, comment failed: the retry sees the message already applied and adds the comment only if no
 *     comment carries the message's marker.
 * What can still repeat: an issue whose create reached GitHub but is not yet listed when the retry looks (GitHub's
 * lists can lag), and an issue whose label was removed by hand (the sink then files a new one).
 */
export function createGithubIssueSink(config: GithubIssueSinkConfig, deps: SinkDeps): Sink {
  if (deps.octokit === undefined) throw new Error("github-issue sink: no Octokit in the sink dependencies");
  const octokit: Octokit = deps.octokit;
  const projectRepos = deps.projectRepos ?? new Map<string, string>();
  const fail = errorMapper(config.name, deps.secrets);

  const repoFor = (project: string): { owner: string; repo: string } | null => {
    const slug = config.repo ?? projectRepos.get(project);
    const [owner, repo] = slug?.split("/") ?? [];
    return owner && repo ? { owner, repo } : null;
  };

  async function deliver(message: AlertMessage, ctx: SinkContext): Promise<void> {
    const { project, tag } = message.incident;
    if (project === "*") return;
    const where = repoFor(project);
    if (where === null) {
      ctx.log.warn({ project }, "github-issue sink: no repository for this project; alert skipped");
      return;
    }
    const gh = new IssueApi(octokit, where, ctx.signal, fail);
    const memoryKey = `issue:${where.owner}/${where.repo}:${project}@${tag}`;
    const current = await gh.find(project, tag, config.label, await ctx.memory.get(memoryKey));
    const plan = planIssue(current, message);
    const log = ctx.log.child({ repo: `${where.owner}/${where.repo}`, issue: current?.number ?? null });
    switch (plan.action) {
      case "none":
        log.debug({ reason: plan.reason }, "github issue unchanged");
        return;
      case "create": {
        const created = await gh.create(plan.title, plan.body, config.label);
        await ctx.memory.set(memoryKey, String(created.number));
        log.info({ issue: created.number, url: created.html_url }, "github issue created");
        return;
      }
      case "update": {
        const number = current!.number;
        await gh.update(number, plan.body, plan.state);
        if (plan.comment !== null) await gh.comment(number, plan.comment);
        await ctx.memory.set(memoryKey, String(number));
        log.info({ state: plan.state ?? current!.state, commented: plan.comment !== null }, "github issue updated");
        return;
      }
      case "comment": {
        const number = current!.number;
        const posted = await gh.commentUnlessPresent(number, plan.comment, plan.marker);
        log.info({ commented: posted }, "github issue comment ensured");
        return;
      }
    }
  }

  return {
    name: config.name,
    type: "github-issue",
    rendersRollups: true,
    minIntervalMs: parseDuration(config.min_interval) ?? 1000,
    deliver,
  };
}

type Fail = (what: string, err: unknown, where: { owner: string; repo: string }) => SinkError;

interface IssueData {
  number: number;
  body?: string | null | undefined;
  state: string;
  html_url: string;
  pull_request?: unknown;
}

/** The few issue calls the sink makes, each bounded by the delivery's signal and mapped to SinkErrors. */
class IssueApi {
  readonly #o: Octokit;
  readonly #where: { owner: string; repo: string };
  readonly #signal: AbortSignal;
  readonly #fail: Fail;

  constructor(o: Octokit, where: { owner: string; repo: string }, signal: AbortSignal, fail: Fail) {
    this.#o = o;
    this.#where = where;
    this.#signal = signal;
    this.#fail = fail;
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw this.#fail(what, err, this.#where);
    }
  }

  /** The remembered issue when it still carries the marker; else the oldest labelled issue that does. */
  async find(project: string, tag: string, label: string, remembered: string | null): Promise<CurrentIssue | null> {
    const mine = (i: IssueData) =>
      i.pull_request === undefined && sameKey(markedKey(i.body), project, tag) ? toCurrent(i) : null;
    if (remembered !== null && /^\d+$/.test(remembered)) {
      const got = await this.#call("get issue", async () => {
        try {
          const res = await this.#o.rest.issues.get({
            ...this.#where,
            issue_number: Number(remembered),
            request: { signal: this.#signal },
          });
          return res.data;
        } catch (err) {
          const status = (err as { status?: unknown }).status;
          if (status === 404 || status === 410 || status === 301) return null;
          throw err;
        }
      });
      const hit = got === null ? null : mine(got);
      if (hit) return hit;
    }
    return this.#call("list issues by label", async () => {
      const pages = this.#o.paginate.iterator(this.#o.rest.issues.listForRepo, {
        ...this.#where,
        labels: label,
        state: "all",
        sort: "created",
        direction: "asc",
        per_page: 100,
        request: { signal: this.#signal },
      });
      for await (const page of pages) {
        for (const issue of page.data as IssueData[]) {
          const hit = mine(issue);
          if (hit) return hit;
        }
      }
      return null;
    });
  }

  create(title: string, body: string, label: string): Promise<IssueData> {
    return this.#call("create issue", async () => {
      const res = await this.#o.rest.issues.create({
        ...this.#where,
        title,
        body,
        labels: [label],
        request: { signal: this.#signal },
      });
      return res.data;
    });
  }

  update(number: number, body: string, state: "open" | "closed" | null): Promise<void> {
    return this.#call("update issue", async () => {
      await this.#o.rest.issues.update({
        ...this.#where,
        issue_number: number,
        body,
        ...(state === null ? {} : { state, state_reason: state === "closed" ? "completed" : "reopened" }),
        request: { signal: this.#signal },
      });
    });
  }

  comment(number: number, body: string): Promise<void> {
    return this.#call("comment on issue", async () => {
      await this.#o.rest.issues.createComment({
        ...this.#where,
        issue_number: number,
        body,
        request: { signal: this.#signal },
      });
    });
  }

  /** Adds the comment unless one already carries `marker`; true when it posted. */
  async commentUnlessPresent(number: number, body: string, marker: string): Promise<boolean> {
    const present = await this.#call("list issue comments", async () => {
      const pages = this.#o.paginate.iterator(this.#o.rest.issues.listComments, {
        ...this.#where,
        issue_number: number,
        per_page: 100,
        request: { signal: this.#signal },
      });
      for await (const page of pages) {
        if (page.data.some((c) => (c.body ?? "").includes(marker))) return true;
      }
      return false;
    });
    if (present) return false;
    await this.comment(number, body);
    return true;
  }
}

function sameKey(k: { project: string; tag: string } | null, project: string, tag: string): boolean {
  return k !== null && k.project === project && k.tag === tag;
}

function toCurrent(i: IssueData): CurrentIssue {
  return { number: i.number, body: i.body ?? null, state: i.state === "closed" ? "closed" : "open" };
}

/** Statuses worth retrying: auth and permission (a token can be fixed), conflicts, rate limits, server errors. */
const RETRYABLE = (status: number): boolean =>
  status === 401 || status === 403 || status === 408 || status === 409 || status === 429 || status >= 500;

const TOKEN_SETTING = "settings.github.token or $GITHUB_TOKEN";

/**
 * Octokit failures as SinkErrors: transport failures and retryable statuses retry through the outbox (with the
 * server's Retry-After or rate-limit reset as the least delay); 400, 404, 410 and 422 are permanent. The text holds
 * the status, GitHub's `message` and what to fix, redacted: never the request (headers, token). `reason` is the
 * stable code: E_HTTP_AUTH (401, 403: the token), E_HTTP_RATE_LIMITED, E_HTTP_STATUS, or the transport's code.
 */
function errorMapper(name: string, secrets: SecretRegistry): Fail {
  return (what, err, where) => {
    if (err instanceof SinkError) return err;
    const e = err as {
      status?: unknown;
      cause?: unknown;
      response?: { data?: unknown; headers?: Record<string, unknown> };
    };
    const slug = `${where.owner}/${where.repo}`;
    const text = (s: string) => secrets.redact(`github-issue sink "${name}": ${what}: ${s}`);
    const app = e.cause instanceof AppError ? e.cause : err instanceof AppError ? err : null;
    if (app !== null) return fromClientError(app, text, secrets);
    const status = typeof e.status === "number" ? e.status : null;
    if (status === null || e.response === undefined) {
      const m = err instanceof Error ? err.message : String(err);
      return new SinkError(text(`request failed: ${m}`), { retryable: true, reason: "E_HTTP_NETWORK" });
    }
    const data = e.response.data as { message?: unknown; errors?: unknown } | undefined;
    const ghMessage = typeof data?.message === "string" ? ` ${data.message.replace(/\s+/g, " ").slice(0, 200)}` : "";
    const details = Array.isArray(data?.errors) ? ` ${JSON.stringify(data.errors).slice(0, 300)}` : "";
    const head = `HTTP ${status}${ghMessage}${details}`;
    const options = { retryable: RETRYABLE(status), retryAfterMs: retryAfterMs(e.response.headers ?? {}) };
    switch (status) {
      case 401:
        return new SinkError(
          text(
            `${head}: GitHub refused the token (${TOKEN_SETTING}); fix it and restart, the alert waits in the outbox`,
          ),
          { ...options, reason: "E_HTTP_AUTH" },
        );
      case 403:
        return new SinkError(
          text(`${head}: the token (${TOKEN_SETTING}) may not write issues on ${slug}; it needs issues:write`),
          { ...options, reason: "E_HTTP_AUTH" },
        );
      case 404:
        return new SinkError(text(`${head}: ${slug} does not exist or the token cannot see it`), {
          ...options,
          reason: "E_HTTP_STATUS",
        });
      case 410:
        return new SinkError(text(`${head}: issues are disabled on ${slug}`), { ...options, reason: "E_HTTP_STATUS" });
      default:
        return new SinkError(text(head), {
          ...options,
          reason: status === 429 ? "E_HTTP_RATE_LIMITED" : "E_HTTP_STATUS",
        });
    }
  };
}

/**
 * What the runtime's HTTP client threw (before Octokit saw a response): a 5xx or 408 it gave up on, a rate limit
 * with the server's wait, a timeout or network failure. All retryable; the text leaves the URL out (the `what`
 * says which call) and keeps the client's wording for the rest.
 */
function fromClientError(app: AppError, text: (s: string) => string, secrets: SecretRegistry): SinkError {
  const status = typeof app.details?.["status"] === "number" ? app.details["status"] : null;
  const cause = new Error(secrets.redact(app.message));
  if (app.code === "E_HTTP_STATUS" && status !== null) {
    return new SinkError(text(`HTTP ${status}${status >= 500 ? " (GitHub server error)" : ""}`), {
      retryable: true,
      cause,
      reason: app.code,
    });
  }
  if (app.code === "E_HTTP_RATE_LIMITED") {
    const wait = app.details?.["wait_ms"];
    return new SinkError(text(`rate limited${status !== null ? ` (HTTP ${status})` : ""}`), {
      retryable: true,
      retryAfterMs: typeof wait === "number" ? wait : null,
      cause,
      reason: app.code,
    });
  }
  return new SinkError(text(app.message), { retryable: true, cause, reason: app.code });
}

/** `retry-after` seconds, or the wait until `x-ratelimit-reset` when the budget is spent; null otherwise. */
function retryAfterMs(headers: Record<string, unknown>): number | null {
  const ra = Number(headers["retry-after"]);
  if (Number.isFinite(ra) && ra >= 0) return ra * 1000;
  if (String(headers["x-ratelimit-remaining"]) === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    if (Number.isFinite(reset)) return Math.max(0, reset * 1000 - Date.now());
  }
  return null;
}
