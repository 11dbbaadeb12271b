/** `monitor verify`: its options; the work is in verify-action.ts, loaded when the command runs. */
import type { Command } from "commander";
import { BUILTIN_CHANNEL_IDS } from "../../channels/ids.ts";
import { channelFlagHelp } from "../channel-flag.ts";
import type { VerifyFlags } from "./verify-action.ts";

const DEFAULT_TIMEOUT = "45s";
const DEFAULT_DEEP_TIMEOUT = "30m";

/**
 * `channelIds`: the channels `--channel` offers in its help (default: the built-ins, by name: the channel modules
 * load only when the command runs).
 */
export function registerVerify(program: Command, channelIds: readonly string[] = BUILTIN_CHANNEL_IDS): void {
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
    .option(
      "--timeout <duration>",
      `deadline for the check (each --wait round); unfinished channels are unknown (default ${DEFAULT_TIMEOUT}, ${DEFAULT_DEEP_TIMEOUT} with --deep)`,
    )
    .option("--channel <name...>", channelFlagHelp(channelIds))
    .option("--github", "GitHub Actions: annotations per finding, outputs status/report, Markdown to the step summary")
    .option("--report-file <file>", "with --github: where to write the report@1 JSON (default: in $RUNNER_TEMP)")
    .option("--latest", "require the tag to be every channel's latest version")
    .option("--no-latest", "never check latest-ness")
    .action(async (tagArg: string, flags: VerifyFlags, cmd: Command) => {
      // The probes, the HTTP client (undici), Octokit, pino and the config loader load only when verify runs:
      // `monitor verify --help` stays at commander's cost (start-up, docs/benchmarks.md).
      const { runVerify } = await import("./verify-action.ts");
      await runVerify(
        tagArg,
        { ...flags, timeout: flags.timeout ?? (flags.deep ? DEFAULT_DEEP_TIMEOUT : DEFAULT_TIMEOUT) },
        cmd.optsWithGlobals<VerifyFlags>(),
      );
    });
}
