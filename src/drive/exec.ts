import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";

/**
 * Child processes of the release driver: always `spawn(argv[0], argv.slice(1))` with an argument vector, never a
 * shell string built from input. Aborting the signal kills the child (SIGTERM).
 */

export interface ExecResult {
  argv: readonly string[];
  /** Exit code; null when killed by a signal or when it could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  duration_ms: number;
  timed_out: boolean;
  /** Spawn error (ENOENT, EACCES), when the program did not start. */
  error: string | null;
}

export interface ExecOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Collect at most this many bytes of stdout/stderr each (default 4 MiB). */
  maxBytes?: number;
}

const DEFAULT_MAX = 4 * 1024 * 1024;

/** Run and capture stdout/stderr (git, version alignment). */
export function execCapture(argv: readonly string[], o: ExecOptions): Promise<ExecResult> {
  return runChild(argv, o, null);
}

export interface LoggedResult extends ExecResult {
  /** The last lines of combined stdout+stderr. */
  tail: string[];
  log: string;
}

/** Run with stdout and stderr streamed into `logFile` (a QA gate); keeps the last `tailLines` lines. */
export async function execToLog(
  argv: readonly string[],
  o: ExecOptions & { logFile: string; tailLines?: number; onLine?: (line: string) => void },
): Promise<LoggedResult> {
  await mkdir(path.dirname(o.logFile), { recursive: true });
  const out = createWriteStream(o.logFile, { flags: "w" });
  out.write(`$ ${formatArgv(argv)}\n# cwd: ${o.cwd}\n# started: ${new Date().toISOString()}\n`);
  const keep = o.tailLines ?? 20;
  const tail: string[] = [];
  let partial = "";
  const onData = (chunk: Buffer): void => {
    out.write(chunk);
    const text = partial + chunk.toString("utf8");
    const lines = text.split(/\r?\n/);
    partial = lines.pop() ?? "";
    for (const line of lines) {
      tail.push(line);
      if (tail.length > keep) tail.shift();
      o.onLine?.(line);
    }
  };
  const result = await runChild(argv, o, onData);
  if (partial !== "") {
    tail.push(partial);
    if (tail.length > keep) tail.shift();
  }
  const end = result.error
    ? `# failed to start: ${result.error}`
    : `# exit: ${result.code ?? `signal ${result.signal ?? "?"}`}${result.timed_out ? " (timed out)" : ""} after ${result.duration_ms} ms`;
  await new Promise<void>((resolve) => out.end(`\n${end}\n`, () => resolve()));
  return { ...result, tail, log: o.logFile };
}

function runChild(
  argv: readonly string[],
  o: ExecOptions,
  onData: ((chunk: Buffer) => void) | null,
): Promise<ExecResult> {
  const [program, ...args] = argv;
  const started = Date.now();
  const max = o.maxBytes ?? DEFAULT_MAX;
  return new Promise((resolve) => {
    if (program === undefined) {
      resolve({
        argv,
        code: null,
        signal: null,
        stdout: "",
        stderr: "",
        duration_ms: 0,
        timed_out: false,
        error: "empty command",
      });
      return;
    }
    const child = spawn(program, args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    let spawnError: string | null = null;
    const timer =
      o.timeoutMs !== undefined && o.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 2000).unref();
          }, o.timeoutMs)
        : null;
    child.stdout.on("data", (c: Buffer) => {
      onData?.(c);
      if (outBytes < max) stdout.push(c);
      outBytes += c.length;
    });
    child.stderr.on("data", (c: Buffer) => {
      onData?.(c);
      if (errBytes < max) stderr.push(c);
      errBytes += c.length;
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.name !== "AbortError") spawnError = err.code ?? err.message;
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        argv,
        code: spawnError ? null : code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        duration_ms: Date.now() - started,
        timed_out: timedOut,
        error: spawnError,
      });
    });
  });
}

/** argv for display (evidence, dry-run plans): words quoted only when needed. Never executed. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map(quoteWord).join(" ");
}

function quoteWord(w: string): string {
  if (w !== "" && /^[A-Za-z0-9_./:=@%+,-]+$/.test(w)) return w;
  return `'${w.replace(/'/g, `'\\''`)}'`;
}
