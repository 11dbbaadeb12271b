import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import type { CratesErrors, GhError, GhRelease } from "./docs.ts";
import { get } from "./helpers.ts";

/** Fetch and read the whole body; resolves to the error's message when the exchange fails. */
async function attempt(
  url: string,
  timeoutMs = 2000,
): Promise<{ status: number; text: string; type: string | null } | { error: string }> {
  try {
    const res = await get(url, {}, AbortSignal.timeout(timeoutMs));
    return { status: res.status, text: res.text(), type: res.headers.get("content-type") };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { error: `${e.name}: ${e.message} ${e.cause?.code ?? ""} ${e.cause?.message ?? ""}` };
  }
}

describe("sim: faults and latency", () => {
  let sim: Sim;
  let release: string;
  let npm: string;
  before(async () => {
    sim = await startSim();
    applyScenario(sim.world, "clean");
    release = `${sim.urls.githubApi}/repos/sandover/plasmite/releases/tags/v0.8.0`;
    npm = `${sim.urls.npm}/plasmite`;
  });
  after(() => sim.close());

  it("answers 500/502/503 with the service's error body, once per `times`, with Retry-After", async () => {
    sim.world.faults.add({ service: "crates-api", kind: "503", times: 1, retryAfterSec: 7 });
    const url = `${sim.urls.cratesApi}/api/v1/crates/plasmite`;
    const failed = await get(url);
    assert.equal(failed.status, 503);
    assert.equal(failed.headers.get("retry-after"), "7");
    assert.deepEqual(failed.json<CratesErrors>(), { errors: [{ detail: "Service Unavailable" }] });
    assert.equal((await get(url)).status, 200, "times: 1");
    const h = sim.world.faults.add({ service: "github-api", kind: "500", path: "/repos/sandover/plasmite/releases" });
    assert.equal((await get(release)).status, 500);
    assert.equal((await get(release)).json<GhError>().message, "Server Error");
    assert.equal(
      (await get(`${sim.urls.githubApi}/repos/sandover/plasmite/git/ref/tags/v0.8.0`)).status,
      200,
      "path prefix only",
    );
    assert.equal(h.hits(), 2);
    h.remove();
    sim.world.faults.add({ service: "npm", kind: "502", path: /^\/plasmite$/ });
    assert.equal((await get(npm)).status, 502);
    assert.equal((await get(`${npm}/0.8.0`)).status, 200);
    sim.world.faults.clear();
    assert.equal((await get(npm)).status, 200);
  });

  it("rate-limits: 429 with Retry-After, GitHub primary and secondary 403s", async () => {
    sim.world.faults.add({ service: "github-api", kind: "429", retryAfterSec: 2, times: 1 });
    const r429 = await get(release);
    assert.equal(r429.status, 429);
    assert.equal(r429.headers.get("retry-after"), "2");
    sim.world.faults.add({ service: "github-api", kind: "403-ratelimit", times: 1 });
    const primary = await get(release);
    assert.equal(primary.status, 403);
    assert.equal(primary.headers.get("x-ratelimit-remaining"), "0");
    assert.ok(Number(primary.headers.get("x-ratelimit-reset")) > Date.now() / 1000);
    assert.match(primary.json<GhError>().message, /API rate limit exceeded/);
    sim.world.faults.add({ service: "github-api", kind: "403-ratelimit", retryAfterSec: 60, times: 1 });
    const secondary = await get(release);
    assert.equal(secondary.status, 403);
    assert.equal(secondary.headers.get("retry-after"), "60");
    assert.match(secondary.json<GhError>().message, /secondary rate limit/);
    sim.world.faults.add({ service: "crates-api", kind: "403-ratelimit", times: 1 });
    const crates = await get(`${sim.urls.cratesApi}/api/v1/crates/plasmite`);
    assert.equal(crates.status, 403);
    assert.match(crates.json<CratesErrors>().errors[0]?.detail ?? "", /crawler policy/);
    assert.equal((await get(release)).status, 200);
  });

  it("times out (never answers), resets the socket, and truncates bodies", async () => {
    sim.world.faults.add({ service: "pypi", kind: "timeout", times: 1 });
    const started = Date.now();
    const timedOut = await attempt(`${sim.urls.pypi}/pypi/plasmite/json`, 300);
    assert.ok("error" in timedOut && /TimeoutError|aborted/i.test(timedOut.error), JSON.stringify(timedOut));
    assert.ok(Date.now() - started >= 290);
    sim.world.faults.add({ service: "npm", kind: "reset", times: 1 });
    const reset = await attempt(npm);
    assert.ok("error" in reset, JSON.stringify(reset));
    sim.world.faults.add({ service: "npm", kind: "truncated", times: 1 });
    const truncated = await attempt(npm);
    assert.ok("error" in truncated, JSON.stringify(truncated));
    sim.world.faults.add({ service: "github-download", kind: "truncated", times: 1 });
    const asset = (await get(release)).json<GhRelease>().assets[0]!;
    const redirect = await get(asset.browser_download_url);
    const body = await attempt(redirect.headers.get("location") as string);
    assert.ok("error" in body, JSON.stringify(body));
    assert.equal((await get(npm)).status, 200);
  });

  it("serves malformed JSON and HTML error pages", async () => {
    sim.world.faults.add({ service: "pypi", kind: "malformed-json", times: 1 });
    const bad = await attempt(`${sim.urls.pypi}/pypi/plasmite/json`);
    assert.ok("status" in bad && bad.status === 200);
    assert.match(bad.type ?? "", /^application\/json/);
    assert.throws(() => JSON.parse(bad.text));
    sim.world.faults.add({ service: "crates-index", kind: "malformed-json", times: 1 });
    const index = await attempt(`${sim.urls.cratesIndex}/pl/as/plasmite`);
    assert.ok("status" in index && index.status === 200);
    assert.ok(
      index.text
        .split("\n")
        .filter(Boolean)
        .some((l) => {
          try {
            JSON.parse(l);
            return false;
          } catch {
            return true;
          }
        }),
    );
    sim.world.faults.add({ service: "github-api", kind: "html", times: 1 });
    const html = await attempt(release);
    assert.ok("status" in html && html.status === 502);
    assert.match(html.type ?? "", /^text\/html/);
    assert.match(html.text, /<html>/);
    sim.world.faults.add({ service: "github-api", kind: "html", jsonContentType: true, times: 1 });
    const lying = await attempt(release);
    assert.ok("status" in lying && lying.status === 503);
    assert.match(lying.type ?? "", /^application\/json/);
    assert.equal(
      lying.text,
      "<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>",
    );
  });

  it("counts faulted requests in stats, logs them, and tracks peak concurrency and latency", async () => {
    sim.stats.reset();
    sim.world.faults.add({ service: "npm", kind: "503", times: 1 });
    await get(npm);
    await get(npm);
    const s = sim.stats.services.npm;
    assert.equal(s.requests, 2);
    assert.deepEqual(s.byStatus, { 200: 1, 503: 1 });
    assert.equal(sim.stats.log[0]?.fault, "503");
    assert.equal(sim.stats.log[1]?.fault, null);
    sim.setLatency(400);
    const started = Date.now();
    await Promise.all([get(npm), get(npm), get(npm), get(npm)]);
    const slow = Date.now() - started;
    assert.ok(slow >= 395, `${slow}ms`);
    assert.equal(sim.stats.peakConcurrency.npm, 4);
    sim.setLatency(0);
    const quick = Date.now();
    await get(npm);
    assert.ok(Date.now() - quick < slow);
  });
});

describe("sim: startSim latency option and close", () => {
  it("delays every response and closes with requests still hanging", async () => {
    const sim = await startSim({ latencyMs: 100 });
    applyScenario(sim.world, "clean");
    const started = Date.now();
    assert.equal((await get(`${sim.urls.pypi}/pypi/plasmite/json`)).status, 200);
    assert.ok(Date.now() - started >= 95);
    sim.world.faults.add({ service: "npm", kind: "timeout" });
    const hanging = attempt(`${sim.urls.npm}/plasmite`, 5000);
    await new Promise((r) => setTimeout(r, 150));
    await sim.close();
    const res = await hanging;
    assert.ok("error" in res && !/TimeoutError/.test(res.error), JSON.stringify(res));
  });
});
