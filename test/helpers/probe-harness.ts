/**
 * Shared harness for probe contract tests: a loopback server driven by a handler function, a ProbeContext whose
 * HttpClient records evidence, a plan with every channel off, and an AppError assertion. Servers and clients are
 * closed after the test file, so a failing assertion cannot leave one holding the process open.
 */
import { strict as assert } from "node:assert";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after } from "node:test";
import { AppError } from "../../src/errors.ts";
import { createHttpClient, DEFAULT_HTTP_SETTINGS, type HttpClient } from "../../src/http/client.ts";
import { githubClientFactory } from "../../src/http/github.ts";
import { silentLogger } from "../../src/log.ts";
import type { ReleasePlan } from "../../src/plan/types.ts";
import type { Evidence } from "../../src/http/evidence.ts";
import type { ProbeContext, ProbeEndpoints } from "../../src/probes/types.ts";
import { SecretRegistry } from "../../src/secrets.ts";

export interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Strings and Buffers are sent as they are; anything else as JSON. */
  body?: string | Buffer | object;
}

/** `base` is the server's own URL, for replies that point back at it (redirects, tarball URLs). */
export type Handler = (req: Seen, base: string) => Reply;

export interface TestServer {
  base: string;
  host: string;
  seen: Seen[];
  close(): Promise<void>;
}

const clients: HttpClient[] = [];
const servers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of servers) await close();
  for (const c of clients) await c.close();
});

/** Registers a client built by a test to be closed after the file. */
export function trackClient<C extends HttpClient>(client: C): C {
  clients.push(client);
  return client;
}

export async function serve(handler: Handler, jsonType = "application/json; charset=utf-8"): Promise<TestServer> {
  const seen: Seen[] = [];
  let base = "";
  const server = createServer((req, res) => {
    const r: Seen = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers };
    seen.push(r);
    const reply = handler(r, base);
    const isRaw = typeof reply.body === "string" || Buffer.isBuffer(reply.body);
    const body = reply.body === undefined ? "" : isRaw ? (reply.body as string | Buffer) : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(reply.body !== undefined && !isRaw ? { "content-type": jsonType } : {}),
      ...reply.headers,
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  let closed: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }));
  servers.push(close);
  return { base, host: `127.0.0.1:${port}`, seen, close };
}

/** Every channel's registry at `base` unless overridden (keys: channel ids). */
export function endpointsAt(base: string, overrides: Record<string, unknown> = {}): ProbeEndpoints {
  return { crates: { api: base, index: base }, npm: { registry: `${base}/` }, pypi: { url: base }, ...overrides };
}

/** A ProbeContext over a fresh client (one quick retry) recording into `evidence`. */
export function probeContext(
  endpoints: ProbeEndpoints,
  deep = false,
  githubApi = "http://github-api.invalid",
): { ctx: ProbeContext; evidence: Evidence[] } {
  const root = createHttpClient({
    settings: { ...DEFAULT_HTTP_SETTINGS, retries: 1, retry_base_ms: 1 },
    secrets: new SecretRegistry(),
  });
  clients.push(root);
  const evidence: Evidence[] = [];
  const http = root.recording(evidence);
  const octokit = githubClientFactory({ api_url: githubApi, token: null, user_agent: "test" })(http);
  return {
    ctx: { endpoints, http, octokit, log: silentLogger(), signal: new AbortController().signal, deep },
    evidence,
  };
}

/** A plan for `version` with every channel off except those in `channels`. */
export function planFor(
  version: string,
  channels: Partial<Pick<ReleasePlan, "github" | "crates" | "npm" | "pypi" | "homebrew">>,
): ReleasePlan {
  return {
    project: "demo",
    repo: "owner/demo",
    tag: `v${version}`,
    version,
    expect_latest: "auto",
    grace_ms: { github: 0, crates: 0, npm: 0, pypi: 0, homebrew: 0 },
    github: null,
    crates: null,
    npm: null,
    pypi: null,
    homebrew: null,
    ...channels,
  };
}

/** Asserts `p` rejects with an AppError of `code` whose message matches `pattern`. */
export async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<AppError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AppError, `expected an AppError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  return caught;
}
