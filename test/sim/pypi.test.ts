import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import { blake2b256 } from "../../src/sim/blake2b.ts";
import type { PypiDoc } from "./docs.ts";
import { get, sha256 } from "./helpers.ts";

const real = JSON.parse(readFileSync(new URL("./fixtures/pypi-azure-cli-monitor.json", import.meta.url), "utf8")) as {
  info: object;
  urls: object[];
};

describe("sim: PyPI", () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim();
    applyScenario(sim.world, "clean");
    sim.world.addProject({ name: "foo", repo: "sim/foo", pypi: "foo-bar", wheelPlatforms: [] });
    sim.world.publish("foo", "1.0.0", { channels: ["pypi"] });
    sim.world.publish("foo", "1.1.0", { channels: ["pypi"], omitPypiFiles: ["sdist"] });
  });
  after(() => sim.close());

  it("serves the project JSON with info, releases, urls and the real file fields", async () => {
    const res = await get(`${sim.urls.pypi}/pypi/plasmite/json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "max-age=900, public");
    const doc = res.json<PypiDoc>();
    assert.deepEqual(Object.keys(doc), ["info", "last_serial", "releases", "urls", "vulnerabilities", "ownership"]);
    assert.equal(res.headers.get("x-pypi-last-serial"), String(doc.last_serial));
    for (const key of Object.keys(real.info)) assert.ok(key in doc.info, `info.${key}`);
    for (const key of ["version", "yanked", "yanked_reason", "requires_python", "release_url", "project_urls"])
      assert.ok(key in doc.info);
    assert.equal(doc.info.version, "0.8.0");
    assert.deepEqual(Object.keys(doc.releases ?? {}), ["0.7.2", "0.8.0"]);
    const files = doc.urls.map((f) => f.filename).sort();
    assert.deepEqual(files, [
      "plasmite-0.8.0-cp311-cp311-macosx_10_12_x86_64.whl",
      "plasmite-0.8.0-cp311-cp311-macosx_11_0_arm64.whl",
      "plasmite-0.8.0-cp311-cp311-win_amd64.whl",
      "plasmite-0.8.0.tar.gz",
    ]);
    for (const f of doc.urls) {
      for (const key of Object.keys(real.urls[0] ?? {})) assert.ok(key in f, `file.${key}`);
      for (const key of ["upload_time_iso_8601", "requires_python", "yanked", "yanked_reason"]) assert.ok(key in f);
      assert.equal(f.downloads, -1);
      assert.match(f.upload_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      const file = await get(f.url);
      assert.equal(file.status, 200);
      assert.equal(new URL(f.url).host, new URL(sim.urls.pypiFiles).host);
      assert.equal(sha256(file.body), f.digests.sha256);
      assert.equal(createHash("md5").update(file.body).digest("hex"), f.digests.md5);
      const b2 = blake2b256(file.body);
      assert.equal(b2, f.digests.blake2b_256);
      assert.equal(
        new URL(f.url).pathname,
        `/packages/${b2.slice(0, 2)}/${b2.slice(2, 4)}/${b2.slice(4)}/${f.filename}`,
      );
      assert.equal(file.body.length, f.size);
    }
    assert.equal(doc.urls.find((f) => f.packagetype === "sdist")?.python_version, "source");
  });

  it("301s non-normalized names to the PEP 503 spelling, and 404s with JSON", async () => {
    const moved = await get(`${sim.urls.pypi}/pypi/Plasmite/json`);
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.get("location"), `${sim.urls.pypi}/pypi/plasmite/json`);
    const underscore = await get(`${sim.urls.pypi}/pypi/foo_bar/1.0.0/json`);
    assert.equal(underscore.status, 301);
    assert.equal(underscore.headers.get("location"), `${sim.urls.pypi}/pypi/foo-bar/1.0.0/json`);
    const followed = await fetch(`${sim.urls.pypi}/pypi/Foo.Bar/json`);
    assert.equal(followed.status, 200);
    assert.equal(((await followed.json()) as PypiDoc).info.name, "foo-bar");
    for (const path of ["/pypi/nope/json", "/pypi/plasmite/9.9.9/json"]) {
      const res = await get(`${sim.urls.pypi}${path}`);
      assert.equal(res.status, 404);
      assert.deepEqual(res.json<unknown>(), { message: "Not Found" });
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    }
  });

  it("lists releases without files as [] and leaves out files that were never uploaded", async () => {
    const foo = (await get(`${sim.urls.pypi}/pypi/foo-bar/json`)).json<PypiDoc>();
    assert.deepEqual(foo.releases?.["1.1.0"], []);
    assert.equal(foo.releases?.["1.0.0"]?.length, 1);
    assert.equal(foo.info.version, "1.1.0");
    assert.deepEqual(foo.urls, []);
    sim.world.publish("plasmite", "0.8.1", { channels: ["pypi"], omitPypiFiles: ["windows_amd64"] });
    const files = (await get(`${sim.urls.pypi}/pypi/plasmite/0.8.1/json`)).json<PypiDoc>().urls.map((f) => f.filename);
    assert.equal(files.length, 3);
    assert.ok(!files.some((f) => f.includes("win_amd64")));
    sim.world.setHidden("pypi", "plasmite", "0.8.1", true);
    assert.equal((await get(`${sim.urls.pypi}/pypi/plasmite/0.8.1/json`)).status, 404);
  });

  it("serves one release at /pypi/{p}/{v}/json without releases, matching canonical versions", async () => {
    const doc = (await get(`${sim.urls.pypi}/pypi/plasmite/0.7.2/json`)).json<PypiDoc>();
    assert.ok(!("releases" in doc));
    assert.equal(doc.info.version, "0.7.2");
    assert.equal(doc.urls.length, 4);
    assert.equal((await get(`${sim.urls.pypi}/pypi/plasmite/0.8/json`)).json<PypiDoc>().info.version, "0.8.0");
  });

  it("moves info.version off a yanked release and marks its files yanked; ETag revalidation", async () => {
    const first = await get(`${sim.urls.pypi}/pypi/plasmite/json`);
    const etag = first.headers.get("etag") as string;
    assert.equal((await get(`${sim.urls.pypi}/pypi/plasmite/json`, { "if-none-match": etag })).status, 304);
    sim.world.yank("pypi", "plasmite", "0.8.0", "broken wheel");
    const res = await get(`${sim.urls.pypi}/pypi/plasmite/json`, { "if-none-match": etag });
    assert.equal(res.status, 200);
    const doc = res.json<PypiDoc>();
    assert.equal(doc.info.version, "0.7.2");
    assert.ok(doc.last_serial > first.json<PypiDoc>().last_serial);
    assert.ok(doc.releases?.["0.8.0"]?.every((f) => f.yanked && f.yanked_reason === "broken wheel"));
    const v = (await get(`${sim.urls.pypi}/pypi/plasmite/0.8.0/json`)).json<PypiDoc>();
    assert.equal(v.info.yanked, true);
    assert.equal(v.info.yanked_reason, "broken wheel");
    sim.world.unyank("pypi", "plasmite", "0.8.0");
    assert.equal((await get(`${sim.urls.pypi}/pypi/plasmite/json`)).json<PypiDoc>().info.version, "0.8.0");
  });
});

describe("sim: BLAKE2b-256", () => {
  it("matches the reference vectors", () => {
    assert.equal(blake2b256(Buffer.alloc(0)), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    assert.equal(blake2b256(Buffer.from("abc")), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    const bytes = Buffer.from(Array.from({ length: 768 }, (_, i) => i % 256));
    assert.equal(blake2b256(bytes), "b8007121274217790e2923e0ad7027986e5a99d5531ef6ae7d294140fc81615d");
  });
});
