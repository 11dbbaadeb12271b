/**
 * No Docker engine here, so this replays the Dockerfile: each stage gets its own directory standing in for the image
 * filesystem; WORKDIR, ENV and COPY (from the build context through .dockerignore, or --from an earlier stage) are
 * applied; RUN steps made only of npm/node commands are run for real (npm ci, npm run build, npm ci --omit=dev),
 * system steps (apt-get, install -d, ln) are skipped. Then the runtime stage's ENTRYPOINT + CMD (`watch`, minus the
 * init) runs against the simulated registries, the HEALTHCHECK command runs until /healthz answers, and SIGTERM must
 * stop it with exit 0. Slow: two npm ci runs and a TypeScript build (~30 s).
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, posix, relative, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { setTimeout as sleep } from "node:timers/promises";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { applyScenario } from "../../src/sim/scenarios.ts";
import { REPO_ROOT, simConfigYaml, tempDir } from "../helpers/cli.ts";
import {
  copyPaths,
  dockerignoreExcludes,
  healthcheckCommand,
  parseDockerfile,
  type Instruction,
  type Stage,
} from "./dockerfile.ts";
import { devOnlyPackages, freePort, run, tail, toolEnv, type RunResult } from "./proc.ts";

const DOCKERFILE = parseDockerfile(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8"));
const DOCKERIGNORE = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8");

interface Probe {
  exec: { command: string[] };
}

interface StageState {
  stage: Stage;
  /** The stage's filesystem root on the host. */
  root: string;
  /** Current WORKDIR (container path). */
  workdir: string;
  env: Record<string, string>;
  ran: string[];
  skipped: string[];
}

/** A container path inside a stage root. */
const hostPath = (root: string, containerPath: string) => join(root, ...containerPath.split("/").filter(Boolean));

const NPM_OR_NODE = /^(npm|node)\s/;

async function replayStage(
  stage: Stage,
  root: string,
  done: Map<string, StageState>,
  timings: Record<string, number>,
): Promise<StageState> {
  const st: StageState = { stage, root, workdir: "/", env: {}, ran: [], skipped: [] };
  mkdirSync(root, { recursive: true });
  const resolveIn = (p: string) => (p.startsWith("/") ? p : posix.join(st.workdir, p));
  for (const ins of stage.instructions.slice(1)) {
    switch (ins.keyword) {
      case "WORKDIR":
        st.workdir = resolveIn(ins.args);
        mkdirSync(hostPath(root, st.workdir), { recursive: true });
        break;
      case "ENV":
        for (const m of ins.args.matchAll(/([A-Za-z_]\w*)=("[^"]*"|\S+)/g)) st.env[m[1]!] = m[2]!.replace(/^"|"$/g, "");
        break;
      case "COPY":
        copyStep(st, ins, done, resolveIn);
        break;
      case "RUN": {
        const cmds = ins.args.split("&&").map((c) => c.trim());
        if (!cmds.every((c) => NPM_OR_NODE.test(c))) {
          assert.ok(!cmds.some((c) => NPM_OR_NODE.test(c)), `line ${ins.line}: npm/node mixed with system commands`);
          st.skipped.push(ins.args);
          break;
        }
        const r = await run("sh", ["-c", ins.args], {
          cwd: hostPath(root, st.workdir),
          env: toolEnv(st.env),
          timeoutMs: 480_000,
        });
        timings[`${stage.name}: ${ins.args.slice(0, 40)}`] = r.ms;
        assert.equal(r.code, 0, `${stage.name ?? stage.index} line ${ins.line}: RUN ${ins.args} failed\n${tail(r)}`);
        st.ran.push(ins.args);
        break;
      }
      default:
        break; // USER, VOLUME, EXPOSE, HEALTHCHECK, ENTRYPOINT, CMD: metadata, read by the tests below
    }
  }
  return st;
}

function copyStep(
  st: StageState,
  ins: Instruction,
  done: Map<string, StageState>,
  resolveIn: (p: string) => string,
): void {
  const { sources, dest } = copyPaths(ins);
  const from = ins.flags["from"];
  const fromStage = from === undefined ? null : done.get(from);
  if (from !== undefined) assert.ok(fromStage, `line ${ins.line}: COPY --from=${from}: no such earlier stage`);
  const destPath = resolveIn(dest);
  const intoDir = dest.endsWith("/") || sources.length > 1;
  for (const src of sources) {
    const hostSrc = fromStage ? hostPath(fromStage.root, src) : join(REPO_ROOT, src);
    assert.ok(existsSync(hostSrc), `line ${ins.line}: COPY source ${src} does not exist`);
    if (!fromStage) assert.equal(dockerignoreExcludes(DOCKERIGNORE, src), false, `COPY ${src} is .dockerignored`);
    const target = statSync(hostSrc).isDirectory() || !intoDir ? destPath : posix.join(destPath, posix.basename(src));
    const hostTarget = hostPath(st.root, target);
    mkdirSync(dirname(hostTarget), { recursive: true });
    cpSync(hostSrc, hostTarget, {
      recursive: true,
      // The build context is what .dockerignore lets through.
      filter: (p) =>
        fromStage !== null || !dockerignoreExcludes(DOCKERIGNORE, relative(REPO_ROOT, p).split(sep).join("/")),
    });
  }
}

describe("Dockerfile replay (no Docker engine)", { timeout: 900_000 }, () => {
  const work = tempDir("rm-docker-");
  const stages = new Map<string, StageState>();
  const timings: Record<string, number> = {};
  let runtime: StageState;
  let sim: Sim;
  let child: ChildProcess | null = null;
  const final = DOCKERFILE.stages.at(-1)!;
  const meta = (kw: string) => final.instructions.find((i) => i.keyword === kw);

  /** ENTRYPOINT without the init (tini ... --), container paths mapped into the runtime root, then CMD + args. */
  function command(args: readonly string[]): string[] {
    const entry = meta("ENTRYPOINT")!.exec!;
    const cmd = [...entry.slice(entry.indexOf("--") + 1), ...args];
    return cmd.map((a) => (isAbsolute(a) && a.startsWith("/app") ? hostPath(runtime.root, a) : a));
  }
  function runtimeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: Record<string, string> = { ...runtime.env };
    if (env["MONITOR_CONFIG"]) env["MONITOR_CONFIG"] = hostPath(runtime.root, env["MONITOR_CONFIG"]);
    return toolEnv({ ...env, ...extra });
  }
  const exec = (argv: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunResult> =>
    run(argv[0]!, argv.slice(1), { cwd: hostPath(runtime.root, runtime.workdir), env, timeoutMs });

  before(async () => {
    for (const stage of DOCKERFILE.stages) {
      const st = await replayStage(stage, join(work, stage.name ?? String(stage.index)), stages, timings);
      stages.set(stage.name ?? String(stage.index), st);
    }
    runtime = stages.get(final.name ?? String(final.index))!;
    sim = await startSim({ githubToken: null });
    applyScenario(sim.world, "clean");
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await sim?.close();
    process.stdout.write(`# docker-replay timings (ms): ${JSON.stringify(timings)}\n`);
    rmSync(work, { recursive: true, force: true }); // two node_modules trees
  });

  it("runs the build and the production install, skipping only system steps", () => {
    const build = stages.get("build")!;
    assert.ok(build.ran.some((c) => /^npm ci\b/.test(c)));
    assert.ok(build.ran.includes("npm run build"));
    assert.ok(runtime.ran.some((c) => /^npm ci .*--omit=dev/.test(c)));
    assert.equal(runtime.skipped.length, 1);
    assert.match(runtime.skipped[0]!, /apt-get install .*tini/);
  });

  it("the runtime image holds only runtime files and production dependencies", () => {
    const app = hostPath(runtime.root, runtime.workdir);
    assert.deepEqual(readdirSync(app).sort(), [
      "bin",
      "dist",
      "examples",
      "node_modules",
      "package-lock.json",
      "package.json",
    ]);
    assert.ok(existsSync(join(app, "dist/cli/main.js")));
    assert.ok(!readdirSync(join(app, "dist"), { recursive: true }).some((f) => String(f).endsWith(".ts")));
    const devOnly = devOnlyPackages(REPO_ROOT);
    assert.ok(devOnly.includes("typescript"));
    for (const d of devOnly) assert.ok(!existsSync(join(app, "node_modules", d)), `dev-only ${d} in the image`);
  });

  it("one-shot: `docker run IMAGE verify v0.8.0 --sim clean` exits 0", async () => {
    const r = await exec(
      command(["verify", "v0.8.0", "--config", "/app/examples/plasmite.yaml", "--sim", "clean"]),
      runtimeEnv(),
    );
    assert.equal(r.code, 0, tail(r));
    assert.match(r.stdout, /plasmite v0\.8\.0\s+OK/);
  });

  it("the HEALTHCHECK fails while nothing listens", async () => {
    const hc = healthcheckCommand(meta("HEALTHCHECK")!).exec!;
    const port = await freePort();
    const r = await exec(hc, runtimeEnv({ MONITOR_HEALTHCHECK_URL: `http://127.0.0.1:${port}/healthz` }), 10_000);
    assert.equal(r.code, 1, tail(r));
  });

  it("`watch` (the default CMD) turns healthy and ready, then stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const volume = meta("VOLUME")!.exec![0]!;
    const stateDir = hostPath(runtime.root, volume);
    const configPath = runtimeEnv()["MONITOR_CONFIG"]!;
    mkdirSync(dirname(configPath), { recursive: true });
    // A token, as in the container config (non-loopback listen requires one): /healthz must not need it.
    const token = "replay-server-token";
    const settings = `  state_dir: ${stateDir}\n  server:\n    listen: 127.0.0.1:${port}\n    token: ${token}\n  watch:\n    jitter: "0"\n`;
    writeFileSync(configPath, simConfigYaml(sim, { settings }));

    const argv = command(meta("CMD")!.exec!);
    let output = "";
    const proc = spawn(argv[0]!, argv.slice(1), {
      cwd: hostPath(runtime.root, runtime.workdir),
      env: runtimeEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    proc.stdout.on("data", (d: Buffer) => (output += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      proc.on("exit", (code, signal) => done({ code, signal })),
    );

    // The image's HEALTHCHECK, pointed at this port, until it passes (start-period 30 s).
    const hc = healthcheckCommand(meta("HEALTHCHECK")!).exec!;
    const hcEnv = runtimeEnv({ MONITOR_HEALTHCHECK_URL: `http://127.0.0.1:${port}/healthz` });
    const started = Date.now();
    let healthy = false;
    while (!healthy && Date.now() - started < 30_000) {
      assert.equal(proc.exitCode, null, `watch exited early (${proc.exitCode})\n${output.slice(-3000)}`);
      healthy = (await exec(hc, hcEnv, 10_000)).code === 0;
      if (!healthy) await sleep(300);
    }
    timings["watch until healthy"] = Date.now() - started;
    assert.ok(
      healthy,
      `/healthz did not answer 200 within 30 s: does \`monitor watch\` serve settings.server.listen?\n${output.slice(-3000)}`,
    );
    assert.ok(existsSync(join(stateDir, "monitor.db")), "state db in the volume");

    // The Kubernetes readiness probe (exec: /readyz with the token from the Secret's env) passes after a cycle.
    const k8s = parseAllDocuments(readFileSync(join(REPO_ROOT, "deploy/kubernetes/release-monitor.yaml"), "utf8"))
      .map(
        (d) => d.toJS() as { kind: string; spec: { template: { spec: { containers: { readinessProbe: Probe }[] } } } },
      )
      .find((d) => d.kind === "Deployment")!;
    const probe = [...k8s.spec.template.spec.containers[0]!.readinessProbe.exec.command];
    assert.ok(probe[2]!.includes("127.0.0.1:8080/"));
    probe[2] = probe[2]!.replace("127.0.0.1:8080/", `127.0.0.1:${port}/`);
    const readyEnv = runtimeEnv({ MONITOR_SERVER_TOKEN: token });
    let ready = false;
    while (!ready && Date.now() - started < 60_000) {
      ready = (await exec(probe, readyEnv, 10_000)).code === 0;
      if (!ready) await sleep(300);
    }
    timings["watch until ready"] = Date.now() - started;
    assert.ok(ready, `the readiness probe never passed\n${output.slice(-3000)}`);
    const wrongToken = await exec(probe, runtimeEnv({ MONITOR_SERVER_TOKEN: "wrong" }), 10_000);
    assert.equal(wrongToken.code, 1, "the readiness probe passes without the right token");

    const stopAt = Date.now();
    proc.kill("SIGTERM");
    const timeout = sleep(30_000, undefined, { ref: false }).then(() => ({ code: null, signal: "timeout" as const }));
    const result = await Promise.race([exited, timeout]);
    timings["SIGTERM to exit"] = Date.now() - stopAt;
    assert.deepEqual(result, { code: 0, signal: null }, output.slice(-3000));
  });
});
