/**
 * The fetch-shaped face of the HTTP client for Octokit (`request.fetch`): a buffered answer with the parts of a
 * fetch Response that @octokit/request reads (status, statusText, url, headers iterated and `get`, text(),
 * arrayBuffer(), and `body` when a caller parses the body itself, src/http/github.ts; json() for tests). Not a
 * WHATWG Response: building one per GitHub answer (Node's Headers with its per-value validation, a web
 * ReadableStream over the bytes, read back through promises) was ~4 % of a steady daemon cycle's CPU, and loaded
 * Node's own copy of undici into every command that asks GitHub anything (docs/benchmarks.md, "Where a steady
 * cycle's CPU goes").
 */

/** A request as Octokit's fetch wrapper makes it: a URL and a plain header object (or none). */
export interface FetchInit {
  method?: string;
  headers?: Readonly<Record<string, string>>;
  body?: string | Uint8Array | null;
  signal?: AbortSignal | null;
  redirect?: "follow" | "manual" | "error";
}

export type ClientFetch = (input: string | URL, init?: FetchInit) => Promise<FetchResponse>;

/** A response's headers, read as fetch's Headers reads them: names case-insensitive, iterated sorted by name. */
export class FetchHeaders implements Iterable<[string, string]> {
  readonly #h = new Map<string, string>();

  constructor(record: Readonly<Record<string, string>>) {
    const entries = Object.entries(record).map(([name, value]): [string, string] => [name.toLowerCase(), value]);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, value] of entries) this.#h.set(name, value);
  }

  get(name: string): string | null {
    return this.#h.get(name.toLowerCase()) ?? null;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.#h.entries();
  }
}

/** A buffered answer (`body`: the bytes, null for a status that carries none). */
export class FetchResponse {
  readonly url: string;
  readonly status: number;
  readonly statusText = "";
  readonly headers: FetchHeaders;
  readonly body: Buffer | null;

  constructor(url: string, status: number, headers: Readonly<Record<string, string>>, body: Buffer | null) {
    this.url = url;
    this.status = status;
    this.headers = new FetchHeaders(headers);
    this.body = body;
  }

  text(): Promise<string> {
    return Promise.resolve(this.body ? this.body.toString("utf8") : "");
  }

  json(): Promise<unknown> {
    return this.text().then((t) => JSON.parse(t) as unknown);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.body;
    return Promise.resolve(b ? new Uint8Array(b).buffer : new ArrayBuffer(0));
  }
}
