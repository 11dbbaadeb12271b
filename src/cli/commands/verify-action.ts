/** What `monitor verify` does (loaded by commands/verify.ts only when the command runs). */
import { CHANNELS, isChannelId } from "../../channels.ts";
import { formatDuration, parseDurationFlag } from "../../config/duration.ts";
import { UsageError } from "../../errors.ts";
import { REPORTERS } from "../../report/registry.ts";
import { verifyRelease } from "../../verify/run.ts";
import { waitForSettle } from "../../verify/wait.ts";
import { exitCodeFor, useColor } from "../output.ts";
import { loadForCommand, type GlobalOptions } from "../load.ts";
import { createRuntime, normalizeTag, selectProject } from "../runtime.ts";

export interface VerifyFlags extends GlobalOptions {
  project?: string;
  json?: boolean;
  markdown?: boolean;
  wait?: string;
  pollInterval: string;
  deep?: boolean;
  channel?: string[];
  latest?: boolean;
}

export async function runVerify(tagArg: string, flags: VerifyFlags, globals: VerifyFlags): Promise<void> {
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
}
