/**
 * The daemon reads the repository's release list every cycle to pick the latest tag; the GitHub probe takes that
 * tag's published release from the same list instead of asking `releases/tags/{tag}` again (issue 16, item 5: one
 * GitHub request fewer per project and cycle), cites the list's exchange as its evidence, and reaches the same
 * verdict as a one-shot verify, which asks by tag. A tag the list does not hold as a published release is asked
 * for by tag as before; a draft is read from the list the caller already has.
 */
import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { loadConfigFile } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import { findLatestRelease } from "../../src/daemon/latest-tag.ts";
import type { Report } from "../../src/report/types.ts";
import { createRuntime } from "../../src/runtime/runtime.ts";
import { applyScenario, startSim, type Sim } from "../../src/sim/index.ts";
import type { RequestLogEntry } from "../../src/sim/stats.ts";
import { verifyRelease } from "../../src/verify/run.ts";
import { simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";
import { verdict } from "../helpers/verdict.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

const releasePaths = (log: readonly RequestLogEntry[]) =>
  log.filter((e) => e.service === "github-api" && /\/releases(\?|\/tags\/|$)/.test(e.path)).map((e) => e.path);

const TOKEN = "ghp_releaseList0123456789";

/** With a token: the release list shows drafts only to an authenticated caller (with push access). */
async function world(scenario: "clean" | "draft"): Promise<{ sim: Sim; config: string }> {
  const sim = await startSim({ githubToken: TOKEN });
  cleanup.push(() => sim.close());
  applyScenario(sim.world, scenario);
  const dir = tempDir("rm-release-list-");
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const settings = ["  state_dir: state", "  watch:", '    jitter: "0"', '    hot_interval: "0"'].join("\n");
  return { sim, config: writeConfig(dir, simConfigYaml(sim, { settings, token: TOKEN })) };
}

describe("the daemon's GitHub probe reads the release from the cycle's release list", { timeout: 60_000 }, () => {
  it("asks releases/tags nothing, cites the list, and gives a one-shot verify's verdict", async () => {
    const { sim, config } = await world("clean");
    const loaded = loadConfigFile(config, { env: {} });
    const bundle = createDaemon(loaded, { logLevel: "silent", sinks: [], daemon: { flushMs: 1_000 } });
    cleanup.push(() => bundle.daemon.stop());
    const rt = createRuntime(loaded, { logLevel: "silent" });
    cleanup.push(() => rt.close());
    const project = loaded.config.projects[0];
    assert.ok(project);

    let mark = sim.stats.log.length;
    const oneShot = await verifyRelease(rt, loaded, project, "v0.8.0", { expectLatest: true });
    assert.deepEqual(
      releasePaths(sim.stats.log.slice(mark)).filter((p) => p.includes("/releases/tags/")),
      ["/repos/sandover/plasmite/releases/tags/v0.8.0"],
      "a one-shot verify asks for the release by tag",
    );

    for (let cycle = 1; cycle <= 2; cycle++) {
      mark = sim.stats.log.length;
      const r = await bundle.daemon.runScheduledCycle("plasmite");
      const paths = releasePaths(sim.stats.log.slice(mark));
      assert.deepEqual(
        paths.filter((p) => p.includes("/releases/tags/")),
        [],
        `cycle ${cycle}: no release by tag`,
      );
      assert.equal(paths.filter((p) => /\/releases\?/.test(p)).length, 1, `cycle ${cycle}: the list, once`);
      const github = r.channels.find((c) => c.channel === "github");
      assert.ok(github);
      assert.ok(
        github.evidence.some((e) => /\/repos\/sandover\/plasmite\/releases\?per_page=100$/.test(e.url)),
        `cycle ${cycle}: the github channel cites the list it read the release from`,
      );
      assert.deepEqual(verdict(r), verdict(oneShot), `cycle ${cycle}: the one-shot verdict`);
    }
  });
});

describe("verify with a caller's release list", { timeout: 60_000 }, () => {
  it("asks by tag when the list does not hold the tag's published release, and reads a draft from the list", async () => {
    const { sim, config } = await world("draft");
    const loaded = loadConfigFile(config, { env: {} });
    const rt = createRuntime(loaded, { logLevel: "silent" });
    cleanup.push(() => rt.close());
    const project = loaded.config.projects[0];
    assert.ok(project);
    const latest = await findLatestRelease(rt, project, false, AbortSignal.timeout(10_000));
    assert.equal(latest?.tag, "v0.7.2", "the draft is not eligible");
    assert.ok(latest.list);

    let mark = sim.stats.log.length;
    const plain = await verifyRelease(rt, loaded, project, "v0.8.0");
    const plainPaths = releasePaths(sim.stats.log.slice(mark));
    mark = sim.stats.log.length;
    const listed = await verifyRelease(rt, loaded, project, "v0.8.0", { releaseList: latest.list });
    const listedPaths = releasePaths(sim.stats.log.slice(mark));
    assert.deepEqual(
      plainPaths,
      ["/repos/sandover/plasmite/releases/tags/v0.8.0", "/repos/sandover/plasmite/releases?per_page=100"],
      "without a list: by tag (404), then the list for the draft",
    );
    assert.deepEqual(
      listedPaths,
      ["/repos/sandover/plasmite/releases/tags/v0.8.0"],
      "the draft from the caller's list",
    );
    const finding = (r: Report) =>
      r.channels.find((c) => c.channel === "github")?.findings.map((f) => `${f.severity} ${f.code}`);
    assert.ok(finding(plain)?.some((f) => /release-draft/.test(f)));
    assert.deepEqual(verdict(listed), verdict(plain));

    // A list without the tag at all: asked by tag, as before.
    mark = sim.stats.log.length;
    const other = await verifyRelease(rt, loaded, project, "v0.7.2", {
      releaseList: { items: [], evidence: [] },
    });
    assert.deepEqual(releasePaths(sim.stats.log.slice(mark)), ["/repos/sandover/plasmite/releases/tags/v0.7.2"]);
    assert.equal(other.channels.find((c) => c.channel === "github")?.status, "ok");
  });
});
