import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import type { GhContent, GhError, GhRateLimit, GhRef, GhRelease, GhTag, GhTagObject } from "./docs.ts";
import { follow, get, manualClock, rawGet, sha256 } from "./helpers.ts";

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const TOKEN = "ghp_simtoken";
const AUTH = { authorization: `Bearer ${TOKEN}` };

describe("sim: GitHub API", () => {
  let sim: Sim;
  const clock = manualClock();
  let api: string;

  before(async () => {
    sim = await startSim({ githubToken: TOKEN, world: { now: clock.now } });
    applyScenario(sim.world, "clean");
    sim.world.publish("plasmite", "0.9.0-rc.1", {
      publishedAt: clock.now() - 1000,
      lightweightTag: true,
      channels: ["github"],
    });
    sim.world.publish("plasmite", "0.9.0", { draft: true, channels: ["github"] });
    api = `${sim.urls.githubApi}/repos/sandover/plasmite`;
  });
  after(() => sim.close());

  it("serves a release with every field of the OpenAPI example, digests matching the bytes", async () => {
    const res = await get(`${api}/releases/tags/v0.8.0`, AUTH);
    assert.equal(res.status, 200);
    const release = res.json<GhRelease & Record<string, unknown>>();
    const example = JSON.parse(fixture("github-openapi-release.json")) as { assets: object[] } & Record<
      string,
      unknown
    >;
    for (const key of Object.keys(example).filter((k) => k !== "discussion_url"))
      assert.ok(key in release, `release.${key}`);
    for (const key of Object.keys(example.assets[0] ?? {})) assert.ok(key in (release.assets[0] ?? {}), `asset.${key}`);
    assert.ok("updated_at" in release);
    assert.equal(release.tag_name, "v0.8.0");
    assert.equal(release.draft, false);
    assert.equal(release.prerelease, false);
    assert.equal(release.immutable, false);
    assert.match(release.upload_url, /\/assets\{\?name,label\}$/);
    assert.deepEqual(
      release.assets.map((a) => a.name),
      [
        "plasmite_0.8.0_darwin_amd64.tar.gz",
        "plasmite_0.8.0_darwin_arm64.tar.gz",
        "plasmite_0.8.0_linux_amd64.tar.gz",
        "sha256sums.txt",
      ],
    );
    const sums = release.assets.find((a) => a.name === "sha256sums.txt")!;
    const sumsText = (await follow(sums.browser_download_url)).final.text();
    const lines = sumsText.trim().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split("  ")[1]),
      ["plasmite_0.8.0_darwin_amd64.tar.gz", "plasmite_0.8.0_darwin_arm64.tar.gz", "plasmite_0.8.0_linux_amd64.tar.gz"],
    );
    for (const asset of release.assets.filter((a) => a.name.endsWith(".tar.gz"))) {
      const { final } = await follow(asset.browser_download_url);
      assert.equal(final.body.length, asset.size);
      assert.equal(`sha256:${sha256(final.body)}`, asset.digest);
      assert.ok(lines.includes(`${sha256(final.body)}  ${asset.name}`));
      assert.equal(asset.content_type, "application/gzip");
      assert.equal(asset.state, "uploaded");
    }
    assert.equal(res.headers.get("x-github-api-version-selected"), "2022-11-28");
    assert.equal(res.headers.get("cache-control"), "private, max-age=60, s-maxage=60");
    assert.match(res.headers.get("etag") ?? "", /^"[0-9a-f]{40}"$/);
    assert.ok(res.headers.get("last-modified"));
    assert.ok(res.headers.get("x-github-request-id"));
    assert.equal(res.headers.get("x-ratelimit-resource"), "core");
  });

  it("404s drafts and unknown tags with the documented body; lists drafts only to authenticated callers", async () => {
    const draft = await get(`${api}/releases/tags/v0.9.0`, AUTH);
    assert.equal(draft.status, 404);
    assert.equal(draft.json<GhError>().message, "Not Found");
    assert.match(draft.json<GhError>().documentation_url ?? "", /^https:\/\/docs\.github\.com\/rest\//);
    const anon = (await get(`${api}/releases`)).json<GhRelease[]>();
    const authed = (await get(`${api}/releases`, AUTH)).json<GhRelease[]>();
    assert.ok(!anon.some((r) => r.draft));
    assert.ok(authed.some((r) => r.draft && r.tag_name === "v0.9.0" && r.published_at === null));
    assert.equal((await get(`${api}/releases/tags/v9.9.9`, AUTH)).status, 404);
    assert.equal((await get(`${sim.urls.githubApi}/repos/nobody/nothing/releases/latest`, AUTH)).status, 404);
  });

  it("computes latest from the newest non-draft, non-prerelease created_at", async () => {
    const latest = (await get(`${api}/releases/latest`, AUTH)).json<GhRelease>();
    assert.equal(latest.tag_name, "v0.8.0");
    const rc = (await get(`${api}/releases/tags/v0.9.0-rc.1`, AUTH)).json<GhRelease>();
    assert.equal(rc.prerelease, true);
  });

  it("answers git refs with object.type tag for annotated tags, commit for lightweight ones, and peels", async () => {
    const ref = (await get(`${api}/git/ref/tags/v0.8.0`, AUTH)).json<GhRef>();
    assert.equal(ref.ref, "refs/tags/v0.8.0");
    assert.equal(ref.object.type, "tag");
    const tagObj = (await get(`${api}/git/tags/${ref.object.sha}`, AUTH)).json<GhTagObject>();
    assert.equal(tagObj.tag, "v0.8.0");
    assert.equal(tagObj.object.type, "commit");
    const tags = (await get(`${api}/tags`, AUTH)).json<GhTag[]>();
    const listed = tags.find((t) => t.name === "v0.8.0")!;
    assert.equal(listed.commit.sha, tagObj.object.sha);
    const light = (await get(`${api}/git/ref/tags/v0.9.0-rc.1`, AUTH)).json<GhRef>();
    assert.equal(light.object.type, "commit");
    assert.equal((await get(`${api}/git/tags/${light.object.sha}`, AUTH)).status, 404);
    assert.equal((await get(`${api}/git/ref/tags/v0.8`, AUTH)).status, 404, "exact match only");
    const commit = (await get(`${api}/git/commits/${tagObj.object.sha}`, AUTH)).json<{ sha: string }>();
    assert.equal(commit.sha, tagObj.object.sha);
  });

  it("paginates with Link headers pointing at /repositories/<id>/", async () => {
    const first = await get(`${api}/releases?per_page=1`, AUTH);
    const link = first.headers.get("link") ?? "";
    const repoId = (await get(api, AUTH)).json<{ id: number }>().id;
    assert.match(
      link,
      new RegExp(`<${sim.urls.githubApi}/repositories/${repoId}/releases\\?per_page=1&page=2>; rel="next"`),
    );
    assert.match(link, /rel="last"/);
    const next = /<([^>]+)>; rel="next"/.exec(link)?.[1] as string;
    const second = await get(next, AUTH);
    assert.equal(second.status, 200);
    assert.equal(second.json<GhRelease[]>().length, 1);
    assert.match(second.headers.get("link") ?? "", /rel="prev".*rel="first"|rel="first"/);
    assert.notEqual(second.json<GhRelease[]>()[0]?.id, first.json<GhRelease[]>()[0]?.id);
    const tags = await get(`${api}/tags?per_page=2`, AUTH);
    assert.equal(tags.json<GhTag[]>().length, 2);
    assert.match(tags.headers.get("link") ?? "", /\/repositories\/\d+\/tags\?per_page=2&page=2>; rel="next"/);
  });

  it("serves asset JSON, and 302s to a separate download host for octet-stream and browser downloads", async () => {
    const release = (await get(`${api}/releases/tags/v0.8.0`, AUTH)).json<GhRelease>();
    const asset = release.assets[0]!;
    const meta = await get(asset.url, AUTH);
    assert.equal(meta.json<{ id: number }>().id, asset.id);
    const viaApi = await follow(asset.url, { ...AUTH, accept: "application/octet-stream" });
    assert.deepEqual(
      viaApi.hops.map((h) => h.status),
      [302, 200],
    );
    assert.equal(viaApi.hops[0]?.host, new URL(sim.urls.githubApi).host);
    assert.equal(viaApi.hops[1]?.host, new URL(sim.urls.githubDownload).host);
    const viaWeb = await follow(asset.browser_download_url);
    assert.equal(viaWeb.hops[0]?.host, new URL(sim.urls.githubWeb).host);
    assert.equal(viaWeb.hops[1]?.host, new URL(sim.urls.githubDownload).host);
    assert.ok(viaWeb.final.body.equals(viaApi.final.body));
    const redirect = await get(asset.url, { ...AUTH, accept: "application/octet-stream" });
    const location = new URL(redirect.headers.get("location") ?? "");
    assert.match(location.pathname, /^\/github-production-release-asset\/\d+\/[0-9a-f-]{36}$/);
    for (const q of ["sp", "se", "sig"]) assert.ok(location.searchParams.get(q), q);
    assert.equal(redirect.headers.get("content-length"), "0");
    assert.equal(
      (await get(location.toString(), AUTH)).status,
      400,
      "the CDN rejects a forwarded Authorization header",
    );
    location.searchParams.set("sig", "forged");
    assert.equal((await get(location.toString())).status, 403);
  });

  it("expires signed download URLs", async () => {
    const release = (await get(`${api}/releases/tags/v0.8.0`, AUTH)).json<GhRelease>();
    const redirect = await get(release.assets[0]!.browser_download_url);
    const location = redirect.headers.get("location") as string;
    assert.equal((await get(location)).status, 200);
    clock.advance(6 * 60_000);
    const expired = await get(location);
    assert.equal(expired.status, 403);
    assert.match(expired.text(), /AuthenticationFailed/);
  });

  it("serves contents as base64 JSON (60-char lines) or raw bytes by media type, at a ref", async () => {
    const tap = `${sim.urls.githubApi}/repos/sandover/homebrew-tap/contents/Formula/plasmite.rb`;
    const json = (await get(tap, AUTH)).json<GhContent>();
    assert.equal(json.type, "file");
    assert.equal(json.encoding, "base64");
    const lines = (json.content ?? "").split("\n");
    assert.equal(lines.at(-1), "");
    assert.ok(lines.slice(0, -2).every((l) => l.length === 60));
    const text = Buffer.from(json.content ?? "", "base64").toString("utf8");
    assert.match(text, /version "0\.8\.0"/);
    for (const accept of [
      "application/vnd.github.raw",
      "application/vnd.github.v3.raw",
      "application/vnd.github.raw+json",
    ]) {
      const raw = await get(tap, { ...AUTH, accept });
      assert.equal(raw.status, 200);
      assert.equal(raw.text(), text);
      assert.equal(raw.headers.get("content-type"), `${accept}; charset=utf-8`);
    }
    const manifest = await get(`${api}/contents/release/targets.json?ref=v0.8.0`, {
      ...AUTH,
      accept: "application/vnd.github.raw",
    });
    assert.equal(manifest.text(), fixture("plasmite-release-targets.json"));
    const missing = await get(`${api}/contents/nope.txt`, AUTH);
    assert.equal(missing.status, 404);
    assert.equal(missing.json<GhError>().message, "Not Found");
    const badRef = await get(`${api}/contents/README.md?ref=v9.9.9`, AUTH);
    assert.equal(badRef.status, 404);
    assert.equal(badRef.json<GhError>().message, "No commit found for the ref v9.9.9");
    const dir = (await get(`${sim.urls.githubApi}/repos/sandover/homebrew-tap/contents/Formula`, AUTH)).json<
      GhContent[]
    >();
    assert.deepEqual(
      dir.map((e) => [e.name, e.type]),
      [["plasmite.rb", "file"]],
    );
  });

  it("answers conditional requests with an empty 304; only unauthenticated 304s cost rate limit", async () => {
    const url = `${api}/releases/tags/v0.8.0`;
    const first = await get(url, AUTH);
    const etag = first.headers.get("etag") as string;
    sim.stats.reset();
    const remainingBefore = Number(first.headers.get("x-ratelimit-remaining"));
    const again = await get(url, { ...AUTH, "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(Number(again.headers.get("x-ratelimit-remaining")), remainingBefore);
    const since = await get(url, { ...AUTH, "if-modified-since": first.headers.get("last-modified") as string });
    assert.equal(since.status, 304);
    assert.equal(sim.stats.githubBillable, 0);
    assert.equal(sim.stats.services["github-api"].notModified, 2);
    const otherAccept = await get(url, { ...AUTH, "if-none-match": etag, accept: "application/vnd.github.v3+json" });
    assert.equal(otherAccept.status, 200, "ETags differ per Accept");
    assert.equal(sim.stats.githubBillable, 1);
    await get(`${sim.urls.githubApi}/rate_limit`, AUTH);
    assert.equal(sim.stats.githubBillable, 1, "/rate_limit is free");
    const anon1 = await get(url);
    const anon2 = await get(url, { "if-none-match": anon1.headers.get("etag") as string });
    assert.equal(anon2.status, 304);
    assert.equal(
      Number(anon2.headers.get("x-ratelimit-remaining")),
      Number(anon1.headers.get("x-ratelimit-remaining")) - 1,
    );
    assert.equal(sim.stats.githubBillable, 1, "anonymous requests are not billable to the token");
    const rl = (await get(`${sim.urls.githubApi}/rate_limit`, AUTH)).json<GhRateLimit>();
    assert.equal(rl.resources.core.limit, 5000);
    assert.equal(rl.rate.remaining, rl.resources.core.remaining);
  });

  it("rejects a missing User-Agent with the real 403 body and wrong tokens with 401", async () => {
    const res = await rawGet(`${api}/releases/latest`);
    assert.equal(res.status, 403);
    assert.equal(
      res.body,
      '{"message":"Missing or invalid User Agent string. See http://developer.github.com/v3/#user-agent-required"}',
    );
    const bad = await get(`${api}/releases/latest`, { authorization: "Bearer wrong" });
    assert.equal(bad.status, 401);
    assert.equal(bad.json<GhError>().message, "Bad credentials");
    const user = await get(`${sim.urls.githubApi}/user`, AUTH);
    assert.equal(user.json<{ login: string }>().login, "sim-user");
    assert.equal((await get(`${sim.urls.githubApi}/user`)).status, 401);
  });
});

describe("sim: GitHub rate limit exhaustion", () => {
  it("answers 403 with x-ratelimit-remaining 0 once the anonymous budget is spent", async () => {
    const sim = await startSim({ world: { githubRateLimit: { anonymous: 2 } } });
    try {
      applyScenario(sim.world, "clean");
      const url = `${sim.urls.githubApi}/repos/sandover/plasmite/releases/latest`;
      assert.equal((await get(url)).status, 200);
      const second = await get(url);
      assert.equal(second.headers.get("x-ratelimit-remaining"), "0");
      const third = await get(url);
      assert.equal(third.status, 403);
      assert.equal(third.headers.get("x-ratelimit-remaining"), "0");
      assert.match(third.json<GhError>().message, /^API rate limit exceeded for 127\.0\.0\.1\./);
      assert.equal(third.json<GhError>().status, "403");
      assert.ok(Number(third.headers.get("x-ratelimit-reset")) > Date.now() / 1000);
      assert.equal((await get(`${sim.urls.githubApi}/rate_limit`)).status, 200, "/rate_limit still answers");
    } finally {
      await sim.close();
    }
  });
});
