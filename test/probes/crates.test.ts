import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { AppError } from "../../src/errors.ts";
import { createHttpClient, DEFAULT_HTTP_SETTINGS } from "../../src/http/client.ts";
import { cratesIndexPath, cratesProbe, parseIndexFile } from "../../src/channels/crates/probe.ts";
import type { ProbeEndpoints } from "../../src/probes/types.ts";
import type { CratesObservation } from "../../src/channels/crates/types.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import {
  planFor,
  probeContext,
  rejects,
  serve,
  type Reply,
  type Handler,
  trackClient,
} from "../helpers/probe-harness.ts";

const context = (endpoints: ProbeEndpoints, deep = false) => probeContext(endpoints, deep);
const plan = (crate: string, version: string) => planFor(version, { crates: { crate } });

// ---------------------------------------------------------------- fixtures (see test/fixtures/cratesio/README.md)

const FIXTURES = new URL("../fixtures/cratesio/", import.meta.url);
const text = (name: string) => readFileSync(new URL(name, FIXTURES), "utf8");
/** insta snapshot: YAML front matter between `---` lines, then the JSON the server produced. */
const snap = (name: string): object => JSON.parse(text(name).replace(/^---\n[\s\S]*?\n---\n/, "")) as object;
/** The server writes one index record per line; the snapshot holds the same records as a JSON array. */
const ndjson = (records: object): string => (records as unknown[]).map((r) => JSON.stringify(r)).join("\n") + "\n";

const SHOW_VERSION = snap("integration__routes__crates__versions__read__show_by_crate_name_and_version.snap");
const YANKED_VERSION = snap("integration__krate__yanking__patch_version_yank_unyank.snap");
const INDEX_BAR = ndjson(snap("crates_io__index__tests__index_metadata-2.snap"));
const INDEX_PUBTIME = ndjson(snap("crates_io__index__tests__index_metadata_with_pubtime.snap"));
const INDEX_MYPKG = text("mypkg.sparse-index.jsonl");
const UA_REQUIRED = snap("integration__server__user_agent_is_required.snap");
const BLOCKED = snap("integration__server__block_traffic_via_ip.snap");
const NOT_FOUND = JSON.parse(text("not-found-bodies.json")) as Record<"crate_missing" | "version_missing", object>;

// ---------------------------------------------------------------- loopback server

/** Like crates.io: API paths (except `…/download`) need a non-empty User-Agent. */
function requireUserAgent(next: Handler): Handler {
  return (req, base) => {
    const ua = req.headers["user-agent"];
    if (!req.path.endsWith("/download") && (!ua || ua.trim() === "")) return { status: 403, body: UA_REQUIRED };
    return next(req, base);
  };
}

// ---------------------------------------------------------------- harness

function endpointsFor(api: string, index: string): ProbeEndpoints {
  return { crates: { api, index } };
}

/** One server for API and index (index under /index), like the two crates.io hosts. */
async function registry(routes: Record<string, Reply | (() => Reply)>) {
  const srv = await serve(
    requireUserAgent((req) => {
      const r = routes[req.path];
      if (r === undefined) return { status: 404, body: NOT_FOUND.crate_missing };
      return typeof r === "function" ? r() : r;
    }),
  );
  return { srv, endpoints: endpointsFor(srv.base, `${srv.base}/index`) };
}

// ---------------------------------------------------------------- tests

describe("cratesIndexPath", () => {
  const cases: [string, string][] = [
    ["a", "1/a"],
    ["ab", "2/ab"],
    ["abc", "3/a/abc"],
    ["Abc", "3/a/abc"],
    ["libc", "li/bc/libc"],
    ["sentry", "se/nt/sentry"],
    ["base64", "ba/se/base64"],
    ["Serde_JSON", "se/rd/serde_json"],
    ["plasmite", "pl/as/plasmite"],
  ];
  for (const [name, path] of cases) it(`${name} -> ${path}`, () => assert.equal(cratesIndexPath(name), path));
});

describe("crates probe: API version object", () => {
  it("reads the version object and the index concurrently, sending our User-Agent", async () => {
    const { srv, endpoints } = await registry({
      "/api/v1/crates/foo_vers_show/2.0.0": { status: 200, body: SHOW_VERSION },
      "/index/fo/o_/foo_vers_show": { status: 200, body: INDEX_PUBTIME },
    });
    const { ctx, evidence } = context(endpoints);
    const obs = await cratesProbe.observe(plan("foo_vers_show", "2.0.0"), ctx);
    await srv.close();

    assert.deepEqual(obs.api_version, {
      num: "2.0.0",
      checksum: "c241cd77c3723ccf1aa453f169ee60c0a888344da504bee0142adb859092acb4",
      yanked: false,
      yank_message: null,
      created_at: "[datetime]",
    });
    assert.deepEqual(obs.index, {
      found: true,
      entries: [
        { vers: "1.0.0", cksum: "0".repeat(64), yanked: false, pubtime: "2020-01-01T00:00:00Z" },
        { vers: "2.0.0", cksum: "0".repeat(64), yanked: false, pubtime: "2020-02-01T00:00:00Z" },
      ],
    });
    assert.equal(obs.download, null);
    assert.equal(obs.crate, "foo_vers_show");
    assert.deepEqual(srv.seen.map((s) => s.path).sort(), [
      "/api/v1/crates/foo_vers_show/2.0.0",
      "/index/fo/o_/foo_vers_show",
    ]);
    for (const s of srv.seen) assert.equal(s.headers["user-agent"], DEFAULT_HTTP_SETTINGS.user_agent);
    assert.deepEqual(
      evidence.map((e) => e.status),
      [200, 200],
    );
  });

  it("records a yanked version with its message", async () => {
    const { srv, endpoints } = await registry({
      "/api/v1/crates/patchable/1.0.0": { status: 200, body: YANKED_VERSION },
      "/index/pa/tc/patchable": {
        status: 200,
        body:
          JSON.stringify({
            name: "patchable",
            vers: "1.0.0",
            deps: [],
            cksum: "d4".repeat(32),
            features: {},
            yanked: true,
          }) + "\n",
      },
    });
    const obs = await cratesProbe.observe(plan("patchable", "1.0.0"), context(endpoints).ctx);
    await srv.close();
    assert.equal(obs.api_version?.yanked, true);
    assert.equal(obs.api_version?.yank_message, "Yanking reason");
    assert.equal(obs.api_version?.checksum, "d4d2d515985c394dc9fa95c56b935ab0805f6dfbd91a6dc99af9d316dff96dc0");
    assert.deepEqual(
      obs.index.entries.map((e) => [e.vers, e.yanked]),
      [["1.0.0", true]],
    );
  });

  for (const [label, body] of Object.entries(NOT_FOUND)) {
    it(`404 (${label}) is api_version null, not an error`, async () => {
      const { srv, endpoints } = await registry({
        "/api/v1/crates/mypkg/9.9.9": { status: 404, body },
        "/index/my/pk/mypkg": { status: 200, body: INDEX_MYPKG },
      });
      const obs = await cratesProbe.observe(plan("mypkg", "9.9.9"), context(endpoints).ctx);
      await srv.close();
      assert.equal(obs.api_version, null);
      assert.equal(obs.index.found, true);
      assert.equal(obs.index.entries.length, 2);
    });
  }

  /** An API failure leaves the index verdict standing: the observation names why the API answer is missing. */
  async function apiRefused(observation: Promise<CratesObservation>, reason: RegExp): Promise<void> {
    const obs = await observation;
    assert.equal(obs.index.found, true);
    assert.equal(obs.api_version, null);
    assert.equal(obs.api_pending?.deadline, false);
    assert.match(obs.api_pending?.reason ?? "", reason);
  }

  it("a 403 asking for a User-Agent is named as why the API answer is missing", async () => {
    const { srv, endpoints } = await registry({
      "/api/v1/crates/mypkg/0.1.0": { status: 403, body: UA_REQUIRED },
      "/index/my/pk/mypkg": { status: 200, body: INDEX_MYPKG },
    });
    await apiRefused(
      cratesProbe.observe(plan("mypkg", "0.1.0"), context(endpoints).ctx),
      /HTTP 403.*User-Agent.*settings\.http\.user_agent/s,
    );
    await srv.close();
  });

  it("a 403 data-access block names the policy as why the API answer is missing, not 'not found'", async () => {
    const { srv, endpoints } = await registry({
      "/api/v1/crates/mypkg/0.1.0": { status: 403, body: BLOCKED },
      "/index/my/pk/mypkg": { status: 200, body: INDEX_MYPKG },
    });
    await apiRefused(
      cratesProbe.observe(plan("mypkg", "0.1.0"), context(endpoints).ctx),
      /HTTP 403.*data access policy/,
    );
    await srv.close();
  });

  it("an empty User-Agent gets crates.io's 403 (the fake enforces the rule the probe relies on)", async () => {
    const { srv, endpoints } = await registry({ "/api/v1/crates/mypkg/0.1.0": { status: 200, body: SHOW_VERSION } });
    const root = createHttpClient({
      settings: { ...DEFAULT_HTTP_SETTINGS, user_agent: "", retries: 0 },
      secrets: new SecretRegistry(),
    });
    trackClient(root);
    const { ctx } = context(endpoints);
    await rejects(cratesProbe.observe(plan("mypkg", "0.1.0"), { ...ctx, http: root }), "E_HTTP_STATUS", /User-Agent/);
    await srv.close();
  });

  it("a persistent 500 is why the API answer is missing, after the client's retries", async () => {
    const { srv, endpoints } = await registry({
      "/api/v1/crates/mypkg/0.1.0": { status: 500, body: "internal error" },
      "/index/my/pk/mypkg": { status: 200, body: INDEX_MYPKG },
    });
    await apiRefused(cratesProbe.observe(plan("mypkg", "0.1.0"), context(endpoints).ctx), /HTTP 500/);
    await srv.close();
    assert.equal(srv.seen.filter((s) => s.path.startsWith("/api/")).length, 2);
  });

  it("a non-JSON 200 is reported as malformed, naming the URL", async () => {
    const { srv, endpoints } = await registry({
      "/api/v1/crates/mypkg/0.1.0": { status: 200, body: "<html>maintenance</html>" },
      "/index/my/pk/mypkg": { status: 200, body: INDEX_MYPKG },
    });
    await apiRefused(
      cratesProbe.observe(plan("mypkg", "0.1.0"), context(endpoints).ctx),
      /\/api\/v1\/crates\/mypkg\/0\.1\.0: body is not JSON/,
    );
    await srv.close();
  });

  it("a version object without checksum is reported as malformed, naming the field", async () => {
    const broken = structuredClone(SHOW_VERSION) as { version: Record<string, unknown> };
    delete broken.version["checksum"];
    const { srv, endpoints } = await registry({
      "/api/v1/crates/foo_vers_show/2.0.0": { status: 200, body: broken },
      "/index/fo/o_/foo_vers_show": { status: 200, body: INDEX_PUBTIME },
    });
    await apiRefused(cratesProbe.observe(plan("foo_vers_show", "2.0.0"), context(endpoints).ctx), /version\.checksum/);
    await srv.close();
  });
});

describe("crates probe: sparse index", () => {
  it("keeps publish order, yanked pre-releases and missing pubtime as null", async () => {
    const { srv, endpoints } = await registry({
      "/api/v1/crates/bar/2.0.0": { status: 404, body: NOT_FOUND.version_missing },
      "/index/3/b/bar": { status: 200, body: INDEX_BAR },
    });
    const obs = await cratesProbe.observe(plan("bar", "2.0.0"), context(endpoints).ctx);
    await srv.close();
    assert.deepEqual(
      obs.index.entries.map((e) => [e.vers, e.yanked, e.pubtime]),
      [
        ["1.0.0-beta.1", true, null],
        ["1.0.0", false, null],
        ["2.0.0", false, null],
        ["1.0.1", false, null],
      ],
    );
    assert.equal(obs.index.entries[3]?.cksum, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  });

  it("sees a yank flip in place: same line, same position, yanked now true", async () => {
    let body = INDEX_MYPKG;
    const { srv, endpoints } = await registry({
      "/api/v1/crates/mypkg/0.1.1": { status: 404, body: NOT_FOUND.version_missing },
      "/index/my/pk/mypkg": () => ({ status: 200, body }),
    });
    const before = await cratesProbe.observe(plan("mypkg", "0.1.1"), context(endpoints).ctx);
    const lines = INDEX_MYPKG.trimEnd().split("\n");
    lines[1] = lines[1]!.replace('"yanked":false', '"yanked":true');
    body = lines.join("\n") + "\n";
    const afterFlip = await cratesProbe.observe(plan("mypkg", "0.1.1"), context(endpoints).ctx);
    await srv.close();
    assert.deepEqual(
      before.index.entries.map((e) => [e.vers, e.yanked]),
      [
        ["0.1.0", false],
        ["0.1.1", false],
      ],
    );
    assert.deepEqual(
      afterFlip.index.entries.map((e) => [e.vers, e.yanked]),
      [
        ["0.1.0", false],
        ["0.1.1", true],
      ],
    );
    assert.equal(afterFlip.index.entries[1]?.cksum, before.index.entries[1]?.cksum);
  });

  it("keeps build metadata in versions as published", async () => {
    const withMeta = INDEX_MYPKG.replace('"vers":"0.1.1"', '"vers":"0.1.1+metadata"');
    const { srv, endpoints } = await registry({
      "/api/v1/crates/mypkg/0.1.1": { status: 404, body: NOT_FOUND.version_missing },
      "/index/my/pk/mypkg": { status: 200, body: withMeta },
    });
    const obs = await cratesProbe.observe(plan("mypkg", "0.1.1"), context(endpoints).ctx);
    await srv.close();
    assert.deepEqual(
      obs.index.entries.map((e) => e.vers),
      ["0.1.0", "0.1.1+metadata"],
    );
  });

  for (const status of [404, 410, 451]) {
    it(`index ${status} is found: false`, async () => {
      const { srv, endpoints } = await registry({
        "/api/v1/crates/nope/1.0.0": { status: 404, body: NOT_FOUND.crate_missing },
        "/index/no/pe/nope": { status, body: "not found" },
      });
      const obs = await cratesProbe.observe(plan("nope", "1.0.0"), context(endpoints, true).ctx);
      await srv.close();
      assert.deepEqual(obs.index, { found: false, entries: [] });
      assert.equal(obs.api_version, null);
      assert.equal(obs.download, null, "nothing to download when neither source has the version");
      assert.ok(!srv.seen.some((s) => s.path.endsWith("/download")));
    });
  }

  it("an index 403 is an AppError, not 'not found'", async () => {
    const { srv, endpoints } = await registry({
      "/api/v1/crates/mypkg/0.1.0": { status: 404, body: NOT_FOUND.version_missing },
      "/index/my/pk/mypkg": { status: 403, body: "Forbidden" },
    });
    await rejects(cratesProbe.observe(plan("mypkg", "0.1.0"), context(endpoints).ctx), "E_HTTP_STATUS", /HTTP 403/);
    await srv.close();
  });

  it("a malformed line is E_UPSTREAM_MALFORMED naming the line number", async () => {
    const truncated = INDEX_MYPKG + '{"name":"mypkg","vers":"0.1.2","deps":[],"cks\n';
    const { srv, endpoints } = await registry({
      "/api/v1/crates/mypkg/0.1.0": { status: 200, body: SHOW_VERSION },
      "/index/my/pk/mypkg": { status: 200, body: truncated },
    });
    await rejects(
      cratesProbe.observe(plan("mypkg", "0.1.0"), context(endpoints).ctx),
      "E_UPSTREAM_MALFORMED",
      /\/index\/my\/pk\/mypkg: line 3 is not JSON/,
    );
    await srv.close();
  });

  it("a record missing cksum names the line and the field", () => {
    const bad = INDEX_MYPKG.replace(/"cksum":"[0-9a-f]+",/, "");
    assert.throws(
      () => parseIndexFile(bad, "http://index.test/my/pk/mypkg"),
      (err: unknown) =>
        err instanceof AppError && err.code === "E_UPSTREAM_MALFORMED" && /line 1: cksum/.test(err.message),
    );
  });

  it("blank lines and CRLF endings are tolerated", () => {
    const entries = parseIndexFile(INDEX_MYPKG.replace(/\n/g, "\r\n") + "\r\n\r\n", "http://index.test/x");
    assert.deepEqual(
      entries.map((e) => e.vers),
      ["0.1.0", "0.1.1"],
    );
  });
});

describe("crates probe: --deep download", () => {
  const ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  it("follows the 302 to the static host and hashes the .crate", async () => {
    const staticHost = await serve((req) =>
      req.path === "/crates/foo_vers_show/foo_vers_show-2.0.0.crate" ? { status: 200, body: "abc" } : { status: 404 },
    );
    const { srv, endpoints } = await registry({
      "/api/v1/crates/foo_vers_show/2.0.0": { status: 200, body: SHOW_VERSION },
      "/index/fo/o_/foo_vers_show": { status: 200, body: INDEX_PUBTIME },
      "/api/v1/crates/foo_vers_show/2.0.0/download": {
        status: 302,
        headers: { location: `${staticHost.base}/crates/foo_vers_show/foo_vers_show-2.0.0.crate` },
      },
    });
    const { ctx, evidence } = context(endpoints, true);
    const obs = await cratesProbe.observe(plan("foo_vers_show", "2.0.0"), ctx);
    await srv.close();
    await staticHost.close();
    assert.deepEqual(obs.download, { sha256: ABC_SHA256, bytes: 3 });
    assert.equal(staticHost.seen.length, 1);
    assert.ok(evidence.some((e) => e.status === 302 && e.url.endsWith("/download")));
  });

  it("hashes a multi-chunk body exactly", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const expected = createHash("sha256").update(big).digest("hex");
    const staticHost = await serve(() => ({ status: 200, body: big }));
    const { srv, endpoints } = await registry({
      "/api/v1/crates/foo_vers_show/2.0.0": { status: 200, body: SHOW_VERSION },
      "/index/fo/o_/foo_vers_show": { status: 200, body: INDEX_PUBTIME },
      "/api/v1/crates/foo_vers_show/2.0.0/download": {
        status: 302,
        headers: { location: `${staticHost.base}/c.crate` },
      },
    });
    const obs = await cratesProbe.observe(plan("foo_vers_show", "2.0.0"), context(endpoints, true).ctx);
    await srv.close();
    await staticHost.close();
    assert.deepEqual(obs.download, { sha256: expected, bytes: big.length });
  });

  it("downloads the version as the index spells it when the API lags (build metadata)", async () => {
    const withMeta = INDEX_MYPKG.replace('"vers":"0.1.1"', '"vers":"0.1.1+metadata"');
    const staticHost = await serve(() => ({ status: 200, body: "abc" }));
    const { srv, endpoints } = await registry({
      "/api/v1/crates/mypkg/0.1.1": { status: 404, body: NOT_FOUND.version_missing },
      "/index/my/pk/mypkg": { status: 200, body: withMeta },
      "/api/v1/crates/mypkg/0.1.1%2Bmetadata/download": {
        status: 302,
        headers: { location: `${staticHost.base}/crates/mypkg/mypkg-0.1.1+metadata.crate` },
      },
    });
    const obs = await cratesProbe.observe(plan("mypkg", "0.1.1"), context(endpoints, true).ctx);
    await srv.close();
    await staticHost.close();
    assert.deepEqual(obs.download, { sha256: ABC_SHA256, bytes: 3 });
  });

  it("a static host 404 for a version crates.io lists is an AppError", async () => {
    const staticHost = await serve(() => ({ status: 404, body: "NoSuchKey" }));
    const { srv, endpoints } = await registry({
      "/api/v1/crates/foo_vers_show/2.0.0": { status: 200, body: SHOW_VERSION },
      "/index/fo/o_/foo_vers_show": { status: 200, body: INDEX_PUBTIME },
      "/api/v1/crates/foo_vers_show/2.0.0/download": {
        status: 302,
        headers: { location: `${staticHost.base}/x.crate` },
      },
    });
    await rejects(
      cratesProbe.observe(plan("foo_vers_show", "2.0.0"), context(endpoints, true).ctx),
      "E_HTTP_STATUS",
      /HTTP 404 for the \.crate download/,
    );
    await srv.close();
    await staticHost.close();
  });

  it("without --deep nothing is downloaded", async () => {
    const { srv, endpoints } = await registry({
      "/api/v1/crates/foo_vers_show/2.0.0": { status: 200, body: SHOW_VERSION },
      "/index/fo/o_/foo_vers_show": { status: 200, body: INDEX_PUBTIME },
    });
    const obs = await cratesProbe.observe(plan("foo_vers_show", "2.0.0"), context(endpoints, false).ctx);
    await srv.close();
    assert.equal(obs.download, null);
    assert.ok(!srv.seen.some((s) => s.path.endsWith("/download")));
  });
});
