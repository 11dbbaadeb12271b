import type { Command } from "commander";
import { CHANNELS, isChannelId } from "../../channels.ts";
import { formatDuration, parseDurationFlag } from "../../config/duration.ts";
import { UsageError } from "../../errors.ts";
import { REPORTERS } from "../../report/registry.ts";
import { verifyRelease } from "../../verify/run.ts";
import { waitForSettle } from "../../verify/wait.ts";
import { exitCodeFor, useColor } from "../output.ts";
import { loadForCommand, type GlobalOptions } from "../load.ts";
import { createRuntime, normalizeTag, selectProject } from "../runtime.ts";

interface VerifyFlags extends GlobalOptions {
  project?: string;
  json?: boolean;
  markdown?: boolean;
  wait?: string;
  pollInterval: string;
  deep?: boolean;
  channel?: string[];
  latest?: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("check one release on every channel now; exit 0 ok, 1 drift, 3 unknown, 4 pending")
    .argument("<tag>", "release tag, e.g. v0.8.0 (a bare 0.8.0 gets the project's tag prefix)")
    .option("-p, --project <name>", "project in the config (required when the file has several)")
    .option("--json", "print report@1 JSON")
    .option("--markdown", "print Markdown (for $GITHUB_STEP_SUMMARY)")
    .option("--wait <duration>", "re-poll with backoff until no channel is pending/unknown, up to this long (e.g. 30m)")
    .option("--poll-interval <duration>", "first re-poll delay for --wait (doubles up to 60s)", "10s")
    .option("--deep", "download every artifact and hash it (bounded memory)")
    .option("--channel <name...>", `only these channels (${CHANNELS.join(", ")})`)
    .option("--latest", "require the tag to be every channel's latest version")
    .option("--no-latest", "never check latest-ness")
    .action(async (tagArg: string, flags: VerifyFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<VerifyFlags>();
      if (flags.json && flags.markdown) throw new UsageError("--json and --markdown are mutually exclusive");
      const waitMs = flags.wait === undefined ? 0 : parseDurationFlag("--wait", flags.wait, "7d", { allowZero: true });
      const pollMs = parseDurationFlag("--poll-interval", flags.pollInterval, "1h");
      const channels = (flags.channel ?? []).map((c) => {
        if (!isChannelId(c)) throw new UsageError(`--channel: unknown channel "${c}" (one of ${CHANNELS.join(", ")})`);
        return c;
      });
      const session = await loadForCommand(globals);
      try {
        const project = selectProject(session.loaded, flags.project);
        const tag = normalizeTag(project, tagArg);
        const rt = createRuntime(session.loaded, globals.logLevel ? { logLevel: globals.logLevel } : {});
        const latest = flags.latest === undefined ? "auto" : flags.latest;
        const run = () =>
          verifyRelease(rt, session.loaded, project, tag, {
            deep: Boolean(flags.deep),
            expectLatest: latest,
            ...(channels.length ? { channels: channels } : {}),
          });
        let report = await run();
        if (waitMs > 0) {
          const tty = process.stderr.isTTY;
          report = await waitForSettle(report, run, {
            waitMs,
            pollMs,
            onWait: (w) => {
              const line = `waiting ${formatDuration(w.pauseMs)} (attempt ${w.attempt}, ${formatDuration(w.leftMs)} left): ${w.waiting.join(" ")}`;
              process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
            },
          });
          if (tty) process.stderr.write("\r\x1b[2K");
        }
        await rt.close();
        const format = flags.json ? "json" : flags.markdown ? "markdown" : "text";
        process.stdout.write(
          `${REPORTERS[format].render([report], { color: format === "text" && useColor(process.stdout) })}\n`,
        );
        process.exitCode = exitCodeFor([report]);
      } finally {
        await session.close();
      }
    });
}
