import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { createHttpClient, DEFAULT_HTTP_SETTINGS, MemoryValidatorCache } from "../../src/http/client.ts";
import { githubClientFactory } from "../../src/http/github.ts";
import { silentLogger } from "../../src/log.ts";
import type { ReleasePlan } from "../../src/plan/types.ts";
import { cratesProbe } from "../../src/channels/crates/probe.ts";
import type { Evidence } from "../../src/http/evidence.ts";
import type { ProbeContext } from "../../src/probes/types.ts";
import { SecretRegistry } from "../../src/secrets.ts";

/**
 * crates.io allows one API request per second; the process-wide queue keeps the API version document (immutable
 * but for its yank status) and asks again only when the freshly read sparse index makes the yank state matter.
 */

const CKSUM = "a".repeat(64);
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

interface World {
  yanked: boolean;
  apiHits: number;
  indexHits: number;
}

async function crates(world: World): Promise<string> {
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    if (path === "/api/v1/crates/demo/1.0.0") {
      world.apiHits++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          version: {
            num: "1.0.0",
            checksum: CKSUM,
            yanked: world.yanked,
            yank_message: world.yanked ? "broken build" : null,
            created_at: "2026-01-01T00:00:00Z",
          },
        }),
      );
    } else if (path === "/de/mo/demo") {
      world.indexHits++;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(
        `${JSON.stringify({ name: "demo", vers: "1.0.0", deps: [], cksum: CKSUM, features: {}, yanked: world.yanked })}\n`,
      );
    } else {
      res.writeHead(404).end("{}");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function context(base: string, cache: MemoryValidatorCache, deep = false): { ctx: ProbeContext; evidence: Evidence[] } {
  const root = createHttpClient({
    settings: { ...DEFAULT_HTTP_SETTINGS, retries: 0 },
    secrets: new SecretRegistry(),
    cache,
  });
  closers.push(() => root.close());
  const evidence: Evidence[] = [];
  const http = root.recording(evidence);
  const endpoints = { crates: { api: base, index: base } };
  const octokit = githubClientFactory({ api_url: base, token: null, user_agent: "test" })(http);
  return {
    ctx: { endpoints, http, octokit, log: silentLogger(), signal: new AbortController().signal, deep },
    evidence,
  };
}

const plan: ReleasePlan = {
  project: "demo",
  repo: "owner/demo",
  tag: "v1.0.0",
  version: "1.0.0",
  expect_latest: "auto",
  grace_ms: { github: 0, crates: 0, npm: 0, pypi: 0, homebrew: 0 },
  github: null,
  crates: { crate: "demo" },
  npm: null,
  pypi: null,
  homebrew: null,
};

describe("crates probe: cached API version document", () => {
  it("reuses the document while the index lists the version unyanked; the index is read every time", async () => {
    const world: World = { yanked: false, apiHits: 0, indexHits: 0 };
    const base = await crates(world);
    const cache = new MemoryValidatorCache();
    await cratesProbe.observe(plan, context(base, cache).ctx);
    const { ctx, evidence } = context(base, cache);
    const second = await cratesProbe.observe(plan, ctx);
    assert.equal(world.apiHits, 1);
    assert.equal(world.indexHits, 2);
    assert.equal(second.api_version?.checksum, CKSUM);
    assert.equal(second.api_cached, true, "the observation says the document came from the cache");
    assert.equal(evidence.filter((e) => e.url.includes("/api/v1/")).length, 0);
  });

  it("asks the API again when the index no longer agrees (a yank), and reports the yank message", async () => {
    const world: World = { yanked: false, apiHits: 0, indexHits: 0 };
    const base = await crates(world);
    const cache = new MemoryValidatorCache();
    await cratesProbe.observe(plan, context(base, cache).ctx);
    world.yanked = true;
    const after = await cratesProbe.observe(plan, context(base, cache).ctx);
    assert.equal(world.apiHits, 2);
    assert.equal(after.api_version?.yanked, true);
    assert.equal(after.api_version?.yank_message, "broken build");
  });

  it("never uses the cached document under --deep", async () => {
    const world: World = { yanked: false, apiHits: 0, indexHits: 0 };
    const base = await crates(world);
    const cache = new MemoryValidatorCache();
    await cratesProbe.observe(plan, context(base, cache).ctx);
    // The .crate download answers 404 here; only the API request count matters.
    await cratesProbe.observe(plan, context(base, cache, true).ctx).catch(() => null);
    assert.equal(world.apiHits, 2);
  });
});
