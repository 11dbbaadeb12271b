import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

/**
 * Environment for child processes of the deploy tests: the Node running the tests (24) first on PATH, so `npm`,
 * lifecycle scripts and `#!/usr/bin/env node` shebangs all use it; dependencies come from the local npm cache first.
 * The rest of the environment (proxy and CA settings npm needs to reach the registry) is kept, except what an outer
 * `npm test` or `node --test` injects (npm_* lifecycle config such as the local prefix, NODE_TEST_CONTEXT).
 */
export function toolEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !/^npm_config_(registry|cache|userconfig)$/i.test(k)) continue;
    if (k === "NODE_TEST_CONTEXT" || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  return {
    ...env,
    PATH: [dirname(process.execPath), process.env["PATH"] ?? ""].join(delimiter),
    NO_COLOR: "1",
    npm_config_prefer_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    ...extra,
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command without a shell; never rejects (timeouts kill the process and show up as a signal). */
export function run(
  cmd: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; shell?: boolean },
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? toolEnv(),
      shell: options.shell ?? false,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.on("error", (err) => {
      stderr += String(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The last lines of a process's output, for assertion messages. */
export function tail(r: Pick<RunResult, "stdout" | "stderr">, lines = 30): string {
  return `--- stdout\n${r.stdout.split("\n").slice(-lines).join("\n")}\n--- stderr\n${r.stderr.split("\n").slice(-lines).join("\n")}`;
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => done(port));
    });
  });
}

/** Top-level packages the lockfile marks dev-only (some dev dependencies, like @types/node, are production ones too). */
export function devOnlyPackages(repoRoot: string): string[] {
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean }>;
  };
  // A production install hoists differently: a name that is dev-only at the top level may be a production
  // dependency deeper down (nested under another package) and then sit at the top of the installed tree.
  const nameOf = (key: string): string => key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
  const production = new Set(
    Object.entries(lock.packages)
      .filter(([k, v]) => k !== "" && v.dev !== true)
      .map(([k]) => nameOf(k)),
  );
  return Object.entries(lock.packages)
    .filter(([k, v]) => v.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(k))
    .map(([k]) => nameOf(k))
    .filter((name) => !production.has(name));
}
