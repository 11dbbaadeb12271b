/**
 * Error classes with stable codes. Match on `.code`, never on `instanceof` across package boundaries.
 * Messages must never contain secrets: build them from values that passed through `redact()` (see secrets.ts).
 */
export type ErrorCode =
  | "E_USAGE"
  | "E_CONFIG_INVALID"
  | "E_CONFIG_READ"
  | "E_TAG_INVALID"
  | "E_HTTP_TIMEOUT"
  | "E_HTTP_NETWORK"
  | "E_HTTP_STATUS"
  | "E_HTTP_AUTH"
  | "E_HTTP_TOO_LARGE"
  | "E_HTTP_RATE_LIMITED"
  | "E_HTTP_REDIRECT"
  | "E_HTTP_TLS"
  | "E_DEADLINE"
  | "E_UPSTREAM_MALFORMED"
  | "E_PROBE_FAILED"
  | "E_FORMULA_PARSE"
  /** The state directory or database cannot be used (not a directory, read-only, full, locked by a daemon). */
  | "E_STATE"
  /** The shared state database has a newer schema than this binary knows: upgrade the binary, never downgrade data. */
  | "E_STATE_SCHEMA_NEWER"
  /** This replica no longer owns the project's lease (expired or taken over): its side effect was refused. */
  | "E_LEASE_LOST"
  | "E_SINK_RETRYABLE"
  | "E_SINK_PERMANENT"
  | "E_ERGO"
  | "E_RATE_LIMITED"
  | "E_STEP_FAILED"
  | "E_ABORTED"
  | "E_INTERNAL";

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options?.details;
  }
}

/** A configuration problem; `issues` are `path: message` lines. */
export class ConfigError extends AppError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], source: string) {
    super("E_CONFIG_INVALID", `invalid config ${source}:\n${issues.map((i) => `  - ${i}`).join("\n")}`, {
      details: { issues },
    });
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** A bad CLI argument or value given by the user. */
export class UsageError extends AppError {
  constructor(message: string) {
    super("E_USAGE", message);
    this.name = "UsageError";
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
