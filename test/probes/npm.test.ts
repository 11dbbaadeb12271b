import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type IncomingHttpHeaders } from "node:http";
import { describe, it } from "node:test";
import { ABBREVIATED_ACCEPT, encodePackageName, npmProbe } from "../../src/channels/npm/probe.ts";
import {
  endpointsAt,
  planFor,
  probeContext,
  rejects,
  serve,
  type Reply,
  type Handler,
} from "../helpers/probe-harness.ts";

const context = (base: string, deep = false) => probeContext(endpointsAt(base), deep);
const plan = (pkg: string, version: string) => planFor(version, { npm: { package: pkg } });

// ---------------------------------------------------------------- fixtures (see test/fixtures/npm/README.md)

const FIXTURES = new URL("../fixtures/npm/", import.meta.url);
const text = (name: string) => readFileSync(new URL(name, FIXTURES), "utf8");
const json = <T = Record<string, unknown>>(name: string): T => JSON.parse(text(name)) as T;

type Doc = Record<string, unknown> & { dist?: Record<string, unknown> };
const TINY_FULL = json("tiny-tarball.Packument.json");
const TINY_ABBREV = json("tiny-tarball.abbreviated-install-v1.Manifest.json");
const TINY_V1 = json<Doc>("tiny-tarball@1.0.0.PackumentVersion.json");
const NOT_LICENSED_ABBREV = json("not-licensed.abbreviated-install-v1.Manifest.json");
const NOT_LICENSED_V1 = json<Doc>("not-licensed@1.0.0.PackumentVersion.json");
const UUID_002 = json<Doc>("uuid@0.0.2.PackumentVersion.json");
const UUID_141 = json<Doc>("uuid@1.4.1.PackumentVersion.json");
/** The 404 body of the 2015 capture: the JSON after the HTTP headers. */
const UNPUBLISHED_STUB = JSON.parse(
  text("npm-registry.example_404_unpublished-package_2015_npm-npm-issue-10911.txt").slice(
    text("npm-registry.example_404_unpublished-package_2015_npm-npm-issue-10911.txt").indexOf("\n{\n") + 1,
  ),
) as Record<string, unknown>;

/** The abbreviated packument the registry builds from version documents (fields per registry-contracts §3.1). */
function abbreviate(name: string, latest: string, docs: Doc[]): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (const d of docs) {
    versions[d["version"] as string] = {
      name,
      version: d["version"],
      dist: d.dist,
      ...(d["deprecated"] !== undefined ? { deprecated: d["deprecated"] } : {}),
    };
  }
  return { name, modified: "2024-05-01T00:00:00.000Z", "dist-tags": { latest }, versions };
}

function withoutIntegrity(doc: Doc): Doc {
  const copy = structuredClone(doc);
  delete copy.dist!["integrity"];
  return copy;
}

function withTarball(doc: Doc, tarball: string): Doc {
  const copy = structuredClone(doc);
  copy.dist!["tarball"] = tarball;
  return copy;
}

// ---------------------------------------------------------------- loopback server

const isAbbreviated = (h: IncomingHttpHeaders) =>
  String(h.accept ?? "").includes("application/vnd.npm.install-v1+json");

/**
 * A registry like the real one: `/{name}` gives the abbreviated packument when asked for it (else the full one),
 * `/{name}/{version}` the version document, everything else 404 `{}`.
 */
function registryHandler(
  pkgs: Record<string, { full?: object; abbreviated?: object; versions?: Record<string, object> }>,
): Handler {
  return (req) => {
    const [, first = "", second] = /^\/([^/]+)(?:\/([^/]+))?$/.exec(req.path) ?? [];
    const pkg = pkgs[first];
    if (!pkg) return { status: 404, body: {} };
    if (second === undefined) {
      const doc = isAbbreviated(req.headers) ? (pkg.abbreviated ?? pkg.full) : pkg.full;
      return doc ? { status: 200, body: doc } : { status: 404, body: {} };
    }
    const v = pkg.versions?.[decodeURIComponent(second)];
    return v ? { status: 200, body: v } : { status: 404, body: `"version not found: ${decodeURIComponent(second)}"` };
  };
}

// ---------------------------------------------------------------- harness

const TINY_DOC = {
  version: "1.0.0",
  deprecated: null,
  integrity: "sha512-SxmEuEiq4d9L2UjUCyP7g3KHND65MJnsFbEwCbaoMp9NYjHjufAzIUCRaRHB+FNTwzZ1e2xjBoYobBB8pqB5IQ==",
  shasum: "bbf102d5ae73afe2c553295e0fb02230216f65b1",
  tarball: "https://npm-registry.example/tiny-tarball/-/tiny-tarball-1.0.0.tgz",
};
/** The same from the fresh version endpoint: also what provenance reads (no attestations, published by a user). */
const TINY_FRESH_DOC = { ...TINY_DOC, attestations_url: null, npm_user: { name: "bcoe", trusted_publisher: false } };

// ---------------------------------------------------------------- tests

describe("encodePackageName", () => {
  const cases: [string, string][] = [
    ["tiny-tarball", "tiny-tarball"],
    ["@biomejs/biome", "@biomejs%2fbiome"],
    ["@scope/name.js", "@scope%2fname.js"],
  ];
  for (const [name, encoded] of cases)
    it(`${name} -> ${encoded}`, () => assert.equal(encodePackageName(name), encoded));
});

describe("npm probe", () => {
  it("asks for the abbreviated packument and the fresh version document concurrently", async () => {
    const srv = await serve(
      registryHandler({
        "tiny-tarball": { full: TINY_FULL, abbreviated: TINY_ABBREV, versions: { "1.0.0": TINY_V1 } },
      }),
    );
    const { ctx, evidence } = context(srv.base);
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), ctx);
    await srv.close();

    assert.deepEqual(obs, {
      channel: "npm",
      package: "tiny-tarball",
      registry: `${srv.base}/`,
      packument_found: true,
      dist_tags: { latest: "1.0.0" },
      versions: ["1.0.0"],
      deprecated: {},
      version_doc: TINY_FRESH_DOC,
      version_doc_source: "version-endpoint",
      unpublished: null,
      packument_error: null,
      download: null,
    });
    const packumentReq = srv.seen.find((s) => s.path === "/tiny-tarball");
    assert.equal(packumentReq?.headers.accept, ABBREVIATED_ACCEPT);
    assert.ok(srv.seen.some((s) => s.path === "/tiny-tarball/1.0.0"));
    assert.equal(evidence.length, 2);
  });

  it("reads the full packument the same way when a registry ignores Accept", async () => {
    const srv = await serve(registryHandler({ "tiny-tarball": { full: TINY_FULL, versions: { "1.0.0": TINY_V1 } } }));
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.packument_found, true);
    assert.deepEqual(obs.dist_tags, { latest: "1.0.0" });
    assert.deepEqual(obs.versions, ["1.0.0"]);
    assert.deepEqual(obs.version_doc, TINY_FRESH_DOC);
  });

  it("encodes a scoped name as @scope%2fname on both requests", async () => {
    const srv = await serve(
      registryHandler({
        "@scope%2fnot-licensed": { abbreviated: NOT_LICENSED_ABBREV, versions: { "1.0.0": NOT_LICENSED_V1 } },
      }),
    );
    const obs = await npmProbe.observe(plan("@scope/not-licensed", "1.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.deepEqual(srv.seen.map((s) => s.path).sort(), ["/@scope%2fnot-licensed", "/@scope%2fnot-licensed/1.0.0"]);
    assert.equal(obs.package, "@scope/not-licensed");
    assert.equal(obs.packument_found, true);
    assert.equal(obs.version_doc?.shasum, "e0c0d3022af1e51a49d24703c9c7a0c30a0f59a8");
  });

  it("collects deprecation messages per version from the packument", async () => {
    const srv = await serve(
      registryHandler({
        uuid: { abbreviated: abbreviate("uuid", "1.4.1", [UUID_002, UUID_141]), versions: { "1.4.1": UUID_141 } },
      }),
    );
    const obs = await npmProbe.observe(plan("uuid", "1.4.1"), context(srv.base).ctx);
    await srv.close();
    const message = UUID_141["deprecated"] as string;
    assert.match(message, /Please upgrade to version 7 or higher/);
    assert.deepEqual(obs.deprecated, { "0.0.2": UUID_002["deprecated"], "1.4.1": message });
    assert.equal(obs.version_doc?.deprecated, message);
    assert.deepEqual(obs.versions, ["0.0.2", "1.4.1"]);
  });

  it("an empty deprecation string (npm's 'un-deprecate') is not a deprecation", async () => {
    const cleared = { ...UUID_141, deprecated: "" };
    const srv = await serve(
      registryHandler({
        uuid: { abbreviated: abbreviate("uuid", "1.4.1", [cleared]), versions: { "1.4.1": cleared } },
      }),
    );
    const obs = await npmProbe.observe(plan("uuid", "1.4.1"), context(srv.base).ctx);
    await srv.close();
    assert.deepEqual(obs.deprecated, {});
    assert.equal(obs.version_doc?.deprecated, null);
  });

  it("records a missing dist.integrity (old versions) as null", async () => {
    const legacy = withoutIntegrity(UUID_002);
    const srv = await serve(
      registryHandler({ uuid: { abbreviated: abbreviate("uuid", "0.0.2", [legacy]), versions: { "0.0.2": legacy } } }),
    );
    const obs = await npmProbe.observe(plan("uuid", "0.0.2"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.version_doc?.integrity, null);
    assert.equal(obs.version_doc?.shasum, "3171f2c4f58895b8b307692a335fb2349ddf6733");
  });

  const notFoundBodies: [string, Reply][] = [
    ["{} (2016-17)", { status: 404, body: {} }],
    ['{"error":"Not found"}', { status: 404, body: { error: "Not found" } }],
    ["unpublished stub (2015)", { status: 404, body: UNPUBLISHED_STUB }],
    ["empty body", { status: 404 }],
  ];
  for (const [label, reply] of notFoundBodies) {
    it(`packument 404 with ${label} is packument_found false`, async () => {
      const srv = await serve(() => reply);
      const obs = await npmProbe.observe(plan("scrollreveal", "3.0.0"), context(srv.base).ctx);
      await srv.close();
      assert.equal(obs.packument_found, false);
      assert.deepEqual(obs.versions, []);
      assert.deepEqual(obs.dist_tags, {});
      assert.deepEqual(obs.deprecated, {});
      assert.equal(obs.version_doc, null);
    });
  }

  it("an unpublished stub served with 200 is also not found", async () => {
    const srv = await serve((req) =>
      req.path === "/scrollreveal" ? { status: 200, body: UNPUBLISHED_STUB } : { status: 404, body: {} },
    );
    const obs = await npmProbe.observe(plan("scrollreveal", "3.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.packument_found, false);
    assert.deepEqual(obs.versions, []);
  });

  it("a stale packument does not hide the fresh version document", async () => {
    // Just published 1.0.1: the per-version document is fresh, the CDN still serves the old packument.
    const fresh = { ...TINY_V1, version: "1.0.1", _id: "tiny-tarball@1.0.1" };
    const srv = await serve(
      registryHandler({ "tiny-tarball": { abbreviated: TINY_ABBREV, versions: { "1.0.0": TINY_V1, "1.0.1": fresh } } }),
    );
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.1"), context(srv.base).ctx);
    await srv.close();
    assert.deepEqual(obs.versions, ["1.0.0"]);
    assert.deepEqual(obs.dist_tags, { latest: "1.0.0" });
    assert.equal(obs.version_doc?.version, "1.0.1");
  });

  it("a version the full packument lists in `versions` as well as `time` is not unpublished (published meanwhile)", async () => {
    // The abbreviated packument and the version document were read before a publish (or from a stale CDN copy), the
    // full packument, asked only after, has the version: that is a version not yet visible everywhere, not one
    // that was unpublished (listed in `time`, gone from `versions`).
    const full = structuredClone(TINY_FULL) as { versions: Record<string, unknown>; time: Record<string, string> };
    full.versions["1.0.1"] = { ...TINY_V1, version: "1.0.1", _id: "tiny-tarball@1.0.1" };
    full.time["1.0.1"] = "2026-12-07T03:06:04.038Z";
    const srv = await serve(
      registryHandler({ "tiny-tarball": { abbreviated: TINY_ABBREV, full, versions: { "1.0.0": TINY_V1 } } }),
    );
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.1"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.version_doc, null);
    assert.equal(obs.unpublished, null);
    // Listed in `time` and gone from the full packument's `versions`: unpublished, as before.
    delete full.versions["1.0.1"];
    const gone = await serve(
      registryHandler({ "tiny-tarball": { abbreviated: TINY_ABBREV, full, versions: { "1.0.0": TINY_V1 } } }),
    );
    const after = await npmProbe.observe(plan("tiny-tarball", "1.0.1"), context(gone.base).ctx);
    await gone.close();
    assert.deepEqual(after.unpublished, { scope: "version", at: "2026-12-07T03:06:04.038Z" });
  });

  it("a cached 404 packument alongside a fresh version document", async () => {
    const srv = await serve(registryHandler({ "tiny-tarball": { versions: { "1.0.0": TINY_V1 } } }));
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.packument_found, false);
    assert.deepEqual(obs.version_doc, TINY_FRESH_DOC);
  });

  it("falls back to the packument entry when the version endpoint says 404", async () => {
    const srv = await serve(registryHandler({ "tiny-tarball": { abbreviated: TINY_ABBREV, versions: {} } }));
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.deepEqual(obs.version_doc, TINY_DOC);
  });

  it("a version nobody has is version_doc null", async () => {
    const srv = await serve(
      registryHandler({ "tiny-tarball": { abbreviated: TINY_ABBREV, versions: { "1.0.0": TINY_V1 } } }),
    );
    const obs = await npmProbe.observe(plan("tiny-tarball", "2.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.packument_found, true);
    assert.equal(obs.version_doc, null);
  });

  it("401 is an AppError, not 'not found'", async () => {
    const srv = await serve(() => ({ status: 401, body: { error: "authentication required" } }));
    await rejects(
      npmProbe.observe(plan("@private/pkg", "1.0.0"), context(srv.base).ctx),
      "E_HTTP_AUTH",
      /HTTP 401.*authentication/,
    );
    await srv.close();
  });

  it("a persistent 500 is an AppError after the client's retries", async () => {
    const srv = await serve((req) =>
      req.path === "/tiny-tarball" ? { status: 503, body: "upstream connect error" } : { status: 200, body: TINY_V1 },
    );
    // The version document answered: the observation stands on it, and says why the packument did not.
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.version_doc_source, "version-endpoint");
    assert.equal(obs.packument_found, null);
    assert.match(obs.packument_error ?? "", /HTTP 503/);
    assert.equal(srv.seen.filter((s) => s.path === "/tiny-tarball").length, 2);
  });

  it("a non-JSON 200 is E_UPSTREAM_MALFORMED naming the URL", async () => {
    const srv = await serve((req) =>
      req.path === "/tiny-tarball"
        ? { status: 200, body: "<html>captive portal</html>" }
        : { status: 200, body: TINY_V1 },
    );
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.version_doc_source, "version-endpoint");
    assert.match(obs.packument_error ?? "", /\/tiny-tarball: body is not JSON/);
  });

  it("a version document without a version field is E_UPSTREAM_MALFORMED naming the field", async () => {
    const broken: Doc = structuredClone(TINY_V1);
    delete broken["version"];
    const srv = await serve(
      registryHandler({ "tiny-tarball": { abbreviated: TINY_ABBREV, versions: { "1.0.0": broken } } }),
    );
    // The packument still answers for the version (either document can answer).
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.equal(obs.version_doc_source, "packument");
    assert.equal(obs.version_doc?.version, "1.0.0");
  });

  it("dist-tags that are not strings are E_UPSTREAM_MALFORMED", async () => {
    const broken = { ...TINY_ABBREV, "dist-tags": { latest: 1 } };
    const srv = await serve(
      registryHandler({ "tiny-tarball": { abbreviated: broken, versions: { "1.0.0": TINY_V1 } } }),
    );
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base).ctx);
    await srv.close();
    assert.match(obs.packument_error ?? "", /dist-tags\.latest/);
  });
});

describe("npm probe: --deep", () => {
  it("streams the tarball and computes sha512 (base64) and sha1 (hex)", async () => {
    const srv = await serve((req, base) => {
      if (req.path === "/-/tiny-tarball-1.0.0.tgz") return { status: 200, body: "abc" };
      const doc = withTarball(TINY_V1, `${base}/-/tiny-tarball-1.0.0.tgz`);
      return registryHandler({ "tiny-tarball": { abbreviated: TINY_ABBREV, versions: { "1.0.0": doc } } })(req, base);
    });
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base, true).ctx);
    await srv.close();
    // Known digests of "abc" (FIPS 180 test vectors).
    assert.deepEqual(obs.download, {
      sha512_base64: "3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==",
      sha1_hex: "a9993e364706816aba3e25717850c26c9cd0d89d",
      bytes: 3,
    });
  });

  it("hashes a multi-chunk tarball exactly", async () => {
    const big = Buffer.alloc(2 * 1024 * 1024 + 5);
    for (let i = 0; i < big.length; i++) big[i] = (i * 13 + 1) & 0xff;
    const srv = await serve((req, base) => {
      if (req.path === "/t.tgz") return { status: 200, body: big };
      const doc = withTarball(TINY_V1, `${base}/t.tgz`);
      return registryHandler({ "tiny-tarball": { abbreviated: TINY_ABBREV, versions: { "1.0.0": doc } } })(req, base);
    });
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base, true).ctx);
    await srv.close();
    assert.deepEqual(obs.download, {
      sha512_base64: createHash("sha512").update(big).digest("base64"),
      sha1_hex: createHash("sha1").update(big).digest("hex"),
      bytes: big.length,
    });
  });

  it("a tarball 404 for a listed version is an AppError", async () => {
    const srv = await serve((req, base) => {
      if (req.path === "/t.tgz") return { status: 404, body: {} };
      const doc = withTarball(TINY_V1, `${base}/t.tgz`);
      return registryHandler({ "tiny-tarball": { abbreviated: TINY_ABBREV, versions: { "1.0.0": doc } } })(req, base);
    });
    await rejects(
      npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base, true).ctx),
      "E_HTTP_STATUS",
      /HTTP 404 for the tarball download/,
    );
    await srv.close();
  });

  it("no version document means nothing to download", async () => {
    const srv = await serve(() => ({ status: 404, body: {} }));
    const obs = await npmProbe.observe(plan("tiny-tarball", "1.0.0"), context(srv.base, true).ctx);
    await srv.close();
    assert.equal(obs.download, null);
    assert.equal(srv.seen.length, 2);
  });
});
