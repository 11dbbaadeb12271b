/**
 * `commit: build-metadata`: finding the build run's release metadata through an injected HTTP function (real
 * response shapes: workflow runs list, artifacts list, artifact zip), and the release attestation still checked
 * against the tag's commit when the build commit differs.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { strToU8, zipSync } from "fflate";
import { fetchBuildMetadata, metadataFromZip } from "../../src/provenance/build-metadata.ts";
import { compareReleaseAttestation } from "../../src/provenance/compare.ts";
import type { ProvenanceHttp, ProvenanceHttpRequest } from "../../src/provenance/fetch.ts";

const API = "https://api.github.example";
const TAG_SHA = "a".repeat(40);
const MAIN_SHA = "b".repeat(40);

function metadataZip(tag: string, sha: string): Uint8Array {
  const md = { tag, version: tag.slice(1), source_sha: sha, source_ref: "refs/heads/main", source_run_id: "1" };
  return zipSync({ "metadata.json": strToU8(JSON.stringify(md)) });
}

/** A GitHub with build runs `runs` (newest first), each with a release-metadata zip (or an HTTP status). */
function fakeGithub(runs: { id: number; head_branch: string; zip: Uint8Array | number }[]): {
  http: ProvenanceHttp;
  asked: ProvenanceHttpRequest[];
} {
  const asked: ProvenanceHttpRequest[] = [];
  const json = (v: unknown) => ({ status: 200, body: Buffer.from(JSON.stringify(v)) });
  const http: ProvenanceHttp = (req) => {
    asked.push(req);
    const u = new URL(req.url);
    if (u.pathname === "/repos/o/r/actions/workflows/release.yml/runs") {
      assert.equal(u.searchParams.get("status"), "success");
      return Promise.resolve(json({ total_count: runs.length, workflow_runs: runs.map(({ zip: _z, ...r }) => r) }));
    }
    const m = /^\/repos\/o\/r\/actions\/runs\/(\d+)\/artifacts$/.exec(u.pathname);
    if (m) {
      assert.equal(u.searchParams.get("name"), "release-metadata");
      return Promise.resolve(
        json({
          total_count: 1,
          artifacts: [
            {
              id: Number(m[1]) + 1,
              name: "release-metadata",
              expired: false,
              archive_download_url: `${API}/repos/o/r/actions/artifacts/${Number(m[1]) + 1}/zip`,
            },
          ],
        }),
      );
    }
    const z = /^\/repos\/o\/r\/actions\/artifacts\/(\d+)\/zip$/.exec(u.pathname);
    const run = z ? runs.find((r) => r.id + 1 === Number(z[1])) : undefined;
    if (run) {
      return Promise.resolve(
        typeof run.zip === "number" ? { status: run.zip, body: new Uint8Array() } : { status: 200, body: run.zip },
      );
    }
    return Promise.resolve({ status: 404, body: Buffer.from("{}") });
  };
  return { http, asked };
}

const query = {
  apiBase: API,
  repository: "o/r",
  workflow: "release.yml",
  artifact: "release-metadata",
  tag: "v1.2.0",
  apiHeaders: { authorization: "Bearer t" },
  downloadHosts: ["results.example"],
};

describe("build metadata: the expected commit of commit: build-metadata", () => {
  it("reads the run whose metadata names the tag; tag-push runs first; the zip may redirect to a download host", async () => {
    const gh = fakeGithub([
      { id: 30, head_branch: "main", zip: metadataZip("v1.3.0", "c".repeat(40)) },
      { id: 20, head_branch: "main", zip: metadataZip("v1.2.0", MAIN_SHA) },
      { id: 10, head_branch: "v1.2.0", zip: metadataZip("v1.2.0-rc", TAG_SHA) },
    ]);
    const got = await fetchBuildMetadata(gh.http, query);
    assert.deepEqual(got, { kind: "found", value: { runId: 20, sourceSha: MAIN_SHA } });
    const artifactRuns = gh.asked
      .filter((r) => r.url.includes("/artifacts?"))
      .map((r) => /runs\/(\d+)/.exec(r.url)?.[1]);
    assert.deepEqual(artifactRuns, ["10", "30", "20"], "the tag's own run is read first");
    const zip = gh.asked.find((r) => r.url.endsWith("/zip"));
    assert.deepEqual(zip?.redirectHosts, ["results.example"]);
  });

  it("no run's metadata names the tag: none", async () => {
    const gh = fakeGithub([{ id: 20, head_branch: "main", zip: metadataZip("v1.3.0", MAIN_SHA) }]);
    assert.deepEqual(await fetchBuildMetadata(gh.http, query), { kind: "none" });
  });

  it("a zip that cannot be downloaded (401 without a token) is unknown, not none", async () => {
    const gh = fakeGithub([{ id: 20, head_branch: "main", zip: 401 }]);
    const got = await fetchBuildMetadata(gh.http, query);
    assert.equal(got.kind, "unknown");
    assert.match(got.kind === "unknown" ? got.reason : "", /HTTP 401 \(a GitHub token is needed\)/);
  });

  it("the workflow is unknown to the API (404): unknown", async () => {
    const gh = fakeGithub([]);
    const got = await fetchBuildMetadata(gh.http, { ...query, workflow: "build.yml" });
    assert.equal(got.kind, "unknown");
  });

  it("metadata.json: a malformed source_sha or a zip without it gives nothing", () => {
    assert.equal(metadataFromZip(metadataZip("v1", "not-a-sha")), undefined);
    assert.equal(metadataFromZip(zipSync({ "other.txt": strToU8("x") })), undefined);
    assert.equal(metadataFromZip(new Uint8Array([1, 2, 3])), undefined);
    assert.equal(metadataFromZip(metadataZip("v1", MAIN_SHA))?.source_sha, MAIN_SHA);
  });
});

describe("release attestation under commit: build-metadata", () => {
  const assets = new Map([["a.tar.gz", "1".repeat(64)]]);
  const ev = (commit: string) => ({
    kind: "attestation" as const,
    attestation: "github-release" as const,
    signature: "verified" as const,
    statement: {
      predicateType: "https://in-toto.io/attestation/release/v0.2",
      subjects: [],
      release: { repository: "o/r", tag: "v1.2.0", commit, assets },
    },
  });
  const expected = { repository: "o/r", commit: MAIN_SHA, tagCommit: TAG_SHA, workflows: ["release.yml"], refs: [] };

  it("names the tag's commit, not the build's: no finding", () => {
    const r = compareReleaseAttestation(expected, { tag: "v1.2.0", assets }, ev(TAG_SHA) as never);
    assert.deepEqual(r.findings, []);
  });

  it("names the build's commit: release-attestation-mismatch expecting the tag's", () => {
    const r = compareReleaseAttestation(expected, { tag: "v1.2.0", assets }, ev(MAIN_SHA) as never);
    assert.deepEqual(
      r.findings.map((f) => [f.code, f.expected]),
      [["release-attestation-mismatch", TAG_SHA]],
    );
  });
});
