import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { loadConfigText } from "../../config/load.ts";
import { parseDuration, parseDurationFlag } from "../../config/duration.ts";
import { createDaemon } from "../../daemon/create.ts";
import { UsageError } from "../../errors.ts";
import type { AlertMessage, Sink } from "../../alerts/types.ts";
import type { Report } from "../../report/types.ts";
import { startServer } from "../../server/index.ts";
import { REPORTERS } from "../../report/registry.ts";
import { useColor } from "../output.ts";
import { SIM_WORLDS, applySimOverlay, simScenario, startSimForScenario } from "../sim-session.ts";
import { healingStory } from "../../sim/scenarios.ts";
import { quote } from "../../quote.ts";

interface DemoFlags {
  listen: string;
  healAfter: string;
  interval: string;
  duration?: string;
}

/** Alerts as plain lines on stdout, so the demo shows what Slack or ergo would receive. */
const consoleSink: Sink = {
  name: "console",
  type: "console",
  minIntervalMs: 0,
  deliver(message: AlertMessage) {
    const time = message.created_at.slice(11, 19);
    const extra = message.resolution ? ` (${message.resolution})` : "";
    process.stdout.write(`${time}  alert ${message.kind.toUpperCase()}: ${message.summary}${extra}\n`);
    return Promise.resolve();
  },
};

/**
 * examples/ ships with the package, at its root: three levels above src/cli/commands/demo.ts, two above the bundle
 * (dist/cli/main.js), so it is found from the nearest directory holding a package.json.
 */
function exampleFor(world: string): URL {
  return packageFile(`examples/${world}.yaml`);
}

function packageFile(path: string): URL {
  let dir = new URL(".", import.meta.url);
  while (!existsSync(new URL("package.json", dir)) && dir.pathname !== "/") dir = new URL("..", dir);
  return new URL(path, dir);
}

/**
 * `monitor demo`: the daemon and its status page on the built-in simulated registries, offline. plasmite v0.8.0 is
 * published to GitHub and crates.io only: npm, PyPI and the tap formula are missing (drift, an alert on the log
 * sink). They arrive after --heal-after; the next cycle resolves the incidents and every channel turns ok.
 * `--sim <world>[/<scenario>]` runs another world's project (examples/<world>.yaml) the same way.
 */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("offline demo: the daemon + status page on simulated registries, with a partial release that heals")
    .option("--listen <host:port>", "where to serve the status page", "127.0.0.1:8080")
    .option("--heal-after <duration>", "when the missing channels arrive", "60s")
    .option("--interval <duration>", "how often the daemon checks", "10s")
    .option("--duration <duration>", "stop by itself after this long (default: run until Ctrl-C)")
    .action(async (flags: DemoFlags, cmd: Command) => {
      // `--sim <world>[/<scenario>]`: another world's project (its examples/<world>.yaml), healing by default.
      const value = cmd.optsWithGlobals<{ sim?: string }>().sim ?? "plasmite";
      if (!(SIM_WORLDS as string[]).includes(value.split("/")[0] ?? "")) {
        throw new UsageError(
          `--sim: demo takes a world[/scenario] (worlds: ${SIM_WORLDS.join(", ")}), got ${quote(value)}`,
        );
      }
      const { world, scenario } = simScenario(value.includes("/") ? value : `${value}/healing`);
      const example = exampleFor(world);
      if (!existsSync(example)) throw new UsageError(`--sim: no examples/${world}.yaml to run the ${world} world with`);
      const healMs = parseDurationFlag("--heal-after", flags.healAfter, "24h", { allowZero: true });
      const intervalMs = parseDuration(flags.interval);
      const durationMs =
        flags.duration === undefined
          ? null
          : parseDurationFlag("--duration", flags.duration, "7d", { allowZero: true });
      if (intervalMs === null || intervalMs < 1000 || intervalMs % 1000 !== 0 || intervalMs > 59_000) {
        throw new UsageError(`--interval: ${quote(String(flags.interval))} must be whole seconds between 1s and 59s`);
      }

      const stateDir = mkdtempSync(join(tmpdir(), "monitor-demo-"));
      const loaded = loadConfigText(readFileSync(example, "utf8"), example.pathname, stateDir, { env: {} });
      const s = loaded.config.settings;
      s.state_dir = stateDir;
      s.watch = { ...s.watch, schedule: `*/${intervalMs / 1000} * * * * *`, jitter: "0", hot_for: "0" };
      s.alerts = { ...s.alerts, flap_cycles: 1 };
      const { sim } = await startSimForScenario(`${world}/${scenario}`, loaded, { healAfterMs: healMs });
      const project = loaded.config.projects[0]?.name ?? world;
      applySimOverlay(loaded, sim);

      let serverUrl: string | null = null;
      const { daemon, store, runtime } = createDaemon(loaded, {
        logLevel: "error",
        sinks: [consoleSink],
        daemon: {
          statusUrl: (p) => (serverUrl ? `${serverUrl}/projects/${p}` : null),
          cycleDrainMs: 2000,
          flushMs: 2000,
        },
      });
      const server = await startServer({ daemon, store, loaded, log: runtime.log, listen: flags.listen });
      serverUrl = server.url;
      const color = useColor(process.stdout);
      let last = "";
      daemon.onCycle((report: Report) => {
        const line = report.channels.map((c) => `${c.channel} ${c.status}`).join(" · ");
        const time = report.checked_at.slice(11, 19);
        if (line === last) {
          process.stdout.write(`${time}  ${report.project} ${report.tag}: unchanged (${report.status})\n`);
          return;
        }
        last = line;
        process.stdout.write(`\n${time}  ${REPORTERS.text.render([report], { color })}\n\n`);
      });
      process.stdout.write(
        [
          `release-monitor demo (offline: simulated GitHub, crates.io, npm, PyPI and Homebrew tap)`,
          `  status page  ${server.url}/`,
          `  JSON API     ${server.url}/api/v1/status`,
          `  metrics      ${server.url}/metrics`,
          scenario === "healing"
            ? `${project} v0.8.0 is ${healingStory(sim.world, project)} in ${flags.healAfter}.`
            : `${project} v0.8.0 as the ${world}/${scenario} scenario leaves it.`,
          `The status page's Provenance column shows who built each channel's artefacts, from which commit, and whether the signature verified.`,
          `Checking every ${flags.interval}. Ctrl-C to stop.`,
          "",
        ].join("\n"),
      );
      await daemon.start();
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        if (durationMs !== null) setTimeout(stop, durationMs).unref();
      });
      await server.close();
      await daemon.stop();
      await sim.close();
      rmSync(stateDir, { recursive: true, force: true });
      process.stdout.write("demo stopped\n");
    });
}
