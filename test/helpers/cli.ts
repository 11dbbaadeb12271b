import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(REPO_ROOT, "src/cli/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as a child process (no shell), the way a user or CI would. */
export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: { PATH: process.env["PATH"], HOME: process.env["HOME"], NO_COLOR: "1", ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

export function tempDir(prefix = "rm-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export { simConfigYaml, type SimConfigOptions } from "../../src/sim/config-yaml.ts";

export function writeConfig(dir: string, yaml: string, name = "monitor.yaml"): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}
