import { z } from "zod";
import { AppError } from "../errors.ts";
import type { HttpClient, HttpResponse } from "../http/client.ts";
import { GITHUB_API_VERSION } from "../http/github.ts";

/**
 * The GitHub REST calls the release driver makes (registry-contracts.md §1.6): user, Actions secrets, workflows,
 * runs, jobs, artifacts (302 to a download host), workflow dispatch (204, or 200 with run details), and the
 * release's checksum file. Upstream bodies are parsed leniently; a 404 is data (null), anything else we cannot
 * interpret throws an AppError (the step becomes unknown).
 */

export const WorkflowSchema = z.object({
  id: z.number(),
  name: z.string(),
  path: z.string(),
  state: z.string(),
  html_url: z.string().optional(),
});
export type Workflow = z.infer<typeof WorkflowSchema>;

export const RunSchema = z.object({
  id: z.number(),
  name: z.string().nullish(),
  event: z.string(),
  status: z.string().nullish(),
  conclusion: z.string().nullish(),
  head_branch: z.string().nullish(),
  head_sha: z.string(),
  path: z.string().nullish(),
  workflow_id: z.number().nullish(),
  html_url: z.string(),
  created_at: z.string(),
  updated_at: z.string().nullish(),
});
export type Run = z.infer<typeof RunSchema>;

export const JobSchema = z.object({
  id: z.number(),
  name: z.string(),
  status: z.string().nullish(),
  conclusion: z.string().nullish(),
  html_url: z.string().nullish(),
  steps: z
    .array(z.object({ name: z.string(), status: z.string().nullish(), conclusion: z.string().nullish() }))
    .nullish(),
});
export type Job = z.infer<typeof JobSchema>;

export const ArtifactSchema = z.object({
  id: z.number(),
  name: z.string(),
  size_in_bytes: z.number().nullish(),
  archive_download_url: z.string(),
  expired: z.boolean().nullish(),
  digest: z.string().nullish(),
});
export type Artifact = z.infer<typeof ArtifactSchema>;

const ReleaseSchema = z.object({
  tag_name: z.string(),
  draft: z.boolean().nullish(),
  immutable: z.boolean().nullish(),
  assets: z
    .array(
      z.object({
        id: z.number(),
        name: z.string(),
        url: z.string(),
        state: z.string().nullish(),
        digest: z.string().nullish(),
      }),
    )
    .default([]),
});

const AttestationsSchema = z.object({
  attestations: z.array(
    z.object({
      bundle: z
        .object({ dsseEnvelope: z.object({ payload: z.string(), payloadType: z.string().nullish() }).nullish() })
        .loose()
        .nullish(),
      bundle_url: z.string().nullish(),
      initiator: z.string().nullish(),
    }),
  ),
});
export type Attestations = z.infer<typeof AttestationsSchema>;
export type ReleaseInfo = z.infer<typeof ReleaseSchema>;

export interface GithubApiOptions {
  http: HttpClient;
  apiUrl: string;
  repo: string;
  token: string | null;
  /** Hosts release asset downloads may redirect to (settings.github.download_hosts). */
  downloadHosts: readonly string[];
  signal?: AbortSignal;
}

/** Largest artifact zip we download (metadata and SDK tarballs are small; this bounds memory). */
const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;

export class GithubApi {
  readonly repo: string;
  readonly #o: GithubApiOptions;
  readonly #base: string;

  constructor(o: GithubApiOptions) {
    this.#o = o;
    this.repo = o.repo;
    this.#base = o.apiUrl.replace(/\/+$/, "");
  }

  /** `/repos/{owner}/{repo}` + path, for plans and evidence. */
  path(p: string): string {
    return `/repos/${this.repo}${p}`;
  }

  url(p: string): string {
    return `${this.#base}${this.path(p)}`;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      accept: "application/vnd.github+json",
      "x-github-api-version": GITHUB_API_VERSION,
      ...(this.#o.token ? { authorization: `Bearer ${this.#o.token}` } : {}),
      ...extra,
    };
  }

  async #get(url: string): Promise<HttpResponse> {
    return this.#o.http.request({
      url,
      headers: this.#headers(),
      conditional: false,
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
    });
  }

  #parse<T>(res: HttpResponse, schema: z.ZodType<T>, what: string): T {
    let body: unknown;
    try {
      body = res.json();
    } catch (err) {
      throw new AppError("E_UPSTREAM_MALFORMED", `${what}: the body is not JSON`, { cause: err });
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new AppError(
        "E_UPSTREAM_MALFORMED",
        `${what}: unexpected shape (${first ? `${first.path.join(".")}: ${first.message}` : "invalid"})`,
      );
    }
    return parsed.data;
  }

  #status(res: HttpResponse, what: string): AppError {
    const message = errorText(res) ?? res.text().slice(0, 200);
    return new AppError("E_HTTP_STATUS", `${what}: HTTP ${res.status}${message ? ` (${message})` : ""}`, {
      details: { status: res.status },
    });
  }

  /** `GET /user`: whether the token authenticates. */
  async user(): Promise<{ ok: true; login: string } | { ok: false; status: number; message: string }> {
    const res = await this.#get(`${this.#base}/user`);
    if (res.status === 200)
      return { ok: true, login: this.#parse(res, z.object({ login: z.string() }), "GET /user").login };
    if (res.status === 401 || res.status === 403)
      return { ok: false, status: res.status, message: errorText(res) ?? "" };
    throw this.#status(res, "GET /user");
  }

  /** Names of the repository's Actions secrets (all pages). */
  async secretNames(): Promise<string[]> {
    const names: string[] = [];
    for (let page = 1; page <= 20; page++) {
      const what = `GET ${this.path("/actions/secrets")}`;
      const res = await this.#get(this.url(`/actions/secrets?per_page=100&page=${page}`));
      if (res.status !== 200) throw this.#status(res, what);
      const body = this.#parse(
        res,
        z.object({ total_count: z.number(), secrets: z.array(z.object({ name: z.string() })) }),
        what,
      );
      names.push(...body.secrets.map((s) => s.name));
      if (body.secrets.length < 100 || names.length >= body.total_count) break;
    }
    return names;
  }

  async workflow(file: string): Promise<Workflow | null> {
    const what = `GET ${this.path(`/actions/workflows/${file}`)}`;
    const res = await this.#get(this.url(`/actions/workflows/${encodeURIComponent(file)}`));
    if (res.status === 404) return null;
    if (res.status !== 200) throw this.#status(res, what);
    return this.#parse(res, WorkflowSchema, what);
  }

  /** Runs of one workflow, newest first (first page). */
  async runs(file: string, query: Record<string, string>): Promise<Run[]> {
    const q = new URLSearchParams({ per_page: "50", ...query });
    const p = `/actions/workflows/${encodeURIComponent(file)}/runs?${q.toString()}`;
    const what = `GET ${this.path(p)}`;
    const res = await this.#get(this.url(p));
    if (res.status === 404) return [];
    if (res.status !== 200) throw this.#status(res, what);
    return this.#parse(res, z.object({ workflow_runs: z.array(RunSchema) }), what).workflow_runs;
  }

  async run(id: number): Promise<Run> {
    const what = `GET ${this.path(`/actions/runs/${id}`)}`;
    const res = await this.#get(this.url(`/actions/runs/${id}`));
    if (res.status !== 200) throw this.#status(res, what);
    return this.#parse(res, RunSchema, what);
  }

  async jobs(runId: number): Promise<Job[]> {
    const p = `/actions/runs/${runId}/jobs?per_page=100`;
    const what = `GET ${this.path(p)}`;
    const res = await this.#get(this.url(p));
    if (res.status !== 200) throw this.#status(res, what);
    return this.#parse(res, z.object({ jobs: z.array(JobSchema) }), what).jobs;
  }

  async artifacts(runId: number, name?: string): Promise<Artifact[]> {
    const q = new URLSearchParams({ per_page: "100", ...(name ? { name } : {}) });
    const p = `/actions/runs/${runId}/artifacts?${q.toString()}`;
    const what = `GET ${this.path(p)}`;
    const res = await this.#get(this.url(p));
    if (res.status !== 200) throw this.#status(res, what);
    return this.#parse(res, z.object({ artifacts: z.array(ArtifactSchema) }), what).artifacts;
  }

  /**
   * The artifact zip: `archive_download_url` answers 302 with a short-lived signed URL on another host, which is
   * fetched without the Authorization header (the token never leaves api host).
   */
  async downloadArtifact(a: Artifact): Promise<Buffer> {
    const what = `GET ${a.archive_download_url}`;
    const first = await this.#o.http.request({
      url: a.archive_download_url,
      headers: this.#headers(),
      followRedirects: false,
      conditional: false,
      maxBytes: MAX_ARTIFACT_BYTES,
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
    });
    if (first.status === 200) return first.body;
    const location = first.headers["location"];
    if ((first.status !== 302 && first.status !== 301 && first.status !== 307) || !location)
      throw this.#status(first, what);
    const next = new URL(location, a.archive_download_url);
    if (next.protocol !== "https:" && next.protocol !== "http:") {
      throw new AppError("E_HTTP_REDIRECT", `${what}: redirect to a ${next.protocol} URL`);
    }
    const blob = await this.#o.http.request({
      url: next.toString(),
      headers: { accept: "application/zip" },
      conditional: false,
      maxBytes: MAX_ARTIFACT_BYTES,
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
    });
    if (blob.status !== 200) throw this.#status(blob, `artifact ${a.name} download`);
    return blob.body;
  }

  /**
   * `POST …/actions/workflows/{file}/dispatches`: 204 (no body) by default; 200 with `{workflow_run_id, run_url,
   * html_url}` when the server honours `return_run_details`.
   */
  async dispatch(
    file: string,
    ref: string,
    inputs: Record<string, string>,
  ): Promise<{ status: 200 | 204; runId: number | null }> {
    const p = `/actions/workflows/${encodeURIComponent(file)}/dispatches`;
    const what = `POST ${this.path(p)}`;
    const res = await this.#o.http.request({
      url: this.url(p),
      method: "POST",
      headers: this.#headers({ "content-type": "application/json" }),
      body: JSON.stringify(dispatchBody(ref, inputs)),
      retry: false,
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
    });
    if (res.status === 204) return { status: 204, runId: null };
    if (res.status === 200) {
      const body = this.#parse(res, z.object({ workflow_run_id: z.number() }), what);
      return { status: 200, runId: body.workflow_run_id };
    }
    if (res.status === 422 || res.status === 404 || res.status === 403 || res.status === 401) {
      throw new AppError("E_STEP_FAILED", `${what}: HTTP ${res.status} ${this.#status(res, what).message}`, {
        details: { status: res.status },
      });
    }
    throw this.#status(res, what);
  }

  async releaseByTag(tag: string): Promise<ReleaseInfo | null> {
    const p = `/releases/tags/${encodeURIComponent(tag)}`;
    const what = `GET ${this.path(p)}`;
    const res = await this.#get(this.url(p));
    if (res.status === 404) return null;
    if (res.status !== 200) throw this.#status(res, what);
    return this.#parse(res, ReleaseSchema, what);
  }

  /** `GET …/immutable-releases`: 200 `{enabled}`, 404 when the repository does not enable immutable releases. */
  async immutableReleasesEnabled(): Promise<boolean> {
    const what = `GET ${this.path("/immutable-releases")}`;
    const res = await this.#get(this.url("/immutable-releases"));
    if (res.status === 404) return false;
    if (res.status !== 200) throw this.#status(res, what);
    return this.#parse(res, z.object({ enabled: z.boolean() }), what).enabled;
  }

  /** `GET …/attestations/<digest>?predicate_type=release`; 404 or 422 mean none (provenance.md §3.1). */
  async releaseAttestations(digest: string): Promise<Attestations | null> {
    const p = `/attestations/${encodeURIComponent(digest)}?predicate_type=release`;
    const what = `GET ${this.path(p)}`;
    const res = await this.#get(this.url(p));
    if (res.status === 404 || res.status === 422) return null;
    if (res.status !== 200) throw this.#status(res, what);
    return this.#parse(res, AttestationsSchema, what);
  }

  /** Release asset bytes through the asset API (302 to an allowed download host). */
  async downloadAsset(assetUrl: string): Promise<Buffer> {
    const res = await this.#o.http.request({
      url: assetUrl,
      headers: this.#headers({ accept: "application/octet-stream" }),
      redirectHosts: this.#o.downloadHosts,
      conditional: false,
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
    });
    if (res.status !== 200) throw this.#status(res, `GET ${assetUrl}`);
    return res.body;
  }
}

/** GitHub's `{"message": "…"}` error text, or null when the body is not that. */
function errorText(res: HttpResponse): string | null {
  try {
    const m = (res.json() as { message?: unknown }).message;
    return typeof m === "string" ? m : null;
  } catch {
    return null;
  }
}

export function dispatchBody(ref: string, inputs: Record<string, string>): Record<string, unknown> {
  return { ref, inputs, return_run_details: true };
}
