/**
 * A world to rehearse `monitor release` in, offline: real git (the project and its Homebrew tap, each a clone of
 * a bare origin in a temp directory), the simulated registries with GitHub Actions, and a config pointing at all of
 * it. Used by `monitor release --sim <scenario>` and by the release end-to-end tests.
 *
 * Tag pushes reach the sim through a `post-receive` hook in the project's bare origin: a small Node script that
 * peels each pushed tag to its commit and POSTs `{repo, tag, sha}` to the sim's `/_sim/push` control endpoint
 * (like GitHub starting `on: push: tags` workflows). The hook is installed after the initial history (v0.7.2,
 * v0.8.0) is pushed, so only the release's push counts. The workflow files in `.github/workflows/` are rendered
 * from the same definitions the simulated Actions run, so the driver reads the inputs the sim accepts.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simConfigYaml } from "./config-yaml.ts";
import { startSim, type Sim } from "./index.ts";
import { plasmiteWorkflows, workflowYaml, type WorkflowDef } from "./model-actions.ts";
import { plasmiteProject } from "./scenarios.ts";
import { PLASMITE_TARGETS_MANIFEST } from "./targets-manifest.ts";

export const REHEARSAL_REPO = "sandover/plasmite";
const HOUR = 3_600_000;

/** Author/committer identity and an isolated git config for every git command of a rehearsal. */
export const GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: "Release Rehearsal",
  GIT_AUTHOR_EMAIL: "release-rehearsal@example.invalid",
  GIT_COMMITTER_NAME: "Release Rehearsal",
  GIT_COMMITTER_EMAIL: "release-rehearsal@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

export interface RehearsalGate {
  name: string;
  run: string[];
  when?: { changed: string[] };
}

export interface RehearsalOptions {
  /** Gates as argv lists (default: two passing gates and a conditional one on Cargo.lock). */
  gates?: RehearsalGate[];
  verifyWait?: string;
  /** Workflow definitions of the project (default plasmite's current ones). */
  workflows?: WorkflowDef[];
  /** ergo 6 executable the config names (default `ergo` on PATH). */
  ergoBinary?: string;
  /** Extra files committed with the 0.9.0 bump (path → content), e.g. a Cargo.lock change. */
  releaseChanges?: Record<string, string>;
  /** GitHub token the config carries (the sim accepts any). */
  token?: string;
  /** The project repository's "immutable releases" setting (default on: the verify step checks the attestation). */
  immutableReleases?: boolean;
}

export interface Rehearsal {
  root: string;
  sim: Sim;
  work: string;
  origin: string;
  tapWork: string;
  tapOrigin: string;
  config: string;
  git(dir: string, args: string[]): string;
  /** `git ls-remote --tags` of the project origin: tag ref → sha (annotated tags also as `ref^{}`). */
  originTags(): Record<string, string>;
  tapOriginHead(): string;
  /** Stops the sim; removes the temp directory unless `keep`. */
  close(options?: { keep?: boolean }): Promise<void>;
}

export function git(dir: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd: dir,
    env: { ...process.env, ...GIT_ENV },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

const node = (name: string, code: string): RehearsalGate => ({ name, run: [process.execPath, "-e", code] });

export const DEFAULT_GATES: RehearsalGate[] = [
  node("cargo-fmt", "console.log('fmt: 0 files would change')"),
  node("cargo-test", "console.log('test result: ok. 212 passed; 0 failed')"),
  { ...node("cargo-audit", "console.log('0 vulnerabilities found')"), when: { changed: ["Cargo.lock"] } },
];

export async function createRehearsal(options: RehearsalOptions = {}): Promise<Rehearsal> {
  const root = mkdtempSync(join(tmpdir(), "monitor-release-sim-"));
  const sim = await startSim({ githubToken: null });
  try {
    return setUp(root, sim, options);
  } catch (err) {
    await sim.close();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

function setUp(root: string, sim: Sim, options: RehearsalOptions): Rehearsal {
  const world = sim.world;
  world.addProject(plasmiteProject());
  world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 50 * HOUR });
  world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 26 * HOUR });
  const ghRepo = world.github.repo("sandover", "plasmite");
  if (ghRepo) ghRepo.immutableReleases = options.immutableReleases ?? true;
  const workflows = options.workflows ?? plasmiteWorkflows();
  for (const def of workflows) world.actions.addWorkflow(REHEARSAL_REPO, def);
  world.actions.setSecrets(REHEARSAL_REPO, [
    "CARGO_REGISTRY_TOKEN",
    "PYPI_API_TOKEN",
    "NPM_TOKEN",
    "HOMEBREW_TAP_TOKEN",
  ]);
  world.actions.setTiming({ queuedMs: 100, inProgressMs: 100 });

  // project: bare origin + clone, history with v0.7.2 and v0.8.0, then the 0.9.0 bump
  const origin = join(root, "plasmite.git");
  const work = join(root, "plasmite");
  git(root, ["init", "--quiet", "--bare", "-b", "main", origin]);
  git(root, ["clone", "--quiet", origin, work]);
  mkdirSync(join(work, "release"), { recursive: true });
  mkdirSync(join(work, ".github/workflows"), { recursive: true });
  writeFileSync(join(work, ".gitignore"), ".ergo/\n.scratch/\n");
  writeFileSync(join(work, "release/targets.json"), PLASMITE_TARGETS_MANIFEST);
  writeFileSync(join(work, "Cargo.lock"), "# lockfile\nversion = 4\n");
  for (const def of workflows) writeFileSync(join(work, ".github/workflows", def.file), workflowYaml(def));
  for (const v of ["0.7.2", "0.8.0", "0.9.0"]) {
    writeFileSync(join(work, "Cargo.toml"), `[package]\nname = "plasmite"\nversion = "${v}"\n`);
    if (v === "0.9.0") {
      for (const [file, text] of Object.entries(options.releaseChanges ?? {})) {
        mkdirSync(join(work, file, ".."), { recursive: true });
        writeFileSync(join(work, file), text);
      }
    }
    git(work, ["add", "-A"]);
    git(work, ["commit", "--quiet", "-m", `release: ${v}`]);
    if (v !== "0.9.0") git(work, ["tag", "-a", `v${v}`, "-m", `Release v${v}`]);
  }
  git(work, ["push", "--quiet", "-u", "origin", "main", "--tags"]);
  installPushHook(origin, `${sim.urls.githubApi}/_sim/push`);

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

  const config = join(root, "monitor.yaml");
  writeFileSync(
    config,
    simConfigYaml(sim, {
      token: options.token ?? "sim-token-not-a-secret",
      project: releaseYaml(work, tapWork, options),
    }),
  );
  return {
    root,
    sim,
    work,
    origin,
    tapWork,
    tapOrigin,
    config,
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
    async close(o = {}) {
      await sim.close();
      if (!o.keep) rmSync(root, { recursive: true, force: true });
    },
  };
}

function releaseYaml(work: string, tapWork: string, options: RehearsalOptions): string {
  const j = (v: unknown) => JSON.stringify(v);
  const gates = (options.gates ?? DEFAULT_GATES)
    .map(
      (g) => `        - name: ${g.name}\n          run: ${j(g.run)}${g.when ? `\n          when: ${j(g.when)}` : ""}`,
    )
    .join("\n");
  return `    release:
      repo_dir: ${j(work)}
      tap_dir: ${j(tapWork)}
      version_alignment: ${j([process.execPath, "-e", "console.log('version alignment ok: 0.9.0')"])}
      gates:
${gates}
      targets_manifest: release/targets.json
      poll_interval: 50ms
      run_appear_timeout: 10s
      run_timeout: 60s
      verify_wait: ${options.verifyWait ?? "20s"}
      ergo: { binary: ${j(options.ergoBinary ?? "ergo")} }
`;
}

function installPushHook(origin: string, pushUrl: string): void {
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
    const res = await fetch(${JSON.stringify(pushUrl)}, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "post-receive-hook" },
      body: JSON.stringify({ repo: ${JSON.stringify(REHEARSAL_REPO)}, tag: ref.slice(10), sha }),
    });
    process.stdout.write("sim: " + ref + " -> HTTP " + res.status + "\\n");
  }
})().catch((err) => { process.stderr.write(String(err) + "\\n"); process.exit(1); });
`,
  );
  chmodSync(hook, 0o755);
}
