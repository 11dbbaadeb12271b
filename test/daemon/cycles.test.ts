/**
 * Cycles an embedder starts (Daemon.runScheduledCycle): as the schedule starts them, so outside the manual-check
 * limit that guards the status API's "check now" (runCycleNow), which still applies.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadConfigText } from "../../src/config/load.ts";
import { createDaemon } from "../../src/daemon/create.ts";
import type { VerifyFn } from "../../src/daemon/daemon.ts";
import { AppError } from "../../src/errors.ts";
import { REPORT_SCHEMA } from "../../src/report/types.ts";
import { startSim } from "../../src/sim/index.ts";

const HOUR = 3_600_000;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const verify: VerifyFn = (_deps, _loaded, project, tag) =>
  Promise.resolve({
    schema: REPORT_SCHEMA,
    project: project.name,
    repo: project.repo,
    tag,
    version: tag.slice(1),
    checked_at: new Date().toISOString(),
    status: "ok",
    published_at: null,
    channels: [],
    duration_ms: 1,
  });

describe("Daemon.runScheduledCycle", () => {
  it("runs past settings.server.manual_checks_per_minute with trigger schedule; runCycleNow stays limited", async () => {
    const sim = await startSim({ githubToken: null });
    const dir = mkdtempSync(join(tmpdir(), "monitor-cycles-"));
    dirs.push(dir);
    try {
      sim.world.addProject({
        name: "a",
        repo: "acme/a",
        npm: "a",
        crate: null,
        pypi: null,
        tap: null,
        targetsManifest: null,
      });
      sim.world.publish("a", "1.0.0", { publishedAt: Date.now() - 2 * HOUR });
      const config = {
        settings: {
          ...sim.settingsOverlay(),
          http: { retries: 0 },
          state_dir: "state",
          watch: { jitter: "0", hot_interval: "0" },
          server: { manual_checks_per_minute: 2 },
        },
        projects: [{ name: "a", repo: "acme/a", channels: { npm: { package: "a" } } }],
      };
      const loaded = loadConfigText(JSON.stringify(config), join(dir, "monitor.json"), dir, { env: {} });
      const { daemon, store } = createDaemon(loaded, { logLevel: "silent", sinks: [], daemon: { verify } });
      try {
        for (let i = 0; i < 5; i++) assert.equal((await daemon.runScheduledCycle("a")).status, "ok");
        await daemon.runCycleNow("a");
        await daemon.runCycleNow("a");
        await assert.rejects(
          daemon.runCycleNow("a"),
          (e: unknown) => e instanceof AppError && e.code === "E_RATE_LIMITED",
        );
        const triggers = store.cycles("a", 100).map((c) => c.trigger);
        assert.equal(triggers.filter((t) => t === "schedule").length, 5);
        assert.equal(triggers.filter((t) => t === "manual").length, 2);
        await assert.rejects(
          daemon.runScheduledCycle("nope"),
          (e: unknown) => e instanceof AppError && e.code === "E_USAGE",
        );
      } finally {
        await daemon.stop();
      }
    } finally {
      await sim.close();
    }
  });
});
