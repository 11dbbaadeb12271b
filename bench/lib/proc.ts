/** Child processes with wall time (spawn to exit) and, optionally, the child's peak RSS. */
import { execFile, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR } from "./sim-client.ts";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  wall_ms: number;
  /** Peak RSS of the child in MB (process.resourceUsage().maxRSS at exit), when asked for. */
  max_rss_mb: number | null;
}

const RSS_PRELOAD = join(BENCH_DIR, "workers", "rss-at-exit.ts");

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Record peak RSS through a preload that writes resourceUsage().maxRSS at exit (node children only). */
  rssFile?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** Runs `node …args`. With rssFile, `--import` the exit hook first (it costs one tiny module load). */
export function runNode(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const argv = options.rssFile ? ["--import", RSS_PRELOAD, ...args] : [...args];
  return run(process.execPath, argv, {
    ...options,
    env: { ...process.env, ...(options.rssFile ? { BENCH_RSS_FILE: options.rssFile } : {}), ...options.env },
  });
}

export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : null;
    child.once("close", (code) => {
      const wall = performance.now() - started;
      if (timer) clearTimeout(timer);
      let rss: number | null = null;
      if (options.rssFile) {
        try {
          rss = (JSON.parse(readFileSync(options.rssFile, "utf8")) as { max_rss_kb: number }).max_rss_kb / 1024;
          rmSync(options.rssFile, { force: true });
        } catch {
          rss = null;
        }
      }
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        wall_ms: wall,
        max_rss_mb: rss,
      });
    });
  });
}

/** execFile without a shell, timed (for curl / sha256sum). Rejects on a non-zero exit. */
export function execTimed(file: string, args: readonly string[]): Promise<{ stdout: string; wall_ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      const wall = performance.now() - started;
      if (error) reject(new Error(`${file} ${args.join(" ")}: ${error.message}`, { cause: error }));
      else resolve({ stdout, wall_ms: wall });
    });
  });
}
