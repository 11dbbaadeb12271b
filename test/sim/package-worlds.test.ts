/** The package-only worlds (npm-lib, python): what their registries serve after each of their scenarios. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyScenario, startSim } from "../../src/sim/index.ts";
import { scenariosOf } from "../../src/sim/scenarios.ts";
import type { GhRelease, NpmPackument, PypiDoc } from "./docs.ts";
import { get } from "./helpers.ts";

describe("sim: the npm-lib and python worlds", () => {
  it("npm-lib clean: a GitHub release without assets, @lattice/kit latest 0.8.0 and next 0.9.0-rc.1", async () => {
    const sim = await startSim();
    try {
      applyScenario(sim.world, "clean", { world: "npm-lib" });
      const release = (await get(`${sim.urls.githubApi}/repos/lattice/kit/releases/latest`)).json<GhRelease>();
      assert.equal(release.tag_name, "v0.8.0");
      assert.deepEqual(release.assets, []);
      const tags = (await get(`${sim.urls.npm}/@lattice%2fkit`)).json<NpmPackument>()["dist-tags"];
      assert.deepEqual(tags, { latest: "0.8.0", next: "0.9.0-rc.1" });
    } finally {
      await sim.close();
    }
  });

  it("npm-lib latest-behind: 0.8.0 is on npm under next, latest left at 0.7.2; npm-missing: no 0.8.0", async () => {
    for (const [scenario, latest, has] of [
      ["latest-behind", "0.7.2", 200],
      ["npm-missing", "0.7.2", 404],
    ] as const) {
      const sim = await startSim();
      try {
        applyScenario(sim.world, scenario, { world: "npm-lib" });
        assert.equal((await get(`${sim.urls.npm}/@lattice%2fkit`)).json<NpmPackument>()["dist-tags"].latest, latest);
        assert.equal((await get(`${sim.urls.npm}/@lattice%2fkit/0.8.0`)).status, has, scenario);
      } finally {
        await sim.close();
      }
    }
  });

  it("python: the GitHub release carries PyPI's files; wheel-mismatch changes PyPI's linux_amd64 wheel only", async () => {
    const digests = async (scenario: "clean" | "wheel-mismatch") => {
      const sim = await startSim();
      try {
        applyScenario(sim.world, scenario, { world: "python" });
        const release = (await get(`${sim.urls.githubApi}/repos/inkwell/quill/releases/tags/v0.8.0`)).json<GhRelease>();
        const pypi = (await get(`${sim.urls.pypi}/pypi/quillpy/0.8.0/json`)).json<PypiDoc>();
        const gh = Object.fromEntries(release.assets.map((a) => [a.name, a.digest?.slice("sha256:".length)]));
        return pypi.urls.map((f) => [f.filename, gh[f.filename] === f.digests.sha256] as const);
      } finally {
        await sim.close();
      }
    };
    const clean = await digests("clean");
    assert.equal(clean.length, 4);
    assert.ok(clean.every(([, same]) => same));
    const mismatch = await digests("wheel-mismatch");
    assert.deepEqual(
      mismatch.filter(([, same]) => !same).map(([name]) => name),
      ["quillpy-0.8.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"],
    );
  });

  it("a world's own scenarios are listed for that world only", () => {
    const names = (w: Parameters<typeof scenariosOf>[0]) => scenariosOf(w).map((s) => s.name);
    assert.ok(names("npm-lib").includes("latest-behind") && !names("plasmite").includes("latest-behind"));
    assert.ok(names("python").includes("wheel-mismatch") && !names("npm-lib").includes("wheel-mismatch"));
  });
});
