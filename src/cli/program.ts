import { Command, CommanderError } from "commander";
import { AppError, errorMessage } from "../errors.ts";
import { escapeControlsKeepLines } from "../quote.ts";
import { ExitCode, exitCodeForErrorCode } from "../exit-codes.ts";
import { COMMANDS } from "./commands/registry.ts";

/**
 * `monitor`: the single entry point. The only place errors become exit codes, through the table in exit-codes.ts:
 * usage, config and environment errors exit 2, anything unexpected 70 (a bug in us). Commands set
 * process.exitCode for their verdicts.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command("monitor")
    .description("Keep multi-channel releases honest: GitHub Releases, crates.io, npm, PyPI and Homebrew.")
    .version("0.1.0", "-V, --version")
    .option("-c, --config <file>", "config file (YAML or JSON); default monitor.yaml or $MONITOR_CONFIG")
    .option("--sim <scenario>", "run against the built-in simulated registries with this scenario (offline)")
    .option("--log-level <level>", "pino level: fatal, error, warn, info, debug, trace")
    .showHelpAfterError()
    .configureOutput({ writeErr: (text) => process.stderr.write(escapeControlsKeepLines(text)) })
    .exitOverride();
  const wanted = requestedCommand(argv.slice(2));
  const entries = COMMANDS.filter((c) => wanted === null || c.name === wanted);
  for (const register of await Promise.all(entries.map((c) => c.load()))) register(program);
  return program;
}

/** Global options that take a value (skipped when looking for the command name). */
const GLOBAL_VALUE_OPTIONS = new Set(["-c", "--config", "--sim", "--log-level"]);

/**
 * The command named on the command line, so only its module loads; null (load them all) for help, unknown names
 * or anything we cannot tell, so commander's help and errors still list every command.
 */
export function requestedCommand(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") return null;
    if (arg.startsWith("-")) {
      if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
      continue;
    }
    return COMMANDS.some((c) => c.name === arg) ? arg : null;
  }
  return null;
}

export async function main(argv: string[]): Promise<void> {
  let program: Command;
  try {
    program = await buildProgram(argv);
  } catch (err) {
    process.exitCode = exitCodeForError(err);
    return;
  }
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
  if (err instanceof AppError) {
    const code = exitCodeForErrorCode(err.code);
    writeError(code === ExitCode.usage ? `error: ${err.message}` : `error [${err.code}]: ${err.message}`);
    return code;
  }
  writeError(`internal error: ${errorMessage(err)}\n${err instanceof Error && err.stack ? err.stack : ""}`);
  return ExitCode.internal;
}

/** Every error line the CLI prints: control and bidi characters escaped, whatever a message echoes. */
function writeError(text: string): void {
  process.stderr.write(`${escapeControlsKeepLines(text)}\n`);
}
