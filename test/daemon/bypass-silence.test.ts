/**
 * A channel bypassed by `monitor release --skip-channel … --allow-partial` is silenced in the state store; the
 * daemon ends that silence once the channel catches up with a release published after it, and not before.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { caughtUpBypasses } from "../../src/alerts/bypass.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { VerifyFn } from "../../src/daemon/daemon.ts";
import { REPORT_SCHEMA, type Report } from "../../src/report/types.ts";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { openStateStore, stateDbPath } from "../../src/state/sqlite.ts";
import type { Silence } from "../../src/state/types.ts";

const HOUR = 3_600_000;
const dirs: string[] = [];
const sims: Sim[] = [];
after(async () => {
  await Promise.all(sims.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function report(publishedAt: string | null, npm: "ok" | "drift"): Report {
  return {
    schema: REPORT_SCHEMA,
    project: "api",
    repo: "acme/api",
    tag: "v1.1.0",
    version: "1.1.0",
    checked_at: new Date().toISOString(),
    status: npm,
    published_at: publishedAt,
    channels: [{ channel: "npm", status: npm, observed: null, findings: [], evidence: [], duration_ms: 1 }],
    duration_ms: 1,
  };
}

const silence = (over: Partial<Silence>): Silence => ({
  id: 1,
  project: "api",
  channel: "npm",
  until: new Date(Date.now() + HOUR).toISOString(),
  reason: "bypassed by maintainer: tester@ci",
  created_at: new Date(Date.now() - HOUR).toISOString(),
  ...over,
});

describe("bypass silences", () => {
  it("end only for an ok channel of a release published after the bypass", () => {
    const now = new Date().toISOString();
    const before = new Date(Date.now() - 2 * HOUR).toISOString();
    assert.deepEqual(caughtUpBypasses([silence({})], report(now, "ok")), [1]);
    assert.deepEqual(caughtUpBypasses([silence({})], report(now, "drift")), [], "not caught up yet");
    assert.deepEqual(caughtUpBypasses([silence({})], report(before, "ok")), [], "the previous release");
    assert.deepEqual(caughtUpBypasses([silence({})], report(null, "ok")), [], "cannot tell which release");
    assert.deepEqual(caughtUpBypasses([silence({ reason: "npm incident" })], report(now, "ok")), [], "a hand silence");
  });

  it("the daemon removes a caught-up bypass silence after a cycle and keeps the others", async () => {
    const sim = await startSim({ githubToken: null });
    sims.push(sim);
    sim.world.addProject({
      name: "api",
      repo: "acme/api",
      npm: "api",
      crate: null,
      pypi: null,
      tap: null,
      targetsManifest: null,
    });
    sim.world.publish("api", "1.1.0", { publishedAt: Date.now() - HOUR / 2 });
    const dir = mkdtempSync(join(tmpdir(), "monitor-bypass-"));
    dirs.push(dir);
    const config = {
      settings: { ...sim.settingsOverlay(), http: { retries: 0 }, state_dir: "state", watch: { jitter: "0" } },
      projects: [{ name: "api", repo: "acme/api", channels: { npm: { package: "api" } } }],
    };
    const loaded = loadConfigText(JSON.stringify(config), join(dir, "monitor.json"), dir, { env: {} });
    const db = stateDbPath(dir, "state");
    const seed = openStateStore(db);
    const until = new Date(Date.now() + HOUR).toISOString();
    const created = new Date(Date.now() - HOUR).toISOString();
    const bypass = await seed.addSilence({
      project: "api",
      channel: "npm",
      until,
      reason: "bypassed by maintainer: tester@ci",
      created_at: created,
    });
    const manual = await seed.addSilence({
      project: "api",
      channel: "npm",
      until,
      reason: "npm incident",
      created_at: created,
    });
    await seed.close();
    const published = new Date(Date.now() - HOUR / 2).toISOString();
    const verify: VerifyFn = () => Promise.resolve(report(published, "ok"));
    const { daemon } = createDaemon(loaded, { logLevel: "silent", daemon: { verify } });
    await daemon.start();
    try {
      await daemon.runCycleNow("api");
      const store = openStateStore(db);
      try {
        assert.deepEqual(
          (await store.silences()).map((s) => s.id),
          [manual.id],
          `bypass silence ${bypass.id} ended, the hand-made one stays`,
        );
      } finally {
        await store.close();
      }
    } finally {
      await daemon.stop();
    }
  });
});
