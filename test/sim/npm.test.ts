import assert from "node:assert/strict";
import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import type { NpmPackument, NpmVersionDoc } from "./docs.ts";
import { get, manualClock } from "./helpers.ts";

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")) as T;

describe("sim: npm registry", () => {
  let sim: Sim;
  const clock = manualClock();
  before(async () => {
    sim = await startSim({ world: { now: clock.now } });
    applyScenario(sim.world, "clean");
    sim.world.addProject({ name: "scoped", repo: "sim/scoped", npm: "@sim/native" });
    sim.world.publish("scoped", "2.0.0", { channels: ["npm"] });
  });
  after(() => sim.close());

  it("serves the full packument with the real document's fields", async () => {
    const res = await get(`${sim.urls.npm}/plasmite`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("cache-control"), "public, max-age=300");
    const doc = res.json<NpmPackument>();
    const real = fixture<NpmPackument>("npm-tiny-tarball.Packument.json");
    for (const key of [
      "_id",
      "_rev",
      "name",
      "dist-tags",
      "versions",
      "time",
      "maintainers",
      "readme",
      "license",
      "description",
    ]) {
      assert.ok(key in doc && key in real, key);
    }
    assert.equal(doc["dist-tags"].latest, "0.8.0");
    assert.deepEqual(Object.keys(doc.versions), ["0.7.2", "0.8.0"]);
    assert.ok(doc.time.created && doc.time.modified && doc.time["0.8.0"]);
    const v = doc.versions["0.8.0"]!;
    for (const key of Object.keys(real.versions["1.0.0"]?.dist ?? {})) assert.ok(key in v.dist, `dist.${key}`);
    assert.match(v.dist.integrity, /^sha512-[A-Za-z0-9+/]+=*$/);
    assert.match(v.dist.shasum, /^[0-9a-f]{40}$/);
    assert.equal(v.dist.tarball, `${sim.urls.npm}/plasmite/-/plasmite-0.8.0.tgz`);
    assert.equal(typeof v.dist.fileCount, "number");
    assert.equal(typeof v.dist.unpackedSize, "number");
  });

  it("serves the abbreviated document for the install Accept header", async () => {
    const res = await get(`${sim.urls.npm}/plasmite`, {
      accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
    });
    assert.equal(res.headers.get("content-type"), "application/vnd.npm.install-v1+json");
    const doc = res.json<Omit<NpmPackument, "time">>();
    const real = fixture<object>("npm-tiny-tarball.abbreviated-install-v1.Manifest.json");
    assert.deepEqual(Object.keys(doc).sort(), Object.keys(real).sort());
    assert.ok(!("time" in doc));
    assert.ok(doc.versions["0.8.0"]?.dist.integrity);
  });

  it("serves tarballs whose sha512/sha1 match dist, signed over name@version:integrity", async () => {
    const v = (await get(`${sim.urls.npm}/plasmite/0.8.0`)).json<NpmVersionDoc>();
    const tgz = await get(v.dist.tarball);
    assert.equal(tgz.status, 200);
    assert.equal(`sha512-${createHash("sha512").update(tgz.body).digest("base64")}`, v.dist.integrity);
    assert.equal(createHash("sha1").update(tgz.body).digest("hex"), v.dist.shasum);
    const keys = (await get(`${sim.urls.npm}/-/npm/v1/keys`)).json<{ keys: { keyid: string; key: string }[] }>().keys;
    const sig = v.dist.signatures[0]!;
    const key = keys.find((k) => k.keyid === sig.keyid)!;
    const pub = createPublicKey({ key: Buffer.from(key.key, "base64"), format: "der", type: "spki" });
    assert.ok(verify("sha256", Buffer.from(`plasmite@0.8.0:${v.dist.integrity}`), pub, Buffer.from(sig.sig, "base64")));
  });

  it("resolves /{name}/{version} and dist-tags, and 404s unknown names and versions", async () => {
    assert.equal((await get(`${sim.urls.npm}/plasmite/latest`)).json<NpmVersionDoc>().version, "0.8.0");
    assert.equal((await get(`${sim.urls.npm}/plasmite/0.7.2`)).json<NpmVersionDoc>()._id, "plasmite@0.7.2");
    const missing = await get(`${sim.urls.npm}/no-such-package`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json<unknown>(), { error: "Not found" });
    const noVersion = await get(`${sim.urls.npm}/plasmite/9.9.9`);
    assert.equal(noVersion.status, 404);
    assert.equal((await get(`${sim.urls.npm}/plasmite/-/plasmite-9.9.9.tgz`)).status, 404);
  });

  it("accepts scoped names as @scope%2fname and @scope/name", async () => {
    for (const path of ["@sim%2fnative", "@sim%2Fnative", "@sim/native"]) {
      const doc = await get(`${sim.urls.npm}/${path}`);
      assert.equal(doc.status, 200, path);
      assert.equal(doc.json<NpmPackument>().name, "@sim/native");
    }
    const v = (await get(`${sim.urls.npm}/@sim%2fnative/2.0.0`)).json<NpmVersionDoc>();
    assert.equal(v.dist.tarball, `${sim.urls.npm}/@sim/native/-/native-2.0.0.tgz`);
    assert.equal((await get(v.dist.tarball)).status, 200);
  });

  it("revalidates with ETag and reflects deprecation", async () => {
    const first = await get(`${sim.urls.npm}/plasmite`);
    const etag = first.headers.get("etag") as string;
    assert.equal((await get(`${sim.urls.npm}/plasmite`, { "if-none-match": etag })).status, 304);
    sim.world.deprecate("plasmite", "0.7.2", "use 0.8");
    const changed = await get(`${sim.urls.npm}/plasmite`, { "if-none-match": etag });
    assert.equal(changed.status, 200);
    assert.equal(changed.json<NpmPackument>().versions["0.7.2"]?.deprecated, "use 0.8");
    assert.equal((await get(`${sim.urls.npm}/plasmite/0.7.2`)).json<NpmVersionDoc>().deprecated, "use 0.8");
  });

  it("keeps serving the previous packument for npmPackumentStaleMs while the version doc is fresh", async () => {
    sim.world.npmPackumentStaleMs = 300_000;
    try {
      sim.world.publish("plasmite", "0.8.1", { channels: ["npm"] });
      const stale = (await get(`${sim.urls.npm}/plasmite`)).json<NpmPackument>();
      assert.equal(stale["dist-tags"].latest, "0.8.0");
      assert.ok(!("0.8.1" in stale.versions));
      assert.equal((await get(`${sim.urls.npm}/plasmite/0.8.1`)).status, 200);
      assert.equal((await get(`${sim.urls.npm}/plasmite/latest`)).json<NpmVersionDoc>().version, "0.8.1");
      sim.world.addProject({ name: "brand-new", repo: "sim/brand-new", npm: "brand-new" });
      sim.world.publish("brand-new", "0.1.0", { channels: ["npm"] });
      assert.equal((await get(`${sim.urls.npm}/brand-new`)).status, 404, "negative cache for a new package");
      assert.equal((await get(`${sim.urls.npm}/brand-new/0.1.0`)).status, 200);
      clock.advance(300_000);
      const fresh = (await get(`${sim.urls.npm}/plasmite`)).json<NpmPackument>();
      assert.equal(fresh["dist-tags"].latest, "0.8.1");
      assert.equal((await get(`${sim.urls.npm}/brand-new`)).status, 200);
    } finally {
      sim.world.npmPackumentStaleMs = 0;
    }
  });
});
