import { UsageError } from "../errors.ts";
import { quote } from "../quote.ts";
import { SecretRegistry } from "../secrets.ts";

/** One side of a migration: a SQLite state directory or a PostgreSQL URL. */
export type StateLocation = { kind: "sqlite"; dir: string } | { kind: "postgres"; url: string };

/** `sqlite:<state_dir>` or `postgres://…` as given to `monitor state migrate --from/--to` (exit 2 otherwise). */
export function parseStateLocation(flag: "--from" | "--to", value: string | undefined): StateLocation {
  if (value === undefined || value === "") {
    throw new UsageError(`${flag} is required: sqlite:<state_dir> or postgres://user@host/db`);
  }
  if (value.startsWith("sqlite:")) {
    const dir = value.slice("sqlite:".length);
    if (dir === "") throw new UsageError(`${flag}: sqlite: needs a state directory, e.g. sqlite:./state`);
    return { kind: "sqlite", dir };
  }
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new UsageError(`${flag}: not a valid PostgreSQL URL`);
    }
    return { kind: "postgres", url: value };
  }
  throw new UsageError(
    `${flag}: ${quote(new SecretRegistry().redactUrl(value))} is neither sqlite:<state_dir> nor postgres://…`,
  );
}
