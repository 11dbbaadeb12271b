import { strict as assert } from "node:assert";
import { request } from "node:http";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Incident } from "../../src/alerts/types.ts";
import { REPORT_SCHEMA, type Report } from "../../src/report/types.ts";
import { MAX_BODY_BYTES } from "../../src/server/index.ts";
import type { ProjectDetail, StatusSnapshot } from "../../src/server/view.ts";
import { get, json, serve, type Served } from "./fixture.ts";

/** A raw request (node:http), for bodies and headers fetch will not send. */
function raw(
  base: string,
  o: { method: string; path: string; headers?: Record<string, string | number>; body?: Buffer | Buffer[] },
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${o.path}`, { method: o.method, headers: o.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    // The server may answer (413) and close before the whole body is written: that is the point.
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
    });
    const parts = o.body === undefined ? [] : Array.isArray(o.body) ? o.body : [o.body];
    for (const p of parts) req.write(p);
    req.end();
  });
}

/** Sends bytes on a plain socket and returns the status line. */
function rawSocket(base: string, payload: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname, () => sock.write(payload));
    let data = "";
    sock.on("data", (d: Buffer) => (data += d.toString("latin1")));
    sock.on("end", () => resolve(data.split("\r\n")[0] ?? ""));
    sock.on("error", (err: NodeJS.ErrnoException) =>
      err.code === "ECONNRESET" ? resolve(data.split("\r\n")[0] ?? "") : reject(err),
    );
  });
}

describe("status server: every route against a daemon watching a partial release", () => {
  let s: Served;
  let first: Report;
  before(async () => {
    s = await serve({ scenario: "partial" });
    first = await s.daemon.runCycleNow("plasmite");
  });
  after(async () => {
    await s?.close();
  });

  it("the cycle saw the partial release: npm, PyPI and the formula drift", () => {
    assert.equal(first.status, "drift");
    assert.deepEqual(Object.fromEntries(first.channels.map((c) => [c.channel, c.status])), {
      github: "ok",
      crates: "ok",
      npm: "drift",
      pypi: "drift",
      homebrew: "drift",
    });
  });

  it("GET / is the status page: matrix with text labels, incidents, timeline, times; self-contained", async () => {
    const r = await get(`${s.url}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/html; charset=utf-8/);
    assert.match(r.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    const page = r.text;
    assert.match(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(page, /<meta http-equiv="refresh" content="30">/);
    assert.doesNotMatch(page, /<script/i, "no JavaScript");
    assert.doesNotMatch(page, /<link\b|\bsrc="|@import|url\(http/i, "nothing loaded from elsewhere");
    // One cell per channel, each with the colour class AND the text label.
    for (const [channel, status] of [
      ["github", "ok"],
      ["crates", "ok"],
      ["npm", "drift"],
      ["pypi", "drift"],
      ["homebrew", "drift"],
    ]) {
      const cell = new RegExp(
        `<td data-label="${channel}" class="cell-${channel}"><div><span class="st st-${status}">${status}</span>`,
      );
      assert.match(page, cell, `${channel} cell shows ${status}`);
    }
    assert.match(page, /live for \d+s/, "time since the live channels went live");
    assert.match(page, /Open incidents \(3\)/);
    assert.match(page, /npm has no plasmite@0\.8\.0/);
    assert.match(page, /<dt>expected<\/dt><dd><code>0\.8\.0<\/code><\/dd><dt>actual<\/dt><dd><code>not found<\/code>/);
    assert.match(
      page,
      /<a href="http:\/\/127\.0\.0\.1:\d+\/plasmite\/0\.8\.0" rel="noopener noreferrer nofollow">/,
      "evidence link",
    );
    assert.match(page, /Recent releases: propagation/);
    assert.match(page, /≤ \+1h 0\dm/, "github/crates live at the first check, an hour after publication");
    assert.match(page, /not live yet/);
    assert.match(page, /last <time datetime="[^"]+"[^>]*>\d+s ago<\/time>/, "last check");
    assert.match(
      page,
      /next <span class="na">not scheduled<\/span>|next <time datetime="[^"]+"[^>]*>in /,
      "next check",
    );
  });

  it("HEAD / answers the headers without a body", async () => {
    const r = await raw(s.url, { method: "HEAD", path: "/" });
    assert.equal(r.status, 200);
    assert.equal(r.text, "");
    assert.ok(Number(r.headers["content-length"]) > 1000);
  });

  it("GET /projects/plasmite shows every channel's observation, findings, evidence and the incident history", async () => {
    const r = await get(`${s.url}/projects/plasmite`);
    assert.equal(r.status, 200);
    const page = r.text;
    for (const c of ["github", "crates", "npm", "pypi", "homebrew"])
      assert.match(page, new RegExp(`id="channel-${c}"`));
    assert.match(page, /v0\.8\.0 latest, 3\/3 assets, sums ok/, "github summary");
    assert.match(page, /<code>version-missing<\/code>/);
    assert.match(page, /formula sandover\/homebrew-tap:Formula\/plasmite\.rb@main is at 0\.7\.2, expected 0\.8\.0/);
    assert.match(page, /&quot;latest&quot;: &quot;0\.7\.2&quot;/, "observed JSON, escaped");
    assert.match(page, /<code>GET<\/code> <a href="http:\/\/127\.0\.0\.1:\d+\/plasmite\/0\.8\.0"/, "evidence table");
    assert.match(page, /Incidents \(3 open, 0 resolved\)/);
    assert.match(page, /<span class="st st-open">open<\/span>/);
    assert.match(page, /Status changes of v0\.8\.0/);
    assert.match(page, /Recent checks/);
    assert.match(
      page,
      /<dt>provenance<\/dt><dd><span class="st st-ok">ok<\/span> built by release\.yml@refs\/tags\/v0\.8\.0 from [0-9a-f]{7} \(verified\)<\/dd>/,
      "the github card's provenance row",
    );
  });

  it("GET /api/v1/status embeds the report@1 objects as they are, with incidents, times and next check", async () => {
    const r = await get(`${s.url}/api/v1/status`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    const body = json<StatusSnapshot>(r);
    assert.equal(body.schema, "release-monitor/status@1");
    assert.equal(body.daemon.running, true);
    assert.ok(body.daemon.last_successful_cycle_at);
    const p = body.projects[0]!;
    assert.equal(p.project, "plasmite");
    assert.deepEqual(p.report, s.store.latestReport("plasmite"));
    assert.equal(p.report?.schema, REPORT_SCHEMA);
    assert.ok(p.last_check_at && p.next_check_at, "last and next check");
    assert.deepEqual(
      p.open_incidents.map((i: Incident) => i.id),
      [
        "plasmite|v0.8.0|homebrew|formula-version-mismatch|Formula/plasmite.rb",
        "plasmite|v0.8.0|npm|version-missing|0.8.0",
        "plasmite|v0.8.0|pypi|version-missing|0.8.0",
      ],
    );
    const release = p.releases[0]!;
    assert.equal(release.tag, "v0.8.0");
    const npm = release.channels.find((c) => c.channel === "npm")!;
    assert.deepEqual([npm.status, npm.live_at, npm.delay_seconds], ["drift", null, null]);
    const github = release.channels.find((c) => c.channel === "github")!;
    assert.equal(github.delay_is_upper_bound, true);
    assert.ok(github.delay_seconds! >= 3600 && github.delay_seconds! < 3700, String(github.delay_seconds));
    assert.deepEqual(p.channels_configured, ["github", "crates", "npm", "pypi", "homebrew"]);
    // The provenance block, at the project level too: GitHub's assets verified against the sim's trusted root.
    assert.deepEqual(p.provenance, p.report?.provenance);
    assert.deepEqual(
      p.provenance?.channels.map((c) => c.channel),
      ["github", "crates", "npm", "pypi", "homebrew"],
    );
    const gh = p.provenance?.channels.find((c) => c.channel === "github");
    assert.deepEqual([gh?.status, gh?.signature, gh?.workflow], ["ok", "verified", ".github/workflows/release.yml"]);
  });

  it("GET /api/v1/projects/plasmite: the project, its report, history, every incident and recent cycles", async () => {
    const r = await get(`${s.url}/api/v1/projects/plasmite`);
    assert.equal(r.status, 200);
    const body = json<ProjectDetail>(r);
    assert.equal(body.schema, "release-monitor/project@1");
    assert.deepEqual(body.project.report, s.store.latestReport("plasmite"));
    assert.deepEqual(body.project.provenance, body.project.report?.provenance ?? null);
    assert.ok(body.project.provenance, "the project detail has the provenance block");
    assert.equal(body.incidents.length, 3);
    assert.equal(body.channel_history.length, 5);
    assert.ok(body.cycles.length >= 1);
    assert.equal(body.cycles[0]?.outcome, "ok");
  });

  it("unknown project: 404 with a JSON error on /api and /badge, an HTML page on /projects", async () => {
    for (const path of ["/api/v1/projects/nope", "/badge/nope.svg", "/badge/plasmite", "/api/v1/nope"]) {
      const r = await get(`${s.url}${path}`);
      assert.equal(r.status, 404, path);
      assert.match(r.headers.get("content-type") ?? "", /^application\/json/, path);
      assert.equal(json<{ error: { code: string; message: string } }>(r).error.code, "not_found", path);
    }
    const post = await get(`${s.url}/api/v1/projects/nope/check`, { method: "POST" });
    assert.equal(post.status, 404);
    assert.equal(json<{ error: { code: string } }>(post).error.code, "not_found");
    const html = await get(`${s.url}/projects/nope`);
    assert.equal(html.status, 404);
    assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(html.text, /No project named &quot;nope&quot;/);
  });

  it("POST /api/v1/projects/plasmite/check runs a cycle now and returns its report (no token configured)", async () => {
    const before = s.store.cycles("plasmite", 100).length;
    const r = await get(`${s.url}/api/v1/projects/plasmite/check`, { method: "POST" });
    assert.equal(r.status, 200);
    const report = json<Report>(r);
    assert.equal(report.schema, REPORT_SCHEMA);
    assert.equal(report.tag, "v0.8.0");
    assert.ok(report.checked_at > first.checked_at, "a new cycle");
    assert.equal(s.store.cycles("plasmite", 100).length, before + 1);
    assert.equal(s.store.cycles("plasmite", 1)[0]?.trigger, "manual");
  });

  it("two checks at once share one cycle (the second waits for the running one: never 409)", async () => {
    const before = s.store.cycles("plasmite", 100).length;
    const [a, b] = await Promise.all([
      get(`${s.url}/api/v1/projects/plasmite/check`, { method: "POST" }),
      get(`${s.url}/api/v1/projects/plasmite/check`, { method: "POST" }),
    ]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.equal(json<Report>(a).checked_at, json<Report>(b).checked_at);
    assert.equal(s.store.cycles("plasmite", 100).length, before + 1);
  });

  it("a POST from another site's page (foreign Origin) is refused", async () => {
    const r = await raw(s.url, {
      method: "POST",
      path: "/api/v1/projects/plasmite/check",
      headers: { origin: "https://evil.example" },
    });
    assert.equal(r.status, 403);
    assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, "forbidden");
  });

  it("/healthz and /readyz", async () => {
    const h = await get(`${s.url}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(json(h)["status"], "ok");
    const r = await get(`${s.url}/readyz`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(json(r)["checks"], { state: true, scheduler: true, fresh: true });
  });

  it("/badge/plasmite.svg lists the drifted channels on red", async () => {
    const r = await get(`${s.url}/badge/plasmite.svg`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^image\/svg\+xml/);
    assert.match(r.text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="20"/);
    assert.match(r.text, /<title>release v0\.8\.0: drift: npm, pypi, homebrew<\/title>/);
    assert.match(r.text, /fill="#e05d44"/);
  });

  it("/metrics answers the Prometheus text format", async () => {
    const r = await get(`${s.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, /^release_monitor_channel_status\{project="plasmite",channel="npm",status="drift"\} 1$/m);
  });

  it("methods other than GET/HEAD (and POST on /check) get 405 with Allow", async () => {
    for (const [method, path, allow] of [
      ["DELETE", "/", "GET, HEAD"],
      ["PUT", "/api/v1/status", "GET, HEAD"],
      ["POST", "/metrics", "GET, HEAD"],
      ["OPTIONS", "/healthz", "GET, HEAD"],
      ["GET", "/api/v1/projects/plasmite/check", "POST"],
      ["PATCH", "/badge/plasmite.svg", "GET, HEAD"],
    ] as const) {
      const r = await raw(s.url, { method, path });
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers["allow"], allow, `${method} ${path}`);
    }
    const html = await raw(s.url, { method: "DELETE", path: "/projects/plasmite" });
    assert.equal(html.status, 405);
    assert.match(String(html.headers["content-type"]), /^text\/html/);
  });

  it("bodies over the limit get 413, declared or chunked", async () => {
    const big = Buffer.alloc(64 * 1024, 0x61);
    const declared = await raw(s.url, {
      method: "POST",
      path: "/api/v1/projects/plasmite/check",
      headers: { "content-type": "application/json", "content-length": big.byteLength },
      body: big,
    });
    assert.equal(declared.status, 413);
    assert.equal((JSON.parse(declared.text) as { error: { code: string } }).error.code, "payload_too_large");
    const chunked = await raw(s.url, {
      method: "POST",
      path: "/api/v1/projects/plasmite/check",
      headers: { "transfer-encoding": "chunked" },
      body: [Buffer.alloc(MAX_BODY_BYTES, 0x62), Buffer.alloc(MAX_BODY_BYTES, 0x63)],
    });
    assert.equal(chunked.status, 413);
    const onGet = await raw(s.url, {
      method: "GET",
      path: "/",
      headers: { "content-length": big.byteLength },
      body: big,
    });
    assert.equal(onGet.status, 413);
  });

  it("over-long URLs get 414 and over-large headers 431", async () => {
    const longUrl = await get(`${s.url}/projects/${"a".repeat(3000)}`);
    assert.equal(longUrl.status, 414);
    const line = await rawSocket(s.url, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`);
    assert.equal(line, "HTTP/1.1 431 Request Header Fields Too Large");
  });

  it("paths never reach the filesystem: traversal attempts are plain 404s", async () => {
    for (const path of [
      "/etc/passwd",
      "/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/projects/..%2f..%2fetc%2fpasswd",
      "/static/../package.json",
      "/src/server/index.ts",
    ]) {
      const r = await raw(s.url, { method: "GET", path });
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.text, /root:|"dependencies"|import /, path);
    }
    const bad = await raw(s.url, { method: "GET", path: "/projects/%E0%A4%A" });
    assert.equal(bad.status, 400);
  });

  it("keeps answering under load: 300 concurrent requests at / and /metrics all succeed", async () => {
    const paths = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? "/" : "/metrics"));
    const results = await Promise.all(paths.map((p) => get(`${s.url}${p}`)));
    const statuses = results.map((r) => r.status);
    assert.deepEqual(
      statuses.filter((x) => x !== 200),
      [],
    );
    assert.ok(
      results.every((r, i) => (paths[i] === "/" ? r.text.includes("</html>") : r.text.includes("release_monitor_"))),
    );
  });
});

describe("status server: readiness", () => {
  it("/readyz is 503 with a JSON reason while the scheduler is not running", async () => {
    const s = await serve({ scenario: "partial", start: false });
    try {
      const r = await get(`${s.url}/readyz`);
      assert.equal(r.status, 503);
      const body = json<{ ready: boolean; reason: string }>(r);
      assert.equal(body.ready, false);
      assert.equal(body.reason, "the scheduler is not running");
      assert.equal((await get(`${s.url}/healthz`)).status, 200, "the process is still up");
    } finally {
      await s.close();
    }
  });
});
