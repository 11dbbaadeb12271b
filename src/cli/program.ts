import { Command, CommanderError } from "commander";
import { AppError, ConfigError, errorMessage } from "../errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { COMMANDS } from "./commands/registry.ts";

/**
 * `monitor`: the single entry point. The only place errors become exit codes: usage and config errors exit 2,
 * anything unexpected 70 (a bug in us). Commands set process.exitCode for their verdicts.
 */
export function buildProgram(): Command {
  const program = new Command("monitor")
    .description("Keep multi-channel releases honest: GitHub Releases, crates.io, npm, PyPI and Homebrew.")
    .version("0.1.0", "-V, --version")
    .option("-c, --config <file>", "config file (YAML or JSON); default monitor.yaml or $MONITOR_CONFIG")
    .option("--sim <scenario>", "run against the built-in simulated registries with this scenario (offline)")
    .option("--log-level <level>", "pino level: fatal, error, warn, info, debug, trace")
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeForError(err);
  }
}

function exitCodeForError(err: unknown): number {
  if (err instanceof CommanderError) {
    // help/version are "errors" to commander with exit code 0
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (
    err instanceof ConfigError ||
    (err instanceof AppError && ["E_USAGE", "E_CONFIG_INVALID", "E_CONFIG_READ", "E_TAG_INVALID"].includes(err.code))
  ) {
    process.stderr.write(`error: ${err.message}\n`);
    return ExitCode.usage;
  }
  if (err instanceof AppError) {
    process.stderr.write(`error [${err.code}]: ${err.message}\n`);
    return err.code === "E_PROBE_FAILED" || err.code.startsWith("E_HTTP") || err.code === "E_UPSTREAM_MALFORMED"
      ? ExitCode.unknown
      : ExitCode.internal;
  }
  process.stderr.write(`internal error: ${errorMessage(err)}\n${err instanceof Error && err.stack ? err.stack : ""}\n`);
  return ExitCode.internal;
}
