import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createHttpClient, DEFAULT_HTTP_SETTINGS, MemoryValidatorCache } from "../../src/http/client.ts";
import { githubClientFactory } from "../../src/http/github.ts";
import { silentLogger } from "../../src/log.ts";
import type { ReleasePlan } from "../../src/plan/types.ts";
import { githubProbe } from "../../src/channels/github/probe.ts";
import type { Evidence } from "../../src/http/evidence.ts";
import type { ProbeContext } from "../../src/probes/types.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";

/**
 * The daemon keeps the downloaded checksum file by asset identity: downloading it every cycle would bump the
 * release's download_count, change the ETag of every release document and cost GitHub quota on each of them.
 */

let sim: Sim;
before(async () => {
  sim = await startSim({ githubToken: null });
  applyScenario(sim.world, "clean");
});
after(() => sim.close());

function plan(): ReleasePlan {
  const overlay = sim.settingsOverlay() as { github: { download_hosts: string[] } };
  const platforms = ["linux_amd64", "darwin_amd64", "darwin_arm64"];
  return {
    project: "plasmite",
    repo: "sandover/plasmite",
    tag: "v0.8.0",
    version: "0.8.0",
    expect_latest: "auto",
    grace_ms: { github: 0, crates: 0, npm: 0, pypi: 0, homebrew: 0 },
    github: {
      owner: "sandover",
      repo: "plasmite",
      assets: platforms.map((p) => ({ name: `plasmite_0.8.0_${p}.tar.gz`, platform: p })),
      checksum_file: "sha256sums.txt",
      download_hosts: overlay.github.download_hosts,
    },
    crates: null,
    npm: null,
    pypi: null,
    homebrew: null,
  };
}

function context(cache: MemoryValidatorCache, deep: boolean): { ctx: ProbeContext; evidence: Evidence[] } {
  const root = createHttpClient({
    settings: { ...DEFAULT_HTTP_SETTINGS, retries: 0 },
    secrets: new SecretRegistry(),
    cache,
  });
  const evidence: Evidence[] = [];
  const http = root.recording(evidence);
  const octokit = githubClientFactory({ api_url: sim.urls.githubApi, token: null, user_agent: "test" })(http);
  const endpoints = {
    crates: { api: sim.urls.cratesApi, index: sim.urls.cratesIndex },
    npm: { registry: `${sim.urls.npm}/` },
    pypi: { url: sim.urls.pypi },
  };
  return {
    ctx: { endpoints, http, octokit, log: silentLogger(), signal: new AbortController().signal, deep },
    evidence,
  };
}

describe("github probe: checksum file reuse", () => {
  it("downloads the checksum file once, then reuses it while the asset is the same; the release answers 304", async () => {
    const cache = new MemoryValidatorCache();
    const first = await githubProbe.observe(plan(), context(cache, false).ctx);
    sim.stats.reset();
    const { ctx, evidence } = context(cache, false);
    const second = await githubProbe.observe(plan(), ctx);
    assert.equal(sim.stats.services["github-web"].requests, 0, "no second download");
    assert.equal(sim.stats.services["github-download"].requests, 0);
    assert.deepEqual(second.checksums, first.checksums);
    const reused = evidence.find((e) => e.url.endsWith("/sha256sums.txt"));
    assert.equal(typeof reused?.cache_age_ms, "number", "the report says the file came from the cache");
    // A third look: the world is unchanged (our own download no longer bumps download_count), so all 304.
    sim.stats.reset();
    await githubProbe.observe(plan(), context(cache, false).ctx);
    assert.equal(sim.stats.services["github-api"].notModified, sim.stats.services["github-api"].requests);
  });

  it("always downloads under --deep", async () => {
    const cache = new MemoryValidatorCache();
    await githubProbe.observe(plan(), context(cache, false).ctx);
    sim.stats.reset();
    const deep = await githubProbe.observe(plan(), context(cache, true).ctx);
    // The checksum file and the three tarballs, each through github.com's 302.
    assert.equal(sim.stats.services["github-web"].requests, 4);
    assert.ok(deep.downloads?.["sha256sums.txt"]);
  });
});

describe("github probe: annotated tag objects", () => {
  const tagObjectRequests = () =>
    sim.stats.log.filter((e) => e.service === "github-api" && e.path.includes("/git/tags/")).length;

  it("reads a tag object once: it is addressed by its sha, so a later look reuses it without a request", async () => {
    const cache = new MemoryValidatorCache();
    const first = await githubProbe.observe(plan(), context(cache, false).ctx);
    assert.equal(first.tag.object_type, "tag", "the clean world's tag is annotated");
    sim.stats.reset();
    const { ctx, evidence } = context(cache, false);
    const second = await githubProbe.observe(plan(), ctx);
    assert.equal(tagObjectRequests(), 0, "no request for the tag object");
    assert.deepEqual(second.tag, first.tag);
    const reused = evidence.find((e) => e.url.includes("/git/tags/"));
    assert.equal(typeof reused?.cache_age_ms, "number", "the report says the tag object came from the cache");
    assert.ok(
      sim.stats.log.some((e) => e.path.includes("/git/ref/")),
      "the ref itself is still asked: a moved tag points at another object",
    );
  });

  it("follows a moved tag to its new object", async () => {
    const cache = new MemoryValidatorCache();
    const before = await githubProbe.observe(plan(), context(cache, false).ctx);
    const repo = sim.world.github.repo("sandover", "plasmite");
    const original = repo?.tags.get("v0.8.0");
    assert.ok(repo && original);
    // Force-pushed to another commit: a new annotated tag object, so a new sha behind the same ref.
    const other = [...repo.commits.keys()].find((sha) => sha !== original.commitSha);
    assert.ok(other);
    repo.tags.delete("v0.8.0");
    repo.addTag("v0.8.0", other, true, original.at);
    try {
      const after = await githubProbe.observe(plan(), context(cache, false).ctx);
      assert.equal(after.tag.commit_sha, other);
      assert.notEqual(after.tag.commit_sha, before.tag.commit_sha);
    } finally {
      repo.tags.set("v0.8.0", original);
    }
  });
});
