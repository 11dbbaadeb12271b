/**
 * One Octokit per factory, viewed over each HttpClient: every call of a view goes through that view's client (its
 * evidence, its deadline), never another's, including the pages `paginate` follows and `request` in both its forms.
 */
import { strict as assert } from "node:assert";
import { before, describe, it } from "node:test";
import { createHttpClient, DEFAULT_HTTP_SETTINGS } from "../../src/http/client.ts";
import type { Evidence } from "../../src/http/evidence.ts";
import { githubClientFactory } from "../../src/http/github.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import { serve, trackClient, type Handler } from "../helpers/probe-harness.ts";

const api: Handler = (req, base) => {
  const url = new URL(req.path, base);
  if (url.pathname === "/repos/o/r/releases/latest") return { status: 200, body: { tag_name: "v1.0.0" } };
  if (url.pathname === "/repos/o/r/releases") {
    const page = Number(url.searchParams.get("page") ?? "1");
    const next = `<${base}/repos/o/r/releases?per_page=1&page=2>; rel="next"`;
    return { status: 200, body: [{ tag_name: `v${page}` }], headers: page === 1 ? { link: next } : {} };
  }
  return { status: 404, body: { message: "Not Found" } };
};

describe("the shared Octokit's views", () => {
  let base = "";
  before(async () => {
    base = (await serve(api)).base;
  });

  const setup = () => {
    const http = trackClient(
      createHttpClient({ settings: { ...DEFAULT_HTTP_SETTINGS, retries: 0 }, secrets: new SecretRegistry() }),
    );
    return { http, github: githubClientFactory({ api_url: base, token: null, user_agent: "t" }) };
  };
  const paths = (evidence: Evidence[]) => evidence.map((e) => new URL(e.url).pathname + new URL(e.url).search);

  it("each view records into its own client; both share one instance", async () => {
    const { http, github } = setup();
    const [a, b]: [Evidence[], Evidence[]] = [[], []];
    const va = github(http.recording(a));
    const vb = github(http.recording(b));
    assert.equal(va.hook, vb.hook, "one Octokit behind both views");
    const [ra, rb] = await Promise.all([
      va.rest.repos.getLatestRelease({ owner: "o", repo: "r" }),
      vb.request("GET /repos/{owner}/{repo}/releases", { owner: "o", repo: "r", per_page: 1 }),
    ]);
    assert.equal(ra.data.tag_name, "v1.0.0");
    assert.deepEqual(rb.data, [{ tag_name: "v1" }]);
    assert.deepEqual(paths(a), ["/repos/o/r/releases/latest"]);
    assert.deepEqual(paths(b), ["/repos/o/r/releases?per_page=1"]);
  });

  it("paginate follows the next link through the view's client", async () => {
    const { http, github } = setup();
    const evidence: Evidence[] = [];
    const gh = github(http.recording(evidence));
    const tags: string[] = [];
    for await (const page of gh.paginate.iterator(gh.rest.repos.listReleases, { owner: "o", repo: "r", per_page: 1 })) {
      tags.push(...page.data.map((r) => r.tag_name));
    }
    assert.deepEqual(tags, ["v1", "v2"]);
    assert.deepEqual(paths(evidence), ["/repos/o/r/releases?per_page=1", "/repos/o/r/releases?per_page=1&page=2"]);
  });

  it("request(options) and the per-call signal reach the client", async () => {
    const { http, github } = setup();
    const evidence: Evidence[] = [];
    const gh = github(http.recording(evidence));
    const r = await gh.request({ method: "GET", url: "/repos/o/r/releases/latest" });
    assert.equal((r.data as { tag_name: string }).tag_name, "v1.0.0");
    const aborted = AbortSignal.abort(new Error("stop"));
    await assert.rejects(gh.rest.repos.getLatestRelease({ owner: "o", repo: "r", request: { signal: aborted } }));
    assert.equal(evidence.length >= 1, true);
    assert.equal(paths(evidence)[0], "/repos/o/r/releases/latest");
  });

  it("a call outside the view (a legacy scope) is refused, not sent past the client", async () => {
    const { http, github } = setup();
    const evidence: Evidence[] = [];
    const gh = github(http.recording(evidence)) as unknown as {
      repos: { getLatestRelease(p: object): Promise<unknown> };
    };
    await assert.rejects(gh.repos.getLatestRelease({ owner: "o", repo: "r" }), /without the client's fetch/);
    assert.deepEqual(evidence, []);
  });
});
