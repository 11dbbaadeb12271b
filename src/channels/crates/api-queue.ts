/**
 * The process-wide queue for crates.io API version documents (`GET /api/v1/crates/{name}/{version}`).
 *
 * crates.io allows one API request per second; the sparse index carries presence, checksum and yank state without
 * that limit, so the API is asked only for what only it has (`trustpub_data`, `published_by`, `created_at`, the
 * yank message). Every caller in the process (every project's probe and provenance gatherer) goes through this one
 * queue: one request in flight at a time, in arrival order, spaced by the HTTP client's host limit
 * (`settings.crates.api_min_interval`). A 200 document is kept for the life of the process: its checksum,
 * `created_at` and trusted-publishing data never change for a published version. Its yank state can change, so a
 * caller that needs it asks with `fresh`.
 */

export interface ApiDocResponse {
  status: number;
  /** The body as text (JSON on 200). */
  body: string;
}

export interface ApiDocAnswer extends ApiDocResponse {
  /** True when the document came from the process cache rather than a request made for this call. */
  cached: boolean;
}

export type ApiDocFetch = (url: string) => Promise<ApiDocResponse>;

export class CratesApiQueue {
  readonly #docs = new Map<string, ApiDocResponse>();
  readonly #inFlight = new Map<string, Promise<ApiDocResponse>>();
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;

  /** Requests waiting or in flight. */
  get backlog(): number {
    return this.#queued;
  }

  /** The cached 200 document for `url`, without asking. */
  peek(url: string): ApiDocResponse | undefined {
    return this.#docs.get(url);
  }

  /**
   * The document for `url`: from the process cache unless `fresh`, else joined onto a request already queued for
   * the same URL, else queued. `signal` stops this caller waiting (the queued request still runs for others).
   */
  async get(url: string, fetch: ApiDocFetch, options: { fresh?: boolean; signal?: AbortSignal } = {}) {
    const hit = options.fresh ? undefined : this.#docs.get(url);
    if (hit) return { ...hit, cached: true } satisfies ApiDocAnswer;
    let job = this.#inFlight.get(url);
    if (!job) {
      // An idle queue starts the request now (in the caller's turn), else after the one before it.
      const run = this.#queued === 0 ? fetch(url) : this.#tail.then(() => fetch(url));
      this.#queued++;
      job = run.then(
        (res) => {
          if (res.status === 200) this.#docs.set(url, res);
          return res;
        },
        (err: unknown) => {
          throw err;
        },
      );
      const settled = job.finally(() => {
        this.#queued--;
        this.#inFlight.delete(url);
      });
      this.#inFlight.set(url, job);
      this.#tail = settled.catch(() => undefined);
    }
    const res = await abortable(job, options.signal);
    return { ...res, cached: false } satisfies ApiDocAnswer;
  }

  /** Forget every document (tests). */
  clear(): void {
    this.#docs.clear();
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** The one queue of this process, shared by every project, runtime and daemon cycle. */
export const cratesApiQueue = new CratesApiQueue();
