import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import type { CratesCrateDoc, CratesErrors, CratesVersionDoc, IndexLine } from "./docs.ts";
import { follow, get, rawGet, sha256 } from "./helpers.ts";

/** The JSON part of an insta snapshot (after the second `---`). */
function snapshot(name: string): unknown {
  const text = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
  return JSON.parse(text.split(/^---$/m).slice(2).join("---"));
}

describe("sim: crates.io", () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim();
    applyScenario(sim.world, "clean");
    for (const [name, crate] of [
      ["one", "a"],
      ["two", "ab"],
      ["three", "abc"],
      ["dashed", "Foo-Bar"],
    ] as const) {
      sim.world.addProject({ name, repo: `sim/${name}`, crate });
      sim.world.publish(name, "1.0.0", { channels: ["crates"] });
    }
  });
  after(() => sim.close());

  it("serves version objects with the server's field set and a checksum of the .crate bytes", async () => {
    const res = await get(`${sim.urls.cratesApi}/api/v1/crates/plasmite/0.8.0`);
    assert.equal(res.status, 200);
    const v = res.json<{ version: CratesVersionDoc }>().version;
    const real = (
      snapshot("integration__routes__crates__versions__read__show_by_crate_name_and_version.snap") as {
        version: object;
      }
    ).version;
    assert.deepEqual(Object.keys(v).sort(), Object.keys(real).sort());
    assert.equal(v.num, "0.8.0");
    assert.equal(v.crate, "plasmite");
    assert.equal(v.yanked, false);
    assert.equal(v.dl_path, "/api/v1/crates/plasmite/0.8.0/download");
    assert.match(v.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const dl = await follow(`${sim.urls.cratesApi}${v.dl_path}`);
    assert.deepEqual(
      dl.hops.map((h) => [h.status, h.host]),
      [
        [302, new URL(sim.urls.cratesApi).host],
        [200, new URL(sim.urls.cratesStatic).host],
      ],
    );
    assert.equal(sha256(dl.final.body), v.checksum);
    assert.equal(dl.final.body.length, v.crate_size);
    const asJson = await get(`${sim.urls.cratesApi}${v.dl_path}`, { accept: "application/json" });
    assert.match(asJson.json<{ url: string }>().url, /\/crates\/plasmite\/plasmite-0\.8\.0\.crate$/);
  });

  it("serves the crate with versions, default_version and the 0.0.0 placeholders for ?include=", async () => {
    const full = (await get(`${sim.urls.cratesApi}/api/v1/crates/plasmite`)).json<CratesCrateDoc>();
    assert.equal(full.crate.default_version, "0.8.0");
    assert.equal(full.crate.max_version, "0.8.0");
    assert.equal(full.crate.max_stable_version, "0.8.0");
    assert.equal(full.crate.num_versions, 2);
    assert.deepEqual(
      (full.versions ?? []).map((v) => v.num),
      ["0.8.0", "0.7.2"],
    );
    const minimal = (await get(`${sim.urls.cratesApi}/api/v1/crates/plasmite?include=`)).json<CratesCrateDoc>();
    assert.equal(minimal.versions, null);
    assert.equal(minimal.crate.max_version, "0.0.0");
    assert.equal(minimal.crate.newest_version, "0.0.0");
    assert.equal(minimal.crate.max_stable_version, null);
    assert.equal(minimal.crate.default_version, "0.8.0");
    const list = (await get(`${sim.urls.cratesApi}/api/v1/crates/plasmite/versions`)).json<{
      meta: { total: number; next_page: string | null };
    }>();
    assert.equal(list.meta.total, 2);
    assert.equal(list.meta.next_page, null);
    const lookup = await get(`${sim.urls.cratesApi}/api/v1/crates/foo_bar`);
    assert.equal(lookup.json<CratesCrateDoc>().crate.name, "Foo-Bar", "lookups ignore case and -/_");
  });

  it("answers unknown crates and versions with the errors body", async () => {
    const missing = await get(`${sim.urls.cratesApi}/api/v1/crates/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json<CratesErrors>(), { errors: [{ detail: "crate `nope` does not exist" }] });
    const noVersion = await get(`${sim.urls.cratesApi}/api/v1/crates/plasmite/9.9.9`);
    assert.equal(noVersion.status, 404);
    assert.deepEqual(noVersion.json<CratesErrors>(), {
      errors: [{ detail: "crate `plasmite` does not have a version `9.9.9`" }],
    });
  });

  it("requires a User-Agent (the exact 403 body) except on download paths", async () => {
    const expected = snapshot("integration__server__user_agent_is_required.snap");
    const none = await rawGet(`${sim.urls.cratesApi}/api/v1/crates/plasmite`);
    assert.equal(none.status, 403);
    assert.deepEqual(JSON.parse(none.body), expected);
    const empty = await rawGet(`${sim.urls.cratesApi}/api/v1/crates/plasmite`, { "user-agent": " " });
    assert.equal(empty.status, 403);
    const download = await rawGet(`${sim.urls.cratesApi}/api/v1/crates/plasmite/0.8.0/download`);
    assert.equal(download.status, 302);
  });

  it("serves the sparse index at the 1/, 2/, 3/x/ and ab/cd/ prefixes, lower-cased only", async () => {
    const idx = sim.urls.cratesIndex;
    for (const path of ["1/a", "2/ab", "3/a/abc", "pl/as/plasmite", "fo/o-/foo-bar"]) {
      const res = await get(`${idx}/${path}`);
      assert.equal(res.status, 200, path);
    }
    assert.equal((await get(`${idx}/Fo/o-/Foo-Bar`)).status, 404);
    assert.equal((await get(`${idx}/pl/plasmite`)).status, 404);
    assert.equal((await get(`${idx}/no/pe/nope`)).status, 404);
    const config = (await get(`${idx}/config.json`)).json<{ dl: string; api: string }>();
    assert.deepEqual(config, { dl: `${sim.urls.cratesStatic}/crates`, api: sim.urls.cratesApi });
  });

  it("writes NDJSON in publish order, flips yanked in place, and revalidates with ETag", async () => {
    const url = `${sim.urls.cratesIndex}/pl/as/plasmite`;
    const before = await get(url);
    assert.equal(before.headers.get("cache-control"), "public,max-age=600");
    const lines = before
      .text()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as IndexLine);
    assert.deepEqual(
      lines.map((l) => [l.vers, l.yanked]),
      [
        ["0.7.2", false],
        ["0.8.0", false],
      ],
    );
    for (const l of lines) {
      assert.deepEqual(Object.keys(l).slice(0, 6), ["name", "vers", "deps", "cksum", "features", "yanked"]);
      assert.match(l.cksum, /^[0-9a-f]{64}$/);
      assert.match(l.pubtime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    const etag = before.headers.get("etag") as string;
    assert.equal((await get(url, { "if-none-match": etag })).status, 304);
    sim.world.yank("crates", "plasmite", "0.7.2", "old");
    const after = await get(url, { "if-none-match": etag });
    assert.equal(after.status, 200);
    const flipped = after
      .text()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as IndexLine);
    assert.deepEqual(
      flipped.map((l) => [l.vers, l.yanked]),
      [
        ["0.7.2", true],
        ["0.8.0", false],
      ],
    );
    assert.equal(flipped[0]?.cksum, lines[0]?.cksum);
    const api = (await get(`${sim.urls.cratesApi}/api/v1/crates/plasmite/0.7.2`)).json<{ version: CratesVersionDoc }>()
      .version;
    assert.equal(api.yanked, true);
    assert.equal(api.yank_message, "old");
    assert.deepEqual(
      api.audit_actions.map((a) => a.action),
      ["publish", "yank"],
    );
  });

  it("hides a version on the API and the index while it propagates", async () => {
    sim.world.setHidden("crates", "three", "1.0.0", true);
    assert.equal((await get(`${sim.urls.cratesIndex}/3/a/abc`)).status, 404);
    assert.equal((await get(`${sim.urls.cratesApi}/api/v1/crates/abc/1.0.0`)).status, 404);
    sim.world.setHidden("crates", "three", "1.0.0", false);
    assert.equal((await get(`${sim.urls.cratesIndex}/3/a/abc`)).status, 200);
  });
});
