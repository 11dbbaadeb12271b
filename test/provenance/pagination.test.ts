/**
 * GitHub's attestation list is cursor-paginated (`per_page` max 100, `before`/`after`, `Link: rel="next"`; docs
 * "List attestations"): every page is read, at most MAX_ATTESTATION_PAGES, beyond which the answer is unknown.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ATTESTATIONS_PER_PAGE,
  fetchGithubAttestations,
  MAX_ATTESTATION_PAGES,
  nextLink,
  type ProvenanceHttp,
} from "../../src/provenance/fetch.ts";
import { fixtureJson } from "./helpers.ts";

const API = "https://api.example";
const SHA = "a".repeat(64);
const bundle = fixtureJson("github/cli-cli_reusable-workflow-attestation.sigstore.json");

/** A list of `total` attestations served `per` a page, with GitHub's Link header; records the URLs asked. */
function pagedApi(total: number, opts: { nextOrigin?: string } = {}): { http: ProvenanceHttp; asked: string[] } {
  const asked: string[] = [];
  const http: ProvenanceHttp = (req) => {
    asked.push(req.url);
    const u = new URL(req.url);
    const per = Number(u.searchParams.get("per_page"));
    const start = Number(u.searchParams.get("after") ?? 0);
    const page = Array.from({ length: Math.max(0, Math.min(per, total - start)) }, () => ({
      bundle,
      repository_id: 1,
      bundle_url: null,
      initiator: "user",
    }));
    const headers: Record<string, string> = {};
    if (start + per < total) {
      const next = new URL(`${opts.nextOrigin ?? API}${u.pathname}`);
      next.searchParams.set("per_page", String(per));
      next.searchParams.set("after", String(start + per));
      headers["link"] = `<${next.href}>; rel="next", <${API}/first>; rel="first"`;
    }
    return Promise.resolve({ status: 200, body: Buffer.from(JSON.stringify({ attestations: page })), headers });
  };
  return { http, asked };
}

const query = { apiBase: API, repository: "o/r", sha256: SHA, bundleHosts: [] };

describe("GitHub attestation list pagination", () => {
  it("reads the next link of an RFC 8288 Link header", () => {
    assert.equal(nextLink(`<${API}/a?after=x>; rel="next", <${API}/b>; rel="last"`), `${API}/a?after=x`);
    assert.equal(nextLink(`<${API}/b>; rel="prev"`), undefined);
    assert.equal(nextLink(undefined), undefined);
  });

  it(`asks for ${ATTESTATIONS_PER_PAGE} a page and reads every page (250 attestations: 3 pages)`, async () => {
    const { http, asked } = pagedApi(250);
    const got = await fetchGithubAttestations(http, query);
    assert.equal(got.kind, "found");
    assert.equal(got.kind === "found" ? got.value.length : 0, 250);
    assert.equal(asked.length, 3);
    assert.match(asked[0] ?? "", /per_page=100/);
  });

  it(`stops after ${MAX_ATTESTATION_PAGES} pages: more is unknown with the reason, never a partial answer`, async () => {
    const { http, asked } = pagedApi(MAX_ATTESTATION_PAGES * ATTESTATIONS_PER_PAGE + 1);
    const got = await fetchGithubAttestations(http, query);
    assert.equal(got.kind, "unknown");
    assert.match(got.kind === "unknown" ? got.reason : "", /more than 1000 attestations .*stopped after 10 pages/);
    assert.equal(asked.length, MAX_ATTESTATION_PAGES);
  });

  it("exactly 10 full pages are read whole", async () => {
    const got = await fetchGithubAttestations(pagedApi(1000).http, query);
    assert.equal(got.kind === "found" ? got.value.length : -1, 1000);
  });

  it("a next page on another origin is not followed (the API token would go with it)", async () => {
    const { http, asked } = pagedApi(150, { nextOrigin: "https://elsewhere.example" });
    const got = await fetchGithubAttestations(http, query);
    assert.equal(got.kind, "unknown");
    assert.equal(asked.length, 1);
  });

  it("a later page that fails makes the whole answer unknown", async () => {
    const { http } = pagedApi(150);
    let n = 0;
    const failing: ProvenanceHttp = async (req) => (++n === 2 ? { status: 502, body: Buffer.alloc(0) } : http(req));
    assert.equal((await fetchGithubAttestations(failing, query)).kind, "unknown");
  });
});
