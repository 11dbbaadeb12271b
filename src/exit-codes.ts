import type { ErrorCode } from "./errors.ts";

/** Process exit codes. CI gates on these; they are part of the public contract (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  drift: 1,
  /** Usage, config or environment error (bad flag or value, invalid config, unusable or locked state directory). */
  usage: 2,
  unknown: 3,
  pending: 4,
  /** `monitor release` stopped by SIGINT after writing a consistent checkpoint (128 + 2). */
  interrupted: 130,
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The one table from error code to exit code. `usage` (2): the user or the environment must change something;
 * `unknown` (3): we could not tell (an upstream failed); `internal` (70): a bug in us. `monitor release` reads the
 * same table to tell an `unknown` step from a failed one.
 */
export const EXIT_CODE_BY_ERROR: { readonly [C in ErrorCode]: ExitCode } = {
  E_USAGE: ExitCode.usage,
  E_CONFIG_INVALID: ExitCode.usage,
  E_CONFIG_READ: ExitCode.usage,
  E_TAG_INVALID: ExitCode.usage,
  E_STATE: ExitCode.usage,
  E_STATE_SCHEMA_NEWER: ExitCode.usage,
  E_LEASE_LOST: ExitCode.unknown,
  E_HTTP_TIMEOUT: ExitCode.unknown,
  E_HTTP_NETWORK: ExitCode.unknown,
  E_HTTP_STATUS: ExitCode.unknown,
  E_HTTP_TOO_LARGE: ExitCode.unknown,
  E_HTTP_RATE_LIMITED: ExitCode.unknown,
  E_HTTP_REDIRECT: ExitCode.unknown,
  E_HTTP_TLS: ExitCode.unknown,
  E_DEADLINE: ExitCode.unknown,
  E_HTTP_AUTH: ExitCode.unknown,
  E_UPSTREAM_MALFORMED: ExitCode.unknown,
  E_PROBE_FAILED: ExitCode.unknown,
  E_ERGO: ExitCode.unknown,
  E_RATE_LIMITED: ExitCode.unknown,
  E_FORMULA_PARSE: ExitCode.internal,
  E_SINK_RETRYABLE: ExitCode.internal,
  E_SINK_PERMANENT: ExitCode.internal,
  E_STEP_FAILED: ExitCode.internal,
  E_ABORTED: ExitCode.internal,
  E_INTERNAL: ExitCode.internal,
};

export function exitCodeForErrorCode(code: ErrorCode): ExitCode {
  return EXIT_CODE_BY_ERROR[code];
}
