import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import type { Report } from "../../src/report/types.ts";
import { presentedToken, tokenMatches } from "../../src/server/auth.ts";
import { get, json, serve, type Served } from "./fixture.ts";

const TOKEN = "s3cret-token_0123456789";
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const basic = (user: string, pass: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
});

describe("status server with settings.server.token", () => {
  let s: Served;
  before(async () => {
    s = await serve({ scenario: "partial", token: TOKEN });
    await s.daemon.runCycleNow("plasmite");
  });
  after(async () => {
    await s?.close();
  });

  it("every route but /healthz needs the token: 401 with WWW-Authenticate Bearer", async () => {
    for (const path of [
      "/",
      "/projects/plasmite",
      "/api/v1/status",
      "/api/v1/projects/plasmite",
      "/metrics",
      "/readyz",
      "/badge/plasmite.svg",
    ]) {
      for (const headers of [{}, bearer("wrong"), bearer(`${TOKEN}x`), { authorization: TOKEN }]) {
        const r = await get(`${s.url}${path}`, { headers });
        assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer realm="release-monitor"/, path);
        assert.doesNotMatch(r.text, /plasmite@0\.8\.0|release_monitor_/, "nothing leaks");
      }
    }
    const api = await get(`${s.url}/api/v1/status`);
    assert.deepEqual(json(api), { error: { code: "unauthorized", message: "a valid bearer token is required" } });
    const healthz = await get(`${s.url}/healthz`);
    assert.equal(healthz.status, 200, "/healthz stays open for liveness probes");
  });

  it("the right bearer token opens every route", async () => {
    for (const path of [
      "/",
      "/projects/plasmite",
      "/api/v1/status",
      "/api/v1/projects/plasmite",
      "/metrics",
      "/readyz",
      "/badge/plasmite.svg",
    ]) {
      const r = await get(`${s.url}${path}`, { headers: bearer(TOKEN) });
      assert.equal(r.status, 200, path);
    }
  });

  it("HTML pages also accept Basic with the token as password (browsers), and offer that challenge", async () => {
    const challenge = await get(`${s.url}/`);
    assert.match(challenge.headers.get("www-authenticate") ?? "", /Basic realm="release-monitor"/);
    const page = await get(`${s.url}/`, { headers: basic("anyone", TOKEN) });
    assert.equal(page.status, 200);
    assert.match(page.text, /npm has no plasmite@0\.8\.0/);
    assert.equal((await get(`${s.url}/`, { headers: basic("anyone", "nope") })).status, 401);
  });

  it("POST check: 401 without the token, 401 with Basic, 200 with the Bearer token", async () => {
    const url = `${s.url}/api/v1/projects/plasmite/check`;
    const cycles = (await s.store.cycles("plasmite", 100)).length;
    const none = await get(url, { method: "POST" });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="release-monitor"');
    assert.equal(json<{ error: { code: string } }>(none).error.code, "unauthorized");
    const viaBasic = await get(url, { method: "POST", headers: basic("x", TOKEN) });
    assert.equal(viaBasic.status, 401, "cached browser credentials cannot trigger a check");
    assert.equal((await s.store.cycles("plasmite", 100)).length, cycles, "no cycle ran for refused requests");
    const ok = await get(url, { method: "POST", headers: bearer(TOKEN) });
    assert.equal(ok.status, 200);
    assert.equal(json<Report>(ok).project, "plasmite");
    assert.equal((await s.store.cycles("plasmite", 100)).length, cycles + 1);
  });

  it("unknown projects are not revealed to callers without the token", async () => {
    assert.equal((await get(`${s.url}/api/v1/projects/nope`)).status, 401);
    assert.equal((await get(`${s.url}/api/v1/projects/nope`, { headers: bearer(TOKEN) })).status, 404);
  });
});

describe("token parsing and comparison", () => {
  const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as never;

  it("compares in constant time over digests, whatever the lengths", () => {
    assert.equal(tokenMatches("abc", "abc"), true);
    assert.equal(tokenMatches("abc", "abd"), false);
    assert.equal(tokenMatches("abc", "abcd"), false);
    assert.equal(tokenMatches("abc", ""), false);
  });

  it("reads Bearer everywhere and Basic only where allowed", () => {
    assert.equal(presentedToken(req("Bearer t0k"), false), "t0k");
    assert.equal(presentedToken(req("bearer   t0k  "), false), "t0k");
    assert.equal(presentedToken(req("Bearer"), false), null);
    assert.equal(presentedToken(req("Bearer a b"), false), null);
    assert.equal(presentedToken(req(undefined), true), null);
    const b = `Basic ${Buffer.from("u:p:w").toString("base64")}`;
    assert.equal(presentedToken(req(b), true), "p:w");
    assert.equal(presentedToken(req(b), false), null);
    assert.equal(presentedToken(req(`Basic ${Buffer.from("nocolon").toString("base64")}`), true), null);
  });
});
