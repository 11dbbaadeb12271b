/**
 * Scenario harness: the daemon runs as a REAL child process (`node src/cli/main.ts watch --config …`) against the
 * simulated registries started in the test process, the fake Slack webhook and the real ergo 6.0.0. Tests wait on
 * conditions (state db, fake servers) with deadlines, never on fixed sleeps.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { after } from "node:test";
import { stringify } from "yaml";
import { KIND_HEADER } from "../../src/alerts/sinks/slack/message.ts";
import type { AlertKind } from "../../src/alerts/types.ts";
import { applyScenario, plasmiteProject, startSim, type Sim } from "../../src/sim/index.ts";
import { openStateStore, stateDbPath } from "../../src/state/sqlite.ts";
import type { StateStore } from "../../src/state/types.ts";
import type { ErgoListItem } from "../../src/ergo/parse.ts";
import { initRealErgo, listAll, REAL_ERGO } from "../helpers/real-ergo.ts";
import { startFakeSlack, type FakeSlack } from "../fakes/slack-server.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
const MAIN = join(REPO_ROOT, "src", "cli", "main.ts");
const NODE_BIN_DIR = dirname(process.execPath);
export const TOKEN = "ghp_scenarioToken0123456789";

export interface ProjectOptions {
  name: string;
  repo: string;
  /** Channels to configure (default: every channel the sim project has). */
  channels: ("github" | "crates" | "npm" | "pypi" | "homebrew")[];
  /** GitHub checksum file (null: none). */
  checksums?: string | null;
  /** The project's `provenance:` block (default: none, so every policy is `warn`). */
  provenance?: Record<string, unknown>;
}

export interface ConfigOptions {
  projects: ProjectOptions[];
  grace?: string;
  flapCycles?: number;
  schedule?: string;
  sinks?: ("slack" | "ergo" | "webhook")[];
  /** `group:` of every sink entry (default: none written, i.e. incident). */
  group?: "incident" | "release";
  /** For the webhook sink: the receiver's URL and the HMAC secret. */
  webhook?: { url: string; secret: string };
  remindEvery?: string;
  hotFor?: string;
}

export interface DaemonProcess {
  proc: ChildProcess;
  /** Parsed JSON log lines (stderr). */
  logs: Record<string, unknown>[];
  stdout: string[];
  exited: Promise<number | null>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

export interface SlackAlert {
  kind: AlertKind;
  text: string;
  status: number | null;
}

export class Scene {
  readonly dir: string;
  readonly sim: Sim;
  readonly slack: FakeSlack;
  readonly ergoDir: string;
  readonly configPath: string;
  readonly children: DaemonProcess[] = [];

  private constructor(dir: string, sim: Sim, slack: FakeSlack) {
    this.dir = dir;
    this.sim = sim;
    this.slack = slack;
    this.ergoDir = join(dir, "ergo-repo");
    this.configPath = join(dir, "monitor.yaml");
  }

  #ergoReady = false;
  /** The real ergo repository, initialised when a config first names the ergo sink. */
  #initErgo(): void {
    if (this.#ergoReady) return;
    mkdirSync(this.ergoDir);
    initRealErgo(this.ergoDir);
    this.#ergoReady = true;
  }

  static async start(): Promise<Scene> {
    const dir = mkdtempSync(join(tmpdir(), "monitor-scenario-"));
    const sim = await startSim({ githubToken: TOKEN });
    const slack = await startFakeSlack({ retryAfterSeconds: 1 });
    return new Scene(dir, sim, slack);
  }

  /** plasmite in the sim, configured as plasmite-release.md describes it. */
  static plasmite(over: Partial<ProjectOptions> = {}): ProjectOptions {
    return {
      name: "plasmite",
      repo: "sandover/plasmite",
      channels: ["github", "crates", "npm", "pypi", "homebrew"],
      ...over,
    };
  }

  /** A second project with GitHub + npm only (for registry-outage grouping). */
  addBeta(publishedAt: number): ProjectOptions {
    this.sim.world.addProject({
      name: "beta",
      repo: "acme/beta",
      npm: "beta",
      crate: null,
      pypi: null,
      tap: null,
      targetsManifest: null,
    });
    this.sim.world.publish("beta", "1.0.0", { publishedAt });
    return { name: "beta", repo: "acme/beta", channels: ["github", "npm"] };
  }

  scenario(name: Parameters<typeof applyScenario>[1], options: Parameters<typeof applyScenario>[2] = {}) {
    return applyScenario(this.sim.world, name, options);
  }

  writeConfig(o: ConfigOptions): void {
    const sinks: Record<string, unknown>[] = [];
    for (const s of o.sinks ?? ["slack", "ergo"]) {
      if (s === "slack") sinks.push({ type: "slack", webhook_url: this.slack.url, min_interval: "50ms" });
      if (s === "ergo") this.#initErgo();
      if (s === "ergo") sinks.push({ type: "ergo", repo_dir: this.ergoDir, binary: REAL_ERGO });
      if (s === "webhook") {
        if (!o.webhook) throw new Error("writeConfig: the webhook sink needs `webhook`");
        sinks.push({ type: "webhook", url: o.webhook.url, secret: o.webhook.secret, timeout: "5s" });
      }
    }
    if (o.group) for (const entry of sinks) entry["group"] = o.group;
    const grace = o.grace ?? "0";
    const config = {
      version: 1,
      settings: {
        ...this.sim.settingsOverlay(),
        http: { retries: 0, request_timeout: "5s" },
        grace: { github: grace, crates: grace, npm: grace, pypi: grace, homebrew: grace },
        state_dir: "state",
        watch: {
          schedule: o.schedule ?? "*/1 * * * * *",
          jitter: "0",
          hot_interval: "0",
          hot_for: o.hotFor ?? "0",
          cycle_timeout: "20s",
        },
        alerts: {
          flap_cycles: o.flapCycles ?? 2,
          remind_every: o.remindEvery ?? "1h",
          retry_base: "200ms",
          retry_max: "1s",
          sinks,
        },
      },
      projects: o.projects.map((p) => projectConfig(p)),
    };
    writeFileSync(this.configPath, stringify(config));
  }

  /** Starts `monitor watch` as a child process. */
  startDaemon(extraArgs: string[] = []): DaemonProcess {
    const child = this.#spawn([
      "watch",
      "--config",
      this.configPath,
      "--drain-timeout",
      "3s",
      "--listen",
      "127.0.0.1:0",
      ...extraArgs,
    ]);
    this.children.push(child);
    return child;
  }

  /** `monitor watch --once`: resolves with the exit code when it is done. */
  async once(): Promise<{ code: number | null; logs: Record<string, unknown>[] }> {
    const child = this.#spawn(["watch", "--once", "--config", this.configPath, "--drain-timeout", "5s"]);
    const code = await child.exited;
    return { code, logs: child.logs };
  }

  /** Runs any other CLI command to completion. */
  async cli(args: string[]): Promise<{ code: number | null; stdout: string; logs: Record<string, unknown>[] }> {
    const child = this.#spawn(args);
    const code = await child.exited;
    return { code, stdout: child.stdout.join(""), logs: child.logs };
  }

  #spawn(args: string[]): DaemonProcess {
    const proc = spawn(process.execPath, [MAIN, ...args], {
      cwd: this.dir,
      env: {
        ...process.env,
        PATH: `${NODE_BIN_DIR}${delimiter}${process.env["PATH"] ?? ""}`,
        MONITOR_LOG_LEVEL: "info",
        GITHUB_TOKEN: "",
        NO_COLOR: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const logs: Record<string, unknown>[] = [];
    const stdout: string[] = [];
    let partial = "";
    proc.stderr?.on("data", (d: Buffer) => {
      partial += d.toString("utf8");
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          logs.push({ msg: line, raw: true });
        }
      }
    });
    proc.stdout?.on("data", (d: Buffer) => stdout.push(d.toString("utf8")));
    const exited = new Promise<number | null>((res) => proc.on("exit", (code) => res(code)));
    return {
      proc,
      logs,
      stdout,
      exited,
      async stop() {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
        return exited;
      },
      async kill9() {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
        await exited;
      },
    };
  }

  /** Opens the daemon's state db for a look (WAL: safe while the daemon runs). */
  withState<T>(fn: (store: StateStore) => T): T {
    const store = openStateStore(stateDbPath(this.dir, "state"));
    try {
      return fn(store);
    } finally {
      store.close();
    }
  }

  /** Cycles recorded for a project so far. */
  cycles(project = "plasmite"): number {
    return this.withState((s) => s.cycles(project, 10_000).length);
  }

  /** Slack requests answered 200, as alert kinds (from the message header label). */
  slackDelivered(): SlackAlert[] {
    return this.slack.received.filter((r) => r.status === 200).map((r) => toSlackAlert(r.body, r.status));
  }

  /** ergo tasks filed for incidents (epics excluded). */
  ergoTasks(): ErgoListItem[] {
    return listAll(this.ergoDir).filter((t) => t.kind === "task");
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((c) => c.kill9()));
    await this.slack.close();
    await this.sim.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Diagnostic tail of the daemons' logs. */
  tail(n = 25): string {
    return this.children
      .flatMap((c) => c.logs)
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join("\n");
  }

  /** Polls `cond` every 50 ms until it holds or `timeoutMs` passes (then fails with the daemon's log tail). */
  async until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let ok: boolean;
      try {
        ok = cond();
      } catch {
        ok = false;
      }
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function projectConfig(p: ProjectOptions): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const has = (c: ProjectOptions["channels"][number]) => p.channels.includes(c);
  if (has("github")) {
    channels["github"] = {
      platforms: ["linux_amd64", "darwin_amd64", "darwin_arm64"],
      assets: [`${p.name}_{version}_{platform}.tar.gz`],
      checksums: p.checksums === undefined ? "sha256sums.txt" : p.checksums,
    };
  }
  if (has("crates")) channels["crates"] = { crate: p.name };
  if (has("npm")) channels["npm"] = { package: p.name };
  if (has("pypi")) channels["pypi"] = { project: p.name, platforms: ["darwin_amd64", "darwin_arm64", "windows_amd64"] };
  if (has("homebrew")) {
    channels["homebrew"] = {
      tap: "sandover/homebrew-tap",
      formula: `Formula/${p.name}.rb`,
      platforms: ["darwin_arm64", "darwin_amd64", "linux_amd64"],
      url: `https://github.com/{repo}/releases/download/{tag}/${p.name}_{version}_{platform}.tar.gz`,
    };
  }
  return {
    name: p.name,
    repo: p.repo,
    tag_prefix: "v",
    channels,
    ...(p.provenance ? { provenance: p.provenance } : {}),
  };
}

const LABEL_TO_KIND = new Map(Object.entries(KIND_HEADER).map(([kind, h]) => [h.label, kind as AlertKind]));

function toSlackAlert(body: unknown, status: number | null): SlackAlert {
  const raw = (body as { text?: unknown } | null)?.text;
  const text = typeof raw === "string" ? raw : "";
  const label = /^\S+ ([^:]+):/.exec(text)?.[1] ?? "";
  const kind = LABEL_TO_KIND.get(label);
  if (!kind) throw new Error(`cannot tell the alert kind of Slack text ${JSON.stringify(text.slice(0, 120))}`);
  return { kind, text, status };
}

export const HOUR = 3_600_000;

/** A `scene()` starter for one test file: every scene it starts is closed after the file's tests. */
export function sceneFactory(): () => Promise<Scene> {
  const scenes: Scene[] = [];
  after(async () => {
    await Promise.all(scenes.map((s) => s.close()));
  });
  return async () => {
    const s = await Scene.start();
    scenes.push(s);
    return s;
  };
}

/** plasmite 0.7.2 everywhere; 0.8.0 published at `publishedAt` on every channel, hidden on `hidden`. */
export function publishHiddenOn(s: Scene, publishedAt: number, hidden: readonly ("npm" | "pypi")[]): void {
  s.sim.world.addProject(plasmiteProject());
  s.sim.world.publish("plasmite", "0.7.2", { publishedAt: publishedAt - 26 * HOUR });
  s.sim.world.publish("plasmite", "0.8.0", { publishedAt });
  for (const c of hidden) s.sim.world.setHidden(c, "plasmite", "0.8.0", true);
}
