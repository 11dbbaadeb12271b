import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../../src/errors.ts";
import { createHttpClient, DEFAULT_HTTP_SETTINGS } from "../../src/http/client.ts";
import { githubClientFactory } from "../../src/http/github.ts";
import { silentLogger } from "../../src/log.ts";
import type { GithubPlan } from "../../src/channels/github/types.ts";
import type { ReleasePlan } from "../../src/plan/types.ts";
import { githubProbe } from "../../src/channels/github/probe.ts";
import type { Evidence } from "../../src/http/evidence.ts";
import type { GithubObservation } from "../../src/channels/github/types.ts";
import type { ProbeContext } from "../../src/probes/types.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import {
  startFixtureServer,
  type FixtureHandler,
  type FixtureResponse,
  type FixtureServer,
} from "../helpers/fixture-server.ts";

// ---------------------------------------------------------------- recorded fixtures (test/fixtures/github/README.md)

interface ReplayEntry {
  method: string;
  host: string;
  path: string;
  status: number;
  response_headers: [string, string][];
  response_body: unknown;
}
type Json = Record<string, unknown>;

const FIXTURES = new URL("../fixtures/github/", import.meta.url);
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8"));
const replay = (name: string): ReplayEntry[] => load(name) as ReplayEntry[];
const entry = (name: string, index: number): ReplayEntry => {
  const e = replay(name)[index];
  assert.ok(e, `${name}[${index}]`);
  return e;
};

/** Recorded response headers minus those that described the recorded transfer (length, gzip, chunking). */
function recordedHeaders(e: ReplayEntry): Record<string, string> {
  const skip = new Set(["content-length", "content-encoding", "transfer-encoding", "connection", "status"]);
  const out: Record<string, string> = {};
  for (const [k, v] of e.response_headers) {
    const key = k.toLowerCase();
    if (!skip.has(key)) out[key] = out[key] ? `${out[key]}, ${v}` : v;
  }
  return out;
}

function recorded(e: ReplayEntry, overrides: Partial<FixtureResponse> = {}): FixtureResponse {
  return { status: e.status, headers: recordedHeaders(e), body: e.response_body, ...overrides };
}

const RELEASE_WITH_DIGESTS = entry("PublicReleaseAsset.setUp.json", 1); // GET /releases/{id}, 2025, digests
const RELEASE_PRE_DIGEST = entry("GitRelease.testGetLatestRelease.json", 0); // GET /releases/latest, 2020
const RELEASE_HAND_EDITED_DIGESTS = entry("GitReleaseAsset.setUp.json", 0); // digests "sha256:abc123"
const ASSET_302 = entry("GitReleaseAsset.testDownloadAssetFile.json", 0);
const ASSET_CDN_200 = entry("GitReleaseAsset.testDownloadAssetFile.json", 1);
const TAG_OBJECT = entry("GitTag.setUp.json", 1);
const NOT_FOUND_OLD = entry("Exceptions.testUnknownObject.json", 1);
const NOT_FOUND = entry("Artifact.testGetNonexistentArtifact.json", 1);
const HTML_503 = entry("Exceptions.testNonJsonDataReturnedByGithub.json", 0);
const REFS = load("git-refs.from-Repository.testGetMatchingRefs.json") as { annotated: Json; lightweight: Json };

/** The recorded CDN body (PyGithub stores each base64 line separately). */
const REAL_ASSET_BYTES = Buffer.concat(
  (ASSET_CDN_200.response_body as { _binary_base64_lines: string[] })._binary_base64_lines.map((l) =>
    Buffer.from(l, "base64"),
  ),
);

const body = (e: ReplayEntry): Json => e.response_body as Json;
const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");
const TOKEN = "t0ken-value";

// ---------------------------------------------------------------- a fake github.com: api, web (downloads), cdn

const OWNER = "sandover";
const REPO = "plasmite";
const TAG = "v0.8.0";
const API = `/repos/${OWNER}/${REPO}`;

interface World {
  api: FixtureServer;
  web: FixtureServer;
  cdn: FixtureServer;
}

interface AssetSpec {
  name: string;
  bytes: Buffer;
  /** Defaults to the bytes' real digest. */
  digest?: string | null;
  /** Drop the `digest` key, as pre-2025 payloads do. */
  noDigestKey?: boolean;
  state?: string;
}

/**
 * A release shaped like `template` (a recorded release): the recorded release and asset objects are cloned and only
 * tag, names, sizes, digests and URLs are replaced, so every other field keeps its recorded value and type.
 */
function releaseBody(w: World, template: ReplayEntry, assets: AssetSpec[], tag = TAG): Json {
  const rel = body(template);
  const assetTemplate = (rel["assets"] as Json[])[0];
  assert.ok(assetTemplate);
  return {
    ...rel,
    tag_name: tag,
    name: tag,
    html_url: `${w.web.url}/${OWNER}/${REPO}/releases/tag/${tag}`,
    assets: assets.map((a, i) => {
      const id = 900 + i;
      const out: Json = {
        ...assetTemplate,
        id,
        name: a.name,
        size: a.bytes.length,
        state: a.state ?? "uploaded",
        url: `${w.api.url}${API}/releases/assets/${id}`,
        browser_download_url: `${w.web.url}/${OWNER}/${REPO}/releases/download/${tag}/${a.name}`,
      };
      if (a.noDigestKey) delete out["digest"];
      else out["digest"] = a.digest === undefined ? `sha256:${sha256(a.bytes)}` : a.digest;
      return out;
    }),
  };
}

/** browser_download_url answers the recorded 302 to the CDN host, which serves the bytes with recorded headers. */
function serveAssets(w: World, assets: AssetSpec[], tag = TAG, cdn?: (a: AssetSpec) => FixtureHandler): void {
  assets.forEach((a, i) => {
    const blob = `/github-production-release-asset/446365735/${i}-${a.name}`;
    w.web.route(`GET /${OWNER}/${REPO}/releases/download/${tag}/${a.name}`, {
      status: 302,
      headers: { ...recordedHeaders(ASSET_302), location: `${w.cdn.url}${blob}?sp=r&sv=2018-11-09&sig=c2lnbmF0dXJl` },
      body: "",
    });
    w.cdn.route(`GET ${blob}`, cdn ? cdn(a) : { status: 200, headers: recordedHeaders(ASSET_CDN_200), body: a.bytes });
  });
}

function tarball(seed: string, size = 64): Buffer {
  return Buffer.from(
    createHash("sha512")
      .update(seed)
      .digest("hex")
      .repeat(Math.ceil(size / 128))
      .slice(0, size),
  );
}

const TARBALLS: AssetSpec[] = ["darwin_amd64", "darwin_arm64", "linux_amd64"].map((p) => ({
  name: `plasmite_0.8.0_${p}.tar.gz`,
  bytes: tarball(p),
}));
/** `shasum -a 256 *.tar.gz` output, as the release workflow writes it. */
const SUMS_TEXT = TARBALLS.map((a) => `${sha256(a.bytes)}  ${a.name}\n`).join("");
const SUMS: AssetSpec = { name: "sha256sums.txt", bytes: Buffer.from(SUMS_TEXT) };

function githubPlan(w: World, overrides: Partial<GithubPlan> = {}): ReleasePlan {
  return {
    project: "plasmite",
    repo: `${OWNER}/${REPO}`,
    tag: TAG,
    version: "0.8.0",
    expect_latest: "auto",
    grace_ms: { github: 0, crates: 0, npm: 0, pypi: 0, homebrew: 0 },
    github: {
      owner: OWNER,
      repo: REPO,
      assets: TARBALLS.map((a) => ({ name: a.name, platform: null })),
      checksum_file: "sha256sums.txt",
      download_hosts: [w.cdn.host],
      ...overrides,
    },
    crates: null,
    npm: null,
    pypi: null,
    homebrew: null,
  };
}

async function observe(
  w: World,
  plan: ReleasePlan,
  deep = false,
): Promise<{ result: GithubObservation | null; error: unknown; evidence: Evidence[] }> {
  const secrets = new SecretRegistry();
  secrets.add(TOKEN);
  const base = createHttpClient({ settings: { ...DEFAULT_HTTP_SETTINGS, retries: 1, retry_base_ms: 1 }, secrets });
  const evidence: Evidence[] = [];
  const http = base.recording(evidence);
  const octokit = githubClientFactory({ api_url: w.api.url, token: TOKEN, user_agent: "release-monitor-test" })(http);
  const ctx: ProbeContext = {
    endpoints: {},
    http,
    octokit,
    log: silentLogger(),
    signal: new AbortController().signal,
    deep,
  };
  try {
    return { result: await githubProbe.observe(plan, ctx), error: null, evidence };
  } catch (error) {
    return { result: null, error, evidence };
  } finally {
    await base.close();
  }
}

function expectAppError(error: unknown, code: string, pattern?: RegExp): AppError {
  assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (pattern) assert.match(error.message, pattern);
  assert.ok(!error.message.includes(TOKEN), "token leaked into the error message");
  return error;
}

/** A tag ref shaped like the recorded one, with `ref` renamed to the plan's tag. */
const refFor = (recordedRef: Json, sha?: string): Json => ({
  ...recordedRef,
  ref: `refs/tags/${TAG}`,
  object: { ...(recordedRef["object"] as Json), ...(sha ? { sha } : {}) },
});

// ---------------------------------------------------------------- tests

describe("githubProbe (contract, loopback fake)", () => {
  let w: World = { api: null!, web: null!, cdn: null! };
  let live = false;

  const closeAll = async (): Promise<void> => {
    if (live) await Promise.all([w.api.close(), w.web.close(), w.cdn.close()]);
    live = false;
  };
  after(closeAll);

  /** Fresh servers (and route tables) per case. */
  async function reset(): Promise<void> {
    await closeAll();
    w = { api: await startFixtureServer(), web: await startFixtureServer(), cdn: await startFixtureServer() };
    live = true;
  }

  it("annotated tag peeled to its commit; release with digests; checksum file fetched through the 302", async () => {
    await reset();
    const tagObject = body(TAG_OBJECT);
    const assets = [...TARBALLS, SUMS];
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, {
      status: 200,
      body: refFor(REFS.annotated, String(tagObject["sha"])),
    });
    w.api.route(`GET ${API}/git/tags/${String(tagObject["sha"])}`, recorded(TAG_OBJECT));
    const release = releaseBody(w, RELEASE_WITH_DIGESTS, assets);
    w.api.route(`GET ${API}/releases/tags/${TAG}`, recorded(RELEASE_WITH_DIGESTS, { body: release }));
    w.api.route(`GET ${API}/releases/latest`, recorded(RELEASE_WITH_DIGESTS, { body: release }));
    serveAssets(w, assets);

    const { result, error, evidence } = await observe(w, githubPlan(w));
    assert.equal(error, null);
    assert.ok(result);
    assert.equal(result.channel, "github");
    assert.equal(result.repo, "sandover/plasmite");
    assert.deepEqual(result.tag, {
      name: TAG,
      exists: true,
      object_type: "tag",
      commit_sha: "4303c5b90e2216d927155e9609436ccb8984c495", // the recorded tag object's commit
    });
    assert.ok(result.release);
    assert.equal(result.release.tag_name, TAG);
    assert.equal(result.release.draft, false);
    assert.equal(result.release.prerelease, false);
    assert.equal(result.release.immutable, false);
    assert.equal(result.release.published_at, "2025-06-06T14:43:28Z");
    assert.equal(result.release.target_commitish, "main");
    assert.deepEqual(
      result.release.assets.map((a) => [a.name, a.state, a.size, a.digest]),
      assets.map((a) => [a.name, "uploaded", a.bytes.length, `sha256:${sha256(a.bytes)}`]),
    );
    const first = result.release.assets[0];
    assert.ok(first);
    assert.equal(first.content_type, "application/wasm"); // recorded value kept
    assert.equal(first.created_at, "2025-06-06T14:43:29Z");
    assert.equal(result.latest_release_tag, TAG);
    assert.deepEqual(result.checksums, {
      name: "sha256sums.txt",
      entries: TARBALLS.map((a) => ({ name: a.name, sha256: sha256(a.bytes) })),
      invalid_lines: [],
    });
    assert.equal(result.downloads, null);

    // Authorization goes to the API only; neither the download host nor the CDN sees it.
    assert.ok(w.api.requests.length >= 4);
    for (const r of w.api.requests) assert.equal(r.headers.authorization, `token ${TOKEN}`);
    assert.equal(w.web.requests.length, 1);
    assert.equal(w.cdn.requests.length, 1);
    for (const r of [...w.web.requests, ...w.cdn.requests]) assert.equal(r.headers.authorization, undefined);
    assert.equal(w.cdn.requests[0]?.headers.accept, "application/octet-stream");
    assert.deepEqual(w.api.unmatched, []);

    // Evidence: every exchange, with url and status; the signed CDN query string is not kept.
    // (decodeURI: the client writes the elided query as `?…`, percent-encoded by URL.)
    const seen = evidence.map((e) => `${e.method} ${e.status} ${decodeURI(e.url)}`).sort();
    assert.deepEqual(
      seen,
      [
        `GET 200 ${w.api.url}${API}/git/ref/tags%2F${TAG}`,
        `GET 200 ${w.api.url}${API}/git/tags/${String(tagObject["sha"])}`,
        `GET 200 ${w.api.url}${API}/releases/tags/${TAG}`,
        `GET 200 ${w.api.url}${API}/releases/latest`,
        `GET 302 ${w.web.url}/${OWNER}/${REPO}/releases/download/${TAG}/sha256sums.txt`,
        `GET 200 ${w.cdn.url}/github-production-release-asset/446365735/3-sha256sums.txt?signed`,
      ].sort(),
    );
    assert.ok(evidence.every((e) => !e.url.includes(TOKEN) && !e.url.includes("sig=")));
  });

  it("lightweight tag; pre-digest release (no digest key) and explicit null digests read as null", async () => {
    await reset();
    const assets: AssetSpec[] = [
      { ...TARBALLS[0]!, noDigestKey: true },
      { ...TARBALLS[1]!, digest: null },
      { ...TARBALLS[2]!, noDigestKey: true },
      { ...SUMS, digest: null },
    ];
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
    const release = releaseBody(w, RELEASE_PRE_DIGEST, assets);
    w.api.route(`GET ${API}/releases/tags/${TAG}`, recorded(RELEASE_PRE_DIGEST, { body: release }));
    w.api.route(`GET ${API}/releases/latest`, recorded(RELEASE_PRE_DIGEST)); // another, older release is latest
    serveAssets(w, assets);

    const { result, error } = await observe(w, githubPlan(w));
    assert.equal(error, null);
    assert.ok(result?.release);
    assert.deepEqual(result.tag, {
      name: TAG,
      exists: true,
      object_type: "commit",
      commit_sha: "2defb8920e3b2d379e9e6227911a10268a368d78",
    });
    assert.equal(w.api.requestsFor(`GET ${API}/git/tags/2defb8920e3b2d379e9e6227911a10268a368d78`).length, 0);
    assert.deepEqual(
      result.release.assets.map((a) => a.digest),
      [null, null, null, null],
    );
    assert.equal(result.release.immutable, null); // field absent in 2020
    assert.equal(result.release.assets[0]?.content_type, "application/octet-stream");
    assert.equal(result.latest_release_tag, "v1.0");
    assert.equal(result.checksums?.entries.length, 3);
  });

  it("not found is data: no tag, no published release (drafts answer 404), no latest release", async () => {
    await reset();
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, recorded(NOT_FOUND));
    w.api.route(`GET ${API}/releases/tags/${TAG}`, recorded(NOT_FOUND_OLD));
    w.api.route(`GET ${API}/releases/latest`, recorded(NOT_FOUND));
    w.api.route(`GET ${API}/releases?per_page=100`, { status: 200, body: [] });

    const { result, error, evidence } = await observe(w, githubPlan(w));
    assert.equal(error, null);
    assert.deepEqual(result, {
      channel: "github",
      repo: "sandover/plasmite",
      tag: { name: TAG, exists: false, object_type: null, commit_sha: null },
      release: null,
      latest_release_tag: null,
      checksums: null,
      downloads: null,
    });
    assert.deepEqual(evidence.map((e) => e.status).sort(), [200, 404, 404, 404]);
    assert.equal(w.web.requests.length, 0);
  });

  it("a draft for the tag (only in the release list) is observed as a draft, not as missing", async () => {
    await reset();
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
    w.api.route(`GET ${API}/releases/tags/${TAG}`, recorded(NOT_FOUND));
    w.api.route(`GET ${API}/releases/latest`, recorded(NOT_FOUND));
    const draft = { ...releaseBody(w, RELEASE_WITH_DIGESTS, [...TARBALLS]), draft: true, published_at: null };
    w.api.route(`GET ${API}/releases?per_page=100`, { status: 200, body: [draft] });
    const { result, error } = await observe(w, githubPlan(w));
    assert.equal(error, null);
    assert.equal(result?.release?.draft, true);
    assert.equal(result?.release?.tag_name, TAG);
  });

  it("checksums are null when the asset is missing, not uploaded, or not configured", async () => {
    for (const [label, assets, checksumFile] of [
      ["missing", [...TARBALLS], "sha256sums.txt"],
      ["starter upload", [...TARBALLS, { ...SUMS, state: "starter" }], "sha256sums.txt"],
      ["not configured", [...TARBALLS, SUMS], null],
    ] as const) {
      await reset();
      w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
      const release = releaseBody(w, RELEASE_WITH_DIGESTS, [...assets]);
      w.api.route(`GET ${API}/releases/tags/${TAG}`, { status: 200, body: release });
      w.api.route(`GET ${API}/releases/latest`, { status: 200, body: release });
      serveAssets(w, [...assets]);
      const { result, error } = await observe(w, githubPlan(w, { checksum_file: checksumFile }));
      assert.equal(error, null, label);
      assert.equal(result?.checksums, null, label);
      assert.equal(w.web.requests.length, 0, label);
    }
  });

  it("keeps malformed checksum lines and digests as data (never throws on their content)", async () => {
    await reset();
    const [a, b, c] = TARBALLS;
    assert.ok(a && b && c);
    const text = [
      `${sha256(a.bytes)}  ${a.name}`,
      "",
      `${sha256(b.bytes).toUpperCase()} *${b.name}\r`,
      `SHA256 (${c.name}) = ${sha256(c.bytes)}`,
      `${sha256(c.bytes).slice(0, 40)}  ${c.name}`,
      "   ",
      `${sha256(c.bytes)} ${c.name}`,
      "\u0000\u00ff binary junk",
      "",
    ].join("\n");
    const sums = { name: "sha256sums.txt", bytes: Buffer.from(text, "latin1") };
    const hand = body(RELEASE_HAND_EDITED_DIGESTS);
    const release: Json = {
      ...releaseBody(w, RELEASE_HAND_EDITED_DIGESTS, [...TARBALLS, sums]),
      prerelease: hand["prerelease"],
    };
    (release["assets"] as Json[])[0]!["digest"] = "sha256:abc123"; // as hand-edited upstream
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
    w.api.route(`GET ${API}/releases/tags/${TAG}`, recorded(RELEASE_HAND_EDITED_DIGESTS, { body: release }));
    w.api.route(`GET ${API}/releases/latest`, recorded(NOT_FOUND));
    serveAssets(w, [...TARBALLS, sums]);

    const { result, error } = await observe(w, githubPlan(w));
    assert.equal(error, null);
    assert.ok(result?.release);
    assert.equal(result.release.prerelease, true);
    assert.equal(result.release.assets[0]?.digest, "sha256:abc123");
    assert.deepEqual(result.checksums?.entries, [
      { name: a.name, sha256: sha256(a.bytes) },
      { name: b.name, sha256: sha256(b.bytes).toUpperCase() },
    ]);
    assert.deepEqual(
      result.checksums?.invalid_lines.map((l) => l.line),
      [4, 5, 7, 8],
    );
    assert.equal(result.checksums?.invalid_lines[0]?.text, `SHA256 (${c.name}) = ${sha256(c.bytes)}`);
  });

  it("a checksum download that does not answer 200 makes the channel unknown", async () => {
    for (const status of [404, 403]) {
      await reset();
      const release = releaseBody(w, RELEASE_WITH_DIGESTS, [...TARBALLS, SUMS]);
      w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
      w.api.route(`GET ${API}/releases/tags/${TAG}`, { status: 200, body: release });
      w.api.route(`GET ${API}/releases/latest`, { status: 200, body: release });
      serveAssets(w, [...TARBALLS, SUMS], TAG, () => ({
        status,
        headers: { "content-type": "application/xml" },
        body: "<Error><Code>AuthenticationFailed</Code></Error>",
      }));
      const { error, evidence } = await observe(w, githubPlan(w));
      expectAppError(error, "E_HTTP_STATUS", new RegExp(`sha256sums\\.txt.*HTTP ${status}`));
      assert.ok(evidence.some((e) => e.status === status && e.url.startsWith(w.cdn.url)));
    }
  });

  it("a redirect to a host outside download_hosts is refused", async () => {
    await reset();
    const release = releaseBody(w, RELEASE_WITH_DIGESTS, [...TARBALLS, SUMS]);
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
    w.api.route(`GET ${API}/releases/tags/${TAG}`, { status: 200, body: release });
    w.api.route(`GET ${API}/releases/latest`, { status: 200, body: release });
    serveAssets(w, [...TARBALLS, SUMS]);
    const { error } = await observe(w, githubPlan(w, { download_hosts: [] }));
    expectAppError(error, "E_HTTP_REDIRECT");
    assert.equal(w.cdn.requests.length, 0);
  });

  it("5xx answers throw an AppError after the client's retry", async () => {
    const cases: [string, FixtureResponse][] = [
      ["500 JSON", { status: 500, body: { message: "Server Error" } }],
      ["recorded 503 with an HTML body under a JSON content type", recorded(HTML_503)],
    ];
    for (const [label, response] of cases) {
      await reset();
      w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
      w.api.route(`GET ${API}/releases/tags/${TAG}`, response);
      w.api.route(`GET ${API}/releases/latest`, recorded(NOT_FOUND));
      const { error, evidence } = await observe(w, githubPlan(w));
      expectAppError(error, "E_HTTP_STATUS", new RegExp(`HTTP ${response.status}`));
      assert.equal(w.api.requestsFor(`GET ${API}/releases/tags/${TAG}`).length, 2, `${label}: one retry`);
      assert.equal(evidence.filter((e) => e.status === response.status).length, 2, label);
      // The sibling calls finished before the probe gave up, so their exchanges are part of the evidence.
      assert.ok(
        evidence.some((e) => e.url.endsWith("/releases/latest") && e.status === 404),
        label,
      );
      assert.ok(
        evidence.some((e) => e.url.includes("/git/ref/") && e.status === 200),
        label,
      );
    }
  });

  it("a malformed JSON body or a payload of the wrong shape is E_UPSTREAM_MALFORMED naming the field", async () => {
    const good = (): Json => releaseBody(w, RELEASE_WITH_DIGESTS, [...TARBALLS]);
    const cases: [string, () => FixtureResponse, RegExp][] = [
      [
        "truncated JSON",
        () => ({
          status: 200,
          headers: { "content-type": "application/json; charset=utf-8" },
          body: JSON.stringify(good()).slice(0, 300),
        }),
        /release v0\.8\.0 of sandover\/plasmite: unexpected payload at \(body\)/,
      ],
      [
        "asset size as a string",
        () => {
          const r = good();
          (r["assets"] as Json[])[1]!["size"] = "4945";
          return { status: 200, body: r };
        },
        /at assets\[1\]\.size/,
      ],
      [
        "digest as a number",
        () => {
          const r = good();
          (r["assets"] as Json[])[0]!["digest"] = 123;
          return { status: 200, body: r };
        },
        /at assets\[0\]\.digest/,
      ],
      ["tag_name missing", () => ({ status: 200, body: { ...good(), tag_name: undefined } }), /at tag_name/],
    ];
    for (const [label, make, pattern] of cases) {
      await reset();
      w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
      w.api.route(`GET ${API}/releases/tags/${TAG}`, make());
      w.api.route(`GET ${API}/releases/latest`, recorded(NOT_FOUND));
      const { error } = await observe(w, githubPlan(w));
      expectAppError(error, "E_UPSTREAM_MALFORMED", pattern);
      assert.ok(error instanceof AppError && error.details?.["issues"], label);
    }
  });

  it("a malformed git ref or tag object is E_UPSTREAM_MALFORMED too", async () => {
    await reset();
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: [refFor(REFS.annotated)] }); // the plural form
    w.api.route(`GET ${API}/releases/tags/${TAG}`, recorded(NOT_FOUND));
    w.api.route(`GET ${API}/releases/latest`, recorded(NOT_FOUND));
    const { error } = await observe(w, githubPlan(w));
    expectAppError(error, "E_UPSTREAM_MALFORMED", /git ref tags\/v0\.8\.0/);
  });

  it("--deep streams every uploaded asset through sha256 (multi-MB, chunked, at most 3 at a time)", async () => {
    await reset();
    const big = Buffer.alloc(6 * 1024 * 1024 + 123);
    for (let i = 0, x = 2463534242; i < big.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      big[i] = x & 0xff;
    }
    const assets: AssetSpec[] = [
      { name: "plasmite_0.8.0_linux_amd64.tar.gz", bytes: big },
      { name: "asset1.md", bytes: REAL_ASSET_BYTES, digest: null },
      ...TARBALLS.slice(0, 2),
      { name: "plasmite_0.8.0_extra.tar.gz", bytes: tarball("extra", 1000) },
      { name: "__proto__", bytes: tarball("proto", 10) }, // upstream names are data, not object keys
      { name: "half-uploaded.tar.gz", bytes: tarball("x"), state: "starter" },
      SUMS,
    ];
    const release = releaseBody(w, RELEASE_WITH_DIGESTS, assets);
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
    w.api.route(`GET ${API}/releases/tags/${TAG}`, { status: 200, body: release });
    w.api.route(`GET ${API}/releases/latest`, { status: 200, body: release });
    let inFlight = 0;
    let maxInFlight = 0;
    serveAssets(w, assets, TAG, (a) => async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(40);
      inFlight--;
      return { status: 200, headers: recordedHeaders(ASSET_CDN_200), body: a.bytes, chunkBytes: 64 * 1024 };
    });

    const { result, error } = await observe(w, githubPlan(w), true);
    assert.equal(error, null);
    assert.ok(result?.downloads && result.release);
    const uploaded = assets.filter((a) => a.state === undefined);
    assert.deepEqual(Object.keys(result.downloads), uploaded.map((a) => a.name).sort());
    for (const a of uploaded) {
      assert.deepEqual(result.downloads[a.name], { sha256: sha256(a.bytes), bytes: a.bytes.length }, a.name);
    }
    const bigAsset = result.release.assets.find((a) => a.name === "plasmite_0.8.0_linux_amd64.tar.gz");
    assert.equal(bigAsset?.digest, `sha256:${result.downloads["plasmite_0.8.0_linux_amd64.tar.gz"]?.sha256}`);
    assert.equal(result.downloads["asset1.md"]?.bytes, 2524); // the recorded CDN Content-Length
    assert.ok(maxInFlight <= 3, `max in flight ${maxInFlight}`);
    assert.ok(maxInFlight >= 2, `downloads ran one at a time (${maxInFlight})`);
    assert.equal(w.cdn.requestsFor("GET /github-production-release-asset/446365735/6-half-uploaded.tar.gz").length, 0);
    assert.equal(Object.getPrototypeOf(result.downloads), Object.prototype);
    // The checksum file is hashed from its one download, not fetched twice.
    assert.equal(w.web.requestsFor(`GET /${OWNER}/${REPO}/releases/download/${TAG}/sha256sums.txt`).length, 1);
    for (const r of w.cdn.requests) assert.equal(r.headers.authorization, undefined);
  });

  it("--deep: a failed asset download makes the channel unknown", async () => {
    await reset();
    const assets = [...TARBALLS];
    const release = releaseBody(w, RELEASE_WITH_DIGESTS, assets);
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
    w.api.route(`GET ${API}/releases/tags/${TAG}`, { status: 200, body: release });
    w.api.route(`GET ${API}/releases/latest`, { status: 200, body: release });
    serveAssets(w, assets, TAG, (a) =>
      a.name.includes("darwin_arm64")
        ? { status: 500, body: "<html>oops</html>" }
        : { status: 200, headers: recordedHeaders(ASSET_CDN_200), body: a.bytes },
    );
    const { error } = await observe(w, githubPlan(w, { checksum_file: null }), true);
    expectAppError(error, "E_HTTP_STATUS", /plasmite_0\.8\.0_darwin_arm64\.tar\.gz.*HTTP 500/);
  });

  it("sidecars: each expected asset's <asset>.sha256 is read; missing and unreadable ones are data, not errors", async () => {
    await reset();
    const [a, b, c] = TARBALLS as [AssetSpec, AssetSpec, AssetSpec];
    const sidecar = (x: AssetSpec, text: string): AssetSpec => ({ name: `${x.name}.sha256`, bytes: Buffer.from(text) });
    // cargo-dist's `<hex> *<name>` plus blank line; bare hex; c has none; d's sidecar answers 503.
    const d: AssetSpec = { name: "plasmite_0.8.0_linux_arm64.tar.gz", bytes: tarball("linux_arm64") };
    const assets = [
      a,
      sidecar(a, `${sha256(a.bytes)} *${a.name}\n\n`),
      b,
      sidecar(b, sha256(b.bytes)),
      c,
      d,
      sidecar(d, "x"),
    ];
    const release = releaseBody(w, RELEASE_WITH_DIGESTS, assets);
    w.api.route(`GET ${API}/git/ref/tags/${TAG}`, { status: 200, body: refFor(REFS.lightweight) });
    w.api.route(`GET ${API}/releases/tags/${TAG}`, { status: 200, body: release });
    w.api.route(`GET ${API}/releases/latest`, { status: 200, body: release });
    serveAssets(w, assets, TAG, (x) =>
      x.name === `${d.name}.sha256`
        ? { status: 503, body: "<html>unavailable</html>" }
        : { status: 200, headers: recordedHeaders(ASSET_CDN_200), body: x.bytes },
    );
    const plan = githubPlan(w, {
      assets: [a, b, c, d].map((x) => ({ name: x.name, platform: null })),
      checksum_file: null,
      checksum_sidecar: ".sha256",
    });
    const { result, error } = await observe(w, plan);
    assert.equal(error, null);
    assert.ok(result);
    assert.equal(result.checksums, null);
    const unreadable = result.sidecars?.[d.name];
    assert.ok(unreadable?.state === "unreadable" && /HTTP 503/.test(unreadable.error), JSON.stringify(unreadable));
    assert.ok(!unreadable.error.includes("sig="), "the signed CDN url stays out of the finding");
    assert.deepEqual(result.sidecars, {
      [a.name]: { name: `${a.name}.sha256`, state: "read", sha256: sha256(a.bytes), named: a.name },
      [b.name]: { name: `${b.name}.sha256`, state: "read", sha256: sha256(b.bytes), named: null },
      [c.name]: { name: `${c.name}.sha256`, state: "missing" },
      [d.name]: unreadable,
    });
    // Only sidecars are downloaded without --deep, never the tarballs.
    assert.equal(w.web.requestsFor(`GET /${OWNER}/${REPO}/releases/download/${TAG}/${a.name}`).length, 0);

    // --deep: each sidecar is hashed from its one download; the tarballs are hashed too.
    w.web.requests.length = 0;
    const deep = await observe(w, plan, true);
    assert.equal(deep.error, null);
    assert.equal(deep.result?.downloads?.[`${a.name}.sha256`]?.sha256, sha256(assets[1]!.bytes));
    assert.equal(deep.result?.downloads?.[a.name]?.sha256, sha256(a.bytes));
    assert.equal(w.web.requestsFor(`GET /${OWNER}/${REPO}/releases/download/${TAG}/${a.name}.sha256`).length, 1);
  });

  it("without a github plan the probe refuses instead of guessing", async () => {
    await reset();
    const plan = { ...githubPlan(w), github: null };
    const { error } = await observe(w, plan);
    expectAppError(error, "E_PROBE_FAILED", /no github channel/);
    assert.equal(w.api.requests.length, 0);
  });
});
