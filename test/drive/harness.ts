/**
 * End-to-end setup for `monitor release`: real git (a project repo and a Homebrew tap, each a clone of a bare
 * origin), the simulated registries with GitHub Actions, the real ergo 6.0.0 initialised in the project checkout, and a
 * config pointing at all of it. The CLI runs as a child process.
 *
 * Tag pushes reach the sim through a `post-receive` hook in the project's bare origin: a small Node script that
 * peels each pushed tag to its commit and POSTs `{repo, tag, sha}` to the sim's `/_sim/push` control endpoint.
 * The hook is installed after the initial history (v0.7.2, v0.8.0) is pushed, so only the release's push counts.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import { PLASMITE_TARGETS_MANIFEST } from "../../src/sim/targets-manifest.ts";
import { CLI, REPO_ROOT, runCli, simConfigYaml, tempDir, writeConfig, type CliResult } from "../helpers/cli.ts";
import { initRealErgo, REAL_ERGO } from "../helpers/real-ergo.ts";

export const REPO = "sandover/plasmite";
export const TAG = "v0.9.0";
const HOUR = 3_600_000;

export const GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: "Release Tester",
  GIT_AUTHOR_EMAIL: "release-tester@example.invalid",
  GIT_COMMITTER_NAME: "Release Tester",
  GIT_COMMITTER_EMAIL: "release-tester@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

export interface HarnessOptions {
  /** Gates as argv lists (default: two passing `node -e` gates). */
  gates?: { name: string; run: string[] }[];
  verifyWait?: string;
}

export interface Harness {
  root: string;
  sim: Sim;
  work: string;
  origin: string;
  tapWork: string;
  tapOrigin: string;
  config: string;
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

export function git(dir: string, args: string[]): string {
  return execFileSync("git", args, { cwd: dir, env: { ...process.env, ...GIT_ENV }, encoding: "utf8" }).trim();
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
  const root = tempDir("rm-drive-");
  const sim = await startSim({ githubToken: null });
  const world = sim.world;
  world.addProject(plasmiteProject());
  world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 50 * HOUR });
  world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 26 * HOUR });
  world.actions.addPlasmiteWorkflows(REPO);
  world.actions.setSecrets(REPO, ["CARGO_REGISTRY_TOKEN", "PYPI_API_TOKEN", "NPM_TOKEN", "HOMEBREW_TAP_TOKEN"]);
  world.actions.setTiming({ queuedMs: 100, inProgressMs: 100 });

  // project: bare origin + clone, history with v0.7.2 and v0.8.0, then the 0.9.0 bump
  const origin = join(root, "plasmite.git");
  const work = join(root, "plasmite");
  git(root, ["init", "--quiet", "--bare", "-b", "main", origin]);
  git(root, ["clone", "--quiet", origin, work]);
  mkdirSync(join(work, "release"), { recursive: true });
  writeFileSync(join(work, ".gitignore"), ".ergo/\n.scratch/\n");
  writeFileSync(join(work, "release/targets.json"), PLASMITE_TARGETS_MANIFEST);
  for (const v of ["0.7.2", "0.8.0", "0.9.0"]) {
    writeFileSync(join(work, "Cargo.toml"), `[package]\nname = "plasmite"\nversion = "${v}"\n`);
    git(work, ["add", "-A"]);
    git(work, ["commit", "--quiet", "-m", `release: ${v}`]);
    if (v !== "0.9.0") git(work, ["tag", "-a", `v${v}`, "-m", `Release v${v}`]);
  }
  git(work, ["push", "--quiet", "-u", "origin", "main", "--tags"]);
  const hook = join(origin, "hooks", "post-receive");
  writeFileSync(
    hook,
    `#!${process.execPath}
// Tells the simulated GitHub about pushed tags (POST /_sim/push), like GitHub starting "on: push: tags" workflows.
const { execFileSync } = require("node:child_process");
const input = require("node:fs").readFileSync(0, "utf8");
(async () => {
  for (const line of input.split("\\n")) {
    const [, next, ref] = line.trim().split(/\\s+/);
    if (!ref || !ref.startsWith("refs/tags/") || /^0+$/.test(next)) continue;
    const sha = execFileSync("git", ["rev-parse", next + "^{commit}"], { encoding: "utf8" }).trim();
    const res = await fetch(${JSON.stringify(`${sim.urls.githubApi}/_sim/push`)}, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "post-receive-hook" },
      body: JSON.stringify({ repo: ${JSON.stringify(REPO)}, tag: ref.slice(10), sha }),
    });
    process.stdout.write("sim: " + ref + " -> HTTP " + res.status + "\\n");
  }
})().catch((err) => { process.stderr.write(String(err) + "\\n"); process.exit(1); });
`,
  );
  chmodSync(hook, 0o755);
  initRealErgo(work);

  // tap: bare origin + clone with the 0.8.0 formula the sim serves
  const tapOrigin = join(root, "homebrew-tap.git");
  const tapWork = join(root, "homebrew-tap");
  git(root, ["init", "--quiet", "--bare", "-b", "main", tapOrigin]);
  git(root, ["clone", "--quiet", tapOrigin, tapWork]);
  mkdirSync(join(tapWork, "Formula"), { recursive: true });
  writeFileSync(join(tapWork, "Formula/plasmite.rb"), world.formulaText("plasmite") ?? "");
  writeFileSync(join(tapWork, "README.md"), "# sandover tap\n");
  git(tapWork, ["add", "-A"]);
  git(tapWork, ["commit", "--quiet", "-m", "plasmite: update to 0.8.0"]);
  git(tapWork, ["push", "--quiet", "-u", "origin", "main"]);

  const gates = options.gates ?? [passing("fmt", "fmt ok"), passing("unit-tests", "12 tests passed")];
  const j = (v: unknown) => JSON.stringify(v);
  const release = `    release:
      repo_dir: ${j(work)}
      tap_dir: ${j(tapWork)}
      version_alignment: ${j(["node", "-e", "console.log('version alignment ok: 0.9.0')"])}
      gates:
${gates.map((g) => `        - name: ${g.name}\n          run: ${j(g.run)}`).join("\n")}
      targets_manifest: release/targets.json
      poll_interval: 50ms
      run_appear_timeout: 10s
      run_timeout: 60s
      verify_wait: ${options.verifyWait ?? "20s"}
      ergo: { binary: ${j(REAL_ERGO)} }
`;
  const config = writeConfig(root, simConfigYaml(sim, { token: "ghp_release_test", project: release }));
  const env = { ...GIT_ENV };
  const evidenceDir = join(work, ".scratch/release");
  return {
    root,
    sim,
    work,
    origin,
    tapWork,
    tapOrigin,
    config,
    evidence: join(evidenceDir, `evidence-${TAG}.md`),
    checkpoint: join(evidenceDir, `checkpoint-${TAG}.json`),
    env,
    cli: (args) => runCli(["release", TAG, "--config", config, ...args], { env, timeoutMs: 120_000 }),
    start: (args) => startCli(["release", TAG, "--config", config, ...args], env),
    git,
    originTags() {
      const out = git(root, ["ls-remote", "--tags", origin]);
      const tags: Record<string, string> = {};
      for (const line of out.split("\n").filter(Boolean)) {
        const [sha = "", ref = ""] = line.split(/\s+/);
        tags[ref.replace(/^refs\/tags\//, "")] = sha;
      }
      return tags;
    },
    tapOriginHead: () => git(root, ["--git-dir", tapOrigin, "rev-parse", "main"]),
    close: () => sim.close(),
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
