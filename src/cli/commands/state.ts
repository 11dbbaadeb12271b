import type { Command } from "commander";
import { AppError, UsageError, errorMessage } from "../../errors.ts";
import { SecretRegistry } from "../../secrets.ts";
import { parseStateLocation, type StateLocation } from "../../state/location.ts";

interface MigrateFlags {
  from?: string;
  to?: string;
  json?: boolean;
}

/** `monitor state migrate`: copies a state between SQLite and PostgreSQL (either way) into an empty destination. */
export function registerState(program: Command): void {
  const state = program
    .command("state")
    .description("manage the daemon's state store")
    .addHelpText(
      "after",
      "\nUsage of migrate (see `monitor state migrate --help`):\n  monitor state migrate --from sqlite:<state_dir> --to postgres://… [--json]",
    );
  state
    .command("migrate")
    .description("copy a whole state (incidents, outbox, history, validators, silences) between SQLite and PostgreSQL")
    .option("--from <location>", "sqlite:<state_dir> or postgres://…")
    .option("--to <location>", "sqlite:<state_dir> or postgres://… (must be empty)")
    .option("--json", "print the copied row counts as JSON")
    .action(async (flags: MigrateFlags) => {
      const from = parseStateLocation("--from", flags.from);
      const to = parseStateLocation("--to", flags.to);
      if (from.kind === to.kind) {
        throw new UsageError("--from and --to must be one SQLite state and one PostgreSQL database");
      }
      const secrets = new SecretRegistry();
      // A database URL's user name is not a secret (and "postgres" would redact the scheme); its password is.
      for (const l of [from, to]) {
        if (l.kind === "postgres") {
          const password = new URL(l.url).password;
          secrets.add(password);
          try {
            secrets.add(decodeURIComponent(password));
          } catch {
            // a malformed escape: the raw form is registered
          }
        }
      }
      const { runMigration } = await import("../../state/migrate-command.ts");
      let counts: Record<string, number>;
      try {
        counts = await runMigration(from, to);
      } catch (err) {
        if (err instanceof AppError) throw new AppError(err.code, secrets.redact(err.message));
        throw new AppError("E_STATE", secrets.redact(`state migration failed: ${errorMessage(err)}`));
      }
      const where = (l: StateLocation): string => (l.kind === "sqlite" ? `sqlite:${l.dir}` : secrets.redactUrl(l.url));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ from: where(from), to: where(to), tables: counts }, null, 2)}\n`);
        return;
      }
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const lines = Object.entries(counts).map(([t, n]) => `  ${t.padEnd(16)} ${n}`);
      process.stdout.write(`copied ${total} rows from ${where(from)} to ${where(to)}\n${lines.join("\n")}\n`);
    });
}
