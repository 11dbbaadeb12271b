/** `monitor init`: its options; the work is in init-action.ts, loaded when the command runs. */
import type { Command } from "commander";
import type { InitFlags } from "./init-action.ts";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description(
      "discover what a repository releases to and write a commented config; exit 0 written, 2 bad input or unknown repository, 3 a registry could not tell",
    )
    .argument("<repo>", "GitHub repository, owner/name (e.g. sandover/plasmite)")
    .option("--tag <tag>", "release to discover from (default: the latest non-draft, non-prerelease release)")
    .option("--settings <file>", "config file whose settings: block (endpoints, tokens as ${VAR}) is used and copied")
    .option("--out <file>", "write the config here instead of stdout (not overwritten without --force)")
    .option("--force", "overwrite --out")
    .action(async (repo: string, flags: InitFlags, cmd: Command) => {
      const { runInit } = await import("./init-action.ts");
      await runInit(repo, flags, cmd.optsWithGlobals<InitFlags>());
    });
}
