/** What `monitor verify` does (loaded by commands/verify.ts only when the command runs). */
import { formatDuration, parseDurationFlag } from "../../config/duration.ts";
import { UsageError } from "../../errors.ts";
import { REPORTERS } from "../../report/registry.ts";
import { verifyRelease } from "../../verify/run.ts";
import { waitForSettle } from "../../verify/wait.ts";
import { exitCodeFor, useColor } from "../output.ts";
import { loadForCommand, type GlobalOptions } from "../load.ts";
import { createRuntime, normalizeTag, selectProject } from "../../runtime/runtime.ts";
import { parseChannelFlag } from "../channel-flag.ts";
import { DEFAULT_REGISTRY } from "../../channels/registry.ts";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { annotationsFor, formatAnnotation, formatOutputs } from "../../report/github-actions.ts";
import { worstStatus } from "../../drift/types.ts";
import type { Report } from "../../report/types.ts";

/** Under --wait, no round starts with less time than this left (or --timeout, if shorter). */
const MIN_ROUND_MS = 10_000;

export interface VerifyFlags extends GlobalOptions {
  project?: string;
  json?: boolean;
  markdown?: boolean;
  wait?: string;
  pollInterval: string;
  deep?: boolean;
  /** The overall deadline (commands/verify.ts fills in the default). */
  timeout?: string;
  channel?: string[];
  latest?: boolean;
  /** GitHub Actions: annotations on stdout, outputs to $GITHUB_OUTPUT, Markdown to $GITHUB_STEP_SUMMARY. */
  github?: boolean;
  /** Where --github writes the report@1 JSON (output `report`). */
  reportFile?: string;
}

export async function runVerify(tagArg: string, flags: VerifyFlags, globals: VerifyFlags): Promise<void> {
  if (flags.json && flags.markdown) throw new UsageError("--json and --markdown are mutually exclusive");
  if (flags.github && flags.json) {
    throw new UsageError("--github writes the report@1 JSON to --report-file; it cannot print it with --json");
  }
  if (flags.reportFile !== undefined && !flags.github) throw new UsageError("--report-file needs --github");
  const waitMs = flags.wait === undefined ? 0 : parseDurationFlag("--wait", flags.wait, "7d", { allowZero: true });
  const pollMs = parseDurationFlag("--poll-interval", flags.pollInterval, "1h");
  const timeoutMs = parseDurationFlag("--timeout", flags.timeout ?? "45s", "24h");
  const channels = parseChannelFlag(flags.channel ?? [], DEFAULT_REGISTRY);
  const session = await loadForCommand(globals);
  try {
    const project = selectProject(session.loaded, flags.project);
    const tag = normalizeTag(project, tagArg);
    const rt = createRuntime(session.loaded, globals.logLevel ? { logLevel: globals.logLevel } : {});
    const waitStarted = Date.now();
    const latest = flags.latest === undefined ? "auto" : flags.latest;
    // Under --wait each round gets --timeout, but never more than what is left of --wait.
    const run = (leftMs = timeoutMs) =>
      verifyRelease(rt, session.loaded, project, tag, {
        deep: Boolean(flags.deep),
        timeoutMs: Math.min(timeoutMs, leftMs),
        expectLatest: latest,
        ...(channels.length ? { channels: channels } : {}),
      });
    let report = await run(waitMs > 0 ? waitMs : timeoutMs);
    if (waitMs > 0) {
      const tty = process.stderr.isTTY;
      report = await waitForSettle(report, run, {
        waitMs: Math.max(0, waitMs - (Date.now() - waitStarted)),
        pollMs,
        minRoundMs: Math.min(timeoutMs, MIN_ROUND_MS),
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
    if (flags.github) writeGithubActions([report], flags.reportFile);
    process.exitCode = exitCodeFor([report]);
  } finally {
    await session.close();
  }
}

/**
 * `--github`: one workflow command per finding on stdout, the report@1 JSON written to a file whose path is the
 * `report` output, `status` the overall verdict, and the Markdown report appended to the step summary. Outside a
 * runner ($GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY unset) only the annotations and the report file are written.
 */
export function writeGithubActions(reports: readonly Report[], reportFile: string | undefined): void {
  for (const a of annotationsFor(reports)) process.stdout.write(`${formatAnnotation(a)}\n`);
  const path = resolve(
    reportFile ?? join(process.env["RUNNER_TEMP"] || tmpdir(), `release-monitor-report-${process.pid}.json`),
  );
  mkdirSync(dirname(path), { recursive: true });
  const json = REPORTERS.json.render(reports, { color: false });
  writeFileSync(path, `${json}\n`);
  const output = process.env["GITHUB_OUTPUT"];
  if (output) {
    appendFileSync(output, formatOutputs({ status: worstStatus(reports.map((r) => r.status)), report: path }));
  }
  const summary = process.env["GITHUB_STEP_SUMMARY"];
  if (summary) appendFileSync(summary, `${REPORTERS.markdown.render(reports, { color: false })}\n`);
}
