import { spawn } from "node:child_process";
import { AppError } from "../errors.ts";

/**
 * Runs one ergo process. No shell: `spawn(binary, args)` with an argument vector (this is what `execFile` does
 * underneath; `execFile` itself cannot be used because it ignores `stdio` and always hands the child a piped stdin,
 * which ergo 6 rejects for done/fail/block/cancel/open, see ergo.md §6).
 *
 * stdin: `ignore` (Node opens /dev/null, a character device, which ergo treats as a terminal) unless a body is
 * given; then it is piped, written and closed, because `new task`/`new epic`/`body` read a piped stdin to EOF.
 */
export interface ErgoRunOptions {
  binary: string;
  /** Working directory; ergo discovers `.ergo` by walking up from here. */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the process after this long (ergo itself waits up to 10 s for its lock). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Written to a piped stdin, which is then closed. `undefined`: stdin is /dev/null. */
  stdin?: string;
}

export interface ErgoOutput {
  stdout: string;
  stderr: string;
}

const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** `locked`: the monitor's own lock beside `.ergo` (lock.ts) stayed taken. */
export type ErgoFailure =
  "exit" | "spawn" | "not-found" | "timeout" | "aborted" | "signal" | "output" | "too-large" | "locked";

/** An ergo invocation failed. `ergoMessage`/`hint` are the `error:`/`hint:` lines ergo printed on stderr. */
export class ErgoError extends AppError {
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly failure: ErgoFailure;
  readonly ergoMessage: string | null;
  readonly hint: string | null;
  readonly stderr: string;

  constructor(
    message: string,
    fields: {
      args: readonly string[];
      failure: ErgoFailure;
      exitCode?: number | null;
      ergoMessage?: string | null;
      hint?: string | null;
      stderr?: string;
      cause?: unknown;
    },
  ) {
    super("E_ERGO", message, {
      ...(fields.cause === undefined ? {} : { cause: fields.cause }),
      details: {
        args: fields.args,
        failure: fields.failure,
        exit_code: fields.exitCode ?? null,
        hint: fields.hint ?? null,
      },
    });
    this.name = "ErgoError";
    this.args = fields.args;
    this.failure = fields.failure;
    this.exitCode = fields.exitCode ?? null;
    this.ergoMessage = fields.ergoMessage ?? null;
    this.hint = fields.hint ?? null;
    this.stderr = fields.stderr ?? "";
  }

  /** ergo could not take its repository lock (nothing was written; safe to retry). */
  get lockBusy(): boolean {
    return this.ergoMessage !== null && /^lock busy\b/.test(this.ergoMessage);
  }

  /** Worth retrying later: lock busy (ergo's or the monitor's), timeout, aborted, killed by a signal. */
  get transient(): boolean {
    return (
      this.lockBusy ||
      this.failure === "locked" ||
      this.failure === "timeout" ||
      this.failure === "aborted" ||
      this.failure === "signal"
    );
  }

  /** `unknown task id X` / `no such epic: X`. */
  get notFound(): boolean {
    return this.ergoMessage !== null && /^(unknown task id|no such epic)\b/.test(this.ergoMessage);
  }
}

/** The `error:` and `hint:` lines of ergo's stderr (cmd/ergo/cmd_helpers.go writeCLIError). */
export function parseErgoStderr(stderr: string): { error: string | null; hint: string | null } {
  let error: string | null = null;
  let hint: string | null = null;
  for (const raw of stderr.split(/\r?\n/)) {
    const line = raw.trim();
    if (error === null && line.startsWith("error:")) error = line.slice("error:".length).trim();
    else if (hint === null && line.startsWith("hint:")) hint = line.slice("hint:".length).trim();
  }
  return { error, hint };
}

/** `ergo done ABC123 -m "…"` for messages; long arguments are shortened. */
export function describeCommand(binary: string, args: readonly string[]): string {
  const shown = args.map((a) => {
    const short = a.length > 80 ? `${a.slice(0, 77)}...` : a;
    return /^[A-Za-z0-9_./:=@+-]+$/.test(short) ? short : JSON.stringify(short);
  });
  const name = binary.split(/[\\/]/).pop() ?? binary;
  return [name, ...shown].join(" ");
}

export function runErgo(args: readonly string[], options: ErgoRunOptions): Promise<ErgoOutput> {
  const command = describeCommand(options.binary, args);
  return new Promise<ErgoOutput>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ErgoError(`${command}: aborted`, { args, failure: "aborted", cause: options.signal.reason }));
      return;
    }
    const child = spawn(options.binary, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      shell: false,
      windowsHide: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let failure: ErgoFailure | null = null;
    let spawnError: NodeJS.ErrnoException | null = null;

    const kill = (why: ErgoFailure) => {
      if (failure === null) failure = why;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => kill("timeout"), options.timeoutMs);
    const onAbort = () => kill("aborted");
    options.signal?.addEventListener("abort", onAbort, { once: true });

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) kill("too-large");
      else into.push(chunk);
    };
    child.stdout?.on("data", collect(out));
    child.stderr?.on("data", collect(err));
    if (options.stdin !== undefined && child.stdin) {
      child.stdin.on("error", () => {
        // EPIPE when ergo exits before reading its stdin; the exit status tells what happened.
      });
      child.stdin.end(options.stdin);
    }
    child.on("error", (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (spawnError !== null) {
        const notFound = spawnError.code === "ENOENT";
        reject(
          new ErgoError(
            notFound
              ? `${command}: ergo binary not found (${options.binary}); install ergo 6 or set the sink's "binary"`
              : `${command}: could not start ergo: ${spawnError.message}`,
            { args, failure: notFound ? "not-found" : "spawn", cause: spawnError },
          ),
        );
        return;
      }
      if (failure !== null) {
        const what =
          failure === "timeout"
            ? `timed out after ${options.timeoutMs} ms`
            : failure === "aborted"
              ? "aborted"
              : "output too large";
        reject(new ErgoError(`${command}: ${what}`, { args, failure, stderr }));
        return;
      }
      if (code === 0) {
        resolve({ stdout, stderr });
        return;
      }
      const parsed = parseErgoStderr(stderr);
      const detail =
        parsed.error ??
        (signal !== null ? `killed by ${signal}` : stderr.trim().split("\n").pop()?.slice(0, 300) || "no error output");
      reject(
        new ErgoError(
          `${command}: ${detail}${parsed.hint === null ? "" : ` (hint: ${parsed.hint})`}${code === null ? "" : ` [exit ${code}]`}`,
          {
            args,
            failure: signal !== null ? "signal" : "exit",
            exitCode: code,
            ergoMessage: parsed.error,
            hint: parsed.hint,
            stderr,
          },
        ),
      );
    });
  });
}
