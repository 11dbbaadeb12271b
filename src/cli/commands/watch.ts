import type { Command } from "commander";
import { parseDurationFlag } from "../../config/duration.ts";
import { openDaemon } from "../../daemon/create.ts";
import type { Daemon } from "../../daemon/daemon.ts";
import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { startServer } from "../../server/index.ts";
import type { RunningServer } from "../../server/types.ts";
import { ExitCode } from "../../exit-codes.ts";
import { loadForCommand, type GlobalOptions } from "../load.ts";

interface WatchFlags extends GlobalOptions {
  once?: boolean;
  drainTimeout: string;
  listen?: string;
  server: boolean;
}

/** After a graceful stop, a lingering handle (a sink's socket) must not keep the process alive. */
const EXIT_GRACE_MS = 2_000;

export function registerWatch(program: Command): void {
  program
    .command("watch")
    .description("watch every project's latest release on its schedule and alert on drift (until SIGTERM/SIGINT)")
    .option(
      "--once",
      "run one cycle per project, deliver the alerts, and exit (CronJobs, tests); exit 3 if a cycle failed",
    )
    .option(
      "--drain-timeout <duration>",
      "on shutdown: wait this long for in-flight cycles (then abort them), and as long again for pending alerts",
      "10s",
    )
    .option("--listen <host:port>", "serve the status page, API and metrics here (default settings.server.listen)")
    .option("--no-server", "do not serve the status page, API and metrics")
    .action(async (flags: WatchFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<WatchFlags>();
      const drainMs = parseDurationFlag("--drain-timeout", flags.drainTimeout, "1h", { allowZero: true });
      const session = await loadForCommand(globals);
      try {
        const loaded = session.loaded;
        let serverUrl: string | null = null;
        const { daemon, store, runtime } = await openDaemon(loaded, {
          ...(flags.once ? { once: true } : {}),
          ...(globals.logLevel ? { logLevel: globals.logLevel } : {}),
          daemon: {
            cycleDrainMs: drainMs,
            flushMs: drainMs,
            statusUrl: (project) => {
              const base = loaded.config.settings.server.public_url ?? serverUrl;
              return base ? `${base.replace(/\/+$/, "")}/projects/${encodeURIComponent(project)}` : null;
            },
          },
        });
        if (flags.once) {
          const results = await daemon.runOnce();
          for (const r of results) {
            if (r.owner === null) continue;
            // Not a failure: the live owner checks it on its own schedule.
            process.stdout.write(`${r.project}: skipped, owned by replica ${r.owner}\n`);
            runtime.log.info({ project: r.project, owner: r.owner }, "skipped: owned by a live replica");
          }
          process.exitCode = results.some((r) => r.error !== null) ? ExitCode.unknown : ExitCode.ok;
          return;
        }
        const server = flags.server
          ? await serveLocked(daemon, () =>
              startServer({
                daemon,
                store,
                loaded,
                log: runtime.log,
                ...(flags.listen ? { listen: flags.listen } : {}),
              }),
            )
          : null;
        serverUrl = server?.url ?? null;
        await daemon.start();
        process.exitCode = await untilSignal(daemon, runtime.log, server);
        setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
      } finally {
        await session.close();
      }
    });
}

/**
 * Takes the state lock, then opens the server: a second daemon on a locked state directory must exit, not serve
 * /healthz. On any failure (lock held, address in use, token rule) everything is closed before the error surfaces.
 */
async function serveLocked(daemon: Daemon, open: () => Promise<RunningServer>): Promise<RunningServer> {
  try {
    await daemon.lock();
    return await open();
  } catch (err) {
    await daemon.stop();
    throw err;
  }
}

/** Resolves with the exit code once SIGTERM/SIGINT has stopped the daemon; a second signal exits at once. */
function untilSignal(daemon: Daemon, log: Logger, server: RunningServer | null): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, "second signal: exiting without waiting");
        process.exit(ExitCode.internal);
      }
      stopping = true;
      log.info({ signal }, "signal received: stopping");
      Promise.allSettled([server?.close()])
        .then(() => daemon.stop())
        .then(
          () => {
            process.off("SIGTERM", onSignal);
            process.off("SIGINT", onSignal);
            resolve(ExitCode.ok);
          },
          (err: unknown) => {
            log.error({ err: errorMessage(err) }, "shutdown failed");
            resolve(ExitCode.internal);
          },
        );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
