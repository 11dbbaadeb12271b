import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { loadForCommand } from "../load.ts";
import { driveRelease, EXIT, parsePathFlags, summaryJson, summaryText, type ReleaseFlags } from "./release-driver.ts";

/**
 * `monitor release`: the command and its flags. The driver it runs (flags checked, live confirmed, the steps, the
 * summary) is release-driver.ts, which the offline rehearsal (release-sim.ts, loaded only under --sim) reuses.
 */

export function registerRelease(program: Command): void {
  program
    .command("release")
    .description(
      "drive a release through its steps (dry-run by default); exit 0 complete or plan checked, 1 step failed, 2 usage/refused, 3 unknown, 130 interrupted",
    )
    .argument("<tag>", "release tag vX.Y.Z (a bare X.Y.Z gets the project's tag prefix)")
    .option("-p, --project <name>", "project in the config (required when the file has several)")
    .option("--mode <mode>", "dry-run (read everything, change nothing) or live", "dry-run")
    .option("--yes", "confirm a live release (and a channel bypass) without the interactive prompt")
    .option("--resume", "continue a release: reconcile every step with reality, run from the first incomplete one")
    .option("--build-run-id <id>", "publish-only rerun from this successful release build run: no tag, no rebuild")
    .option("--skip-channel <channel...>", "intentional bypass: dispatch publish with these channels' skip flags")
    .option("--allow-partial", "confirm the bypass: dispatch with allow_partial_release=true")
    .option("--bypass-for <duration>", "how long the bypassed channels stay silenced (default: verify_wait)")
    .option("--keep", "with --sim: keep the rehearsal's temp repositories")
    .option("--json", "print a summary object on stdout")
    .option("--agent <id>", "agent id recorded in the evidence (default release-monitor@<hostname>)")
    .action(async (tagArg: string, flags: ReleaseFlags, cmd: Command) => {
      const globals = cmd.optsWithGlobals<ReleaseFlags>();
      const pathFlags = parsePathFlags(flags);
      if (flags.keep && !globals.sim) throw new UsageError("--keep: only with --sim <scenario>");
      if (globals.sim) {
        // The rehearsal (temp repositories, simulated GitHub with Actions) loads only under --sim.
        const { rehearseRelease } = await import("./release-sim.ts");
        process.exitCode = await rehearseRelease(globals.sim, tagArg, flags, pathFlags);
        return;
      }
      const session = await loadForCommand(globals);
      try {
        const result = await driveRelease(session.loaded, tagArg, flags, pathFlags, globals.config);
        process.stdout.write(flags.json ? `${JSON.stringify(summaryJson(result), null, 2)}\n` : summaryText(result));
        process.exitCode = EXIT[result.outcome];
      } finally {
        await session.close();
      }
    });
}
