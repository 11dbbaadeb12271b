import { createRequire } from "node:module";
import { pino, type Logger as PinoLogger, type DestinationStream } from "pino";
import type { SecretRegistry } from "./secrets.ts";

export type Logger = PinoLogger;

export interface LogOptions {
  level?: string;
  /** Pretty-print for humans (default: when stderr is a TTY). */
  pretty?: boolean;
  secrets: SecretRegistry;
  destination?: DestinationStream;
}

const REDACT_PATHS = [
  "token",
  "*.token",
  "webhook_url",
  "*.webhook_url",
  "headers.authorization",
  "*.headers.authorization",
  "*.*.headers.authorization",
];

/**
 * pino logger writing JSON to stderr (stdout carries reports), pretty on a TTY. Secrets are removed twice:
 * secret-bearing fields are censored by `redact` paths, and every serialized line passes through the secret
 * registry, so a token inside an error message or URL never reaches the output.
 */
export function createLogger(options: LogOptions): Logger {
  const target: DestinationStream = options.destination ?? process.stderr;
  const pretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY);
  const sink = pretty ? prettyStream(target) : target;
  const scrubbing: DestinationStream = { write: (line: string) => sink.write(options.secrets.redact(line)) };
  return pino(
    {
      level: options.level ?? process.env["MONITOR_LOG_LEVEL"] ?? "info",
      base: null,
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
    },
    scrubbing,
  );
}

function prettyStream(out: DestinationStream): DestinationStream {
  const require = createRequire(import.meta.url);
  const factory = require("pino-pretty") as (opts: {
    destination: DestinationStream;
    colorize: boolean;
    sync: boolean;
  }) => DestinationStream;
  return factory({ destination: out, colorize: true, sync: true });
}

/** A logger that drops everything; for pure tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
