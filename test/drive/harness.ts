/**
 * End-to-end setup for `monitor release`: real git (a project repo and a Homebrew tap, each a clone of a bare
 * origin), the simulated registries with GitHub Actions, the real ergo 6.0.0 initialised in the project checkout, and a
 * config pointing at all of it. The CLI runs as a child process.
 *
 * Tag pushes reach the sim through a `post-receive` hook in the project's bare origin: a small Node script that
 * peels each pushed tag to its commit and POSTs `{repo, tag, sha}` to the sim's `/_sim/push` control endpoint.
 * The hook is installed after the initial history (v0.7.2, v0.8.0) is pushed, so only the release's push counts.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { WorkflowDef } from "../../src/sim/model-actions.ts";
import {
  createRehearsal,
  git,
  GIT_ENV,
  REHEARSAL_REPO,
  type Rehearsal,
  type RehearsalGate,
} from "../../src/sim/release-rehearsal.ts";
import { CLI, REPO_ROOT, runCli, type CliResult } from "../helpers/cli.ts";
import { initRealErgo, REAL_ERGO } from "../helpers/real-ergo.ts";

export { git, GIT_ENV };
export const REPO = REHEARSAL_REPO;
export const TAG = "v0.9.0";

export interface HarnessOptions {
  /** Gates as argv lists (default: two passing `node -e` gates). */
  gates?: RehearsalGate[];
  verifyWait?: string;
  workflows?: WorkflowDef[];
  releaseChanges?: Record<string, string>;
}

export interface Harness extends Pick<
  Rehearsal,
  "root" | "sim" | "work" | "origin" | "tapWork" | "tapOrigin" | "config"
> {
  evidence: string;
  checkpoint: string;
  env: Record<string, string>;
  cli(args: string[]): Promise<CliResult>;
  /** Start the CLI without waiting (to signal it). */
  start(args: string[]): Running;
  git(dir: string, args: string[]): string;
  /** `git ls-remote --tags` of the project origin: tag ref → sha (annotated tags also as `ref^{}`). */
  originTags(): Record<string, string>;
  tapOriginHead(): string;
  close(): Promise<void>;
}

export interface Running {
  stdout(): string;
  stderr(): string;
  signal(sig: NodeJS.Signals): void;
  done: Promise<CliResult>;
}

/**
 * git without blocking the event loop: needed for a push to the project origin from the test process, whose
 * post-receive hook calls the sim served by this same process.
 */
export async function gitAsync(dir: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)("git", args, {
    cwd: dir,
    env: { ...process.env, ...GIT_ENV },
    encoding: "utf8",
  });
  return stdout.trim();
}

const passing = (name: string, text: string) => ({ name, run: ["node", "-e", `console.log(${JSON.stringify(text)})`] });

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const gates = options.gates ?? [passing("fmt", "fmt ok"), passing("unit-tests", "12 tests passed")];
  const r = await createRehearsal({
    gates,
    ergoBinary: REAL_ERGO,
    token: "ghp_release_test",
    ...(options.verifyWait ? { verifyWait: options.verifyWait } : {}),
    ...(options.workflows ? { workflows: options.workflows } : {}),
    ...(options.releaseChanges ? { releaseChanges: options.releaseChanges } : {}),
  });
  initRealErgo(r.work);
  const env = { ...GIT_ENV };
  const evidenceDir = join(r.work, ".scratch/release");
  return {
    root: r.root,
    sim: r.sim,
    work: r.work,
    origin: r.origin,
    tapWork: r.tapWork,
    tapOrigin: r.tapOrigin,
    config: r.config,
    evidence: join(evidenceDir, `evidence-${TAG}.md`),
    checkpoint: join(evidenceDir, `checkpoint-${TAG}.json`),
    env,
    cli: (args) => runCli(["release", TAG, "--config", r.config, ...args], { env, timeoutMs: 120_000 }),
    start: (args) => startCli(["release", TAG, "--config", r.config, ...args], env),
    git,
    originTags: () => r.originTags(),
    tapOriginHead: () => r.tapOriginHead(),
    close: () => r.close(),
  };
}

function startCli(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"], HOME: process.env["HOME"], NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
  return { stdout: () => stdout, stderr: () => stderr, signal: (s) => child.kill(s), done };
}

/** Keep a sample evidence report under test-artifacts/ (git-ignored) for reading. */
export function keepArtifact(from: string, name: string): string {
  const dir = join(REPO_ROOT, "test-artifacts", "drive");
  mkdirSync(dir, { recursive: true });
  const to = join(dir, name);
  copyFileSync(from, to);
  return to;
}

/** Wait until `predicate` holds (polling), or fail after `ms`. */
export async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
