/**
 * The secrets sweep (issue 11): every command and output format the CLI has, run as child processes against one
 * shared sim, with a marker secret in every secret-bearing field (tokens, webhook URLs, `user:password@` in every
 * endpoint URL). Every stdout, stderr, log line, HTTP response (body and headers) and the raw bytes of every file
 * in the state directory (SQLite db, -wal, -shm: free pages included) are grepped for every marker in its plain,
 * percent-encoded, base64 (alone and as Basic `user:password`) and JSON-escaped forms. Any hit fails, naming the
 * output and the form. A new output is one row in CASES.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import { PLASMITE_PROJECTS_YAML } from "../../src/sim/config-yaml.ts";
import { startFakeSlack, type FakeSlack } from "../fakes/slack-server.ts";
import { CLI, REPO_ROOT, runCli, tempDir, writeConfig } from "../helpers/cli.ts";
import { initRealErgo, REAL_ERGO } from "../helpers/real-ergo.ts";

const HOUR = 3_600_000;

/** Alphanumeric marker secrets, one per secret-bearing field (the Slack one is the fake webhook's path token). */
const M = {
  githubToken: "SwGithubTok7Qa1",
  wrongGithubToken: "SwWrongTok3Kd8",
  npmToken: "SwNpmTok5Rt2",
  npmrcToken: "SwNpmrcTok6Yu1",
  serverToken: "SwServerTok9Lm4",
  envSecret: "SwEnvSecret2Hx6",
  redirectQuery: "SwRedirTok8Ne3",
  redirectUser: "swrediruser7G",
  redirectPass: "SwRedirPass1Ht",
  ghUser: "swghuser1A",
  ghPass: "SwGhPass4Bz",
  crApiUser: "swcrapiuser2B",
  crApiPass: "SwCrApiPass5Cy",
  crIdxUser: "swcridxuser3C",
  crIdxPass: "SwCrIdxPass6Dx",
  npmUser: "swnpmuser4D",
  npmPass: "SwNpmPass7Ew",
  pypiUser: "swpypiuser5E",
  pypiPass: "SwPypiPass8Fv",
  hookUser: "swhookuser6F",
  hookPass: "SwHookPass9Gu",
} as const;
const PAIRS: [string, string][] = [
  [M.ghUser, M.ghPass],
  [M.crApiUser, M.crApiPass],
  [M.crIdxUser, M.crIdxPass],
  [M.npmUser, M.npmPass],
  [M.pypiUser, M.pypiPass],
  [M.hookUser, M.hookPass],
  [M.redirectUser, M.redirectPass],
];

interface Form {
  marker: string;
  form: string;
  needle: string;
  /** Compare case-insensitively (hex digits of percent-encoding and \u escapes). */
  fold: boolean;
}

function pctAll(s: string): string {
  return [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
}

/** The base64 of `s` as it appears inside a longer base64 text, at each of the three byte alignments. */
function base64Aligned(s: string): string[] {
  const out: string[] = [];
  for (const pad of [0, 1, 2]) {
    const b64 = Buffer.from("\0".repeat(pad) + s).toString("base64");
    const start = pad === 0 ? 0 : pad === 1 ? 2 : 3;
    const end = b64.length - 4; // the last quantum depends on what follows
    out.push(b64.slice(start, end));
  }
  return out;
}

function formsOf(marker: string): Form[] {
  const f: Form[] = [
    { marker, form: "plain", needle: marker, fold: false },
    { marker, form: "percent-encoded", needle: pctAll(marker), fold: true },
    {
      marker,
      form: "JSON-escaped",
      needle: [...marker].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""),
      fold: true,
    },
  ];
  base64Aligned(marker).forEach((needle, i) =>
    f.push({ marker, form: `base64 (alignment ${i})`, needle, fold: false }),
  );
  return f;
}

function allForms(markers: readonly string[]): Form[] {
  const forms = markers.flatMap(formsOf);
  for (const [u, p] of PAIRS) {
    const basic = Buffer.from(`${u}:${p}`).toString("base64");
    forms.push({ marker: `${u}:${p}`, form: "Basic auth base64", needle: basic, fold: false });
    forms.push({ marker: `${u}:${p}`, form: "percent-encoded user%3Apassword", needle: `${u}%3A${p}`, fold: true });
  }
  return forms;
}

interface Output {
  name: string;
  bytes: Buffer | string;
}

function hits(outputs: readonly Output[], forms: readonly Form[]): string[] {
  const found: string[] = [];
  for (const o of outputs) {
    const text = typeof o.bytes === "string" ? o.bytes : o.bytes.toString("latin1");
    const folded = text.toLowerCase();
    for (const f of forms) {
      const hay = f.fold ? folded : text;
      const needle = f.fold ? f.needle.toLowerCase() : f.needle;
      if (needle.length >= 4 && hay.includes(needle)) found.push(`${o.name}: ${f.marker} (${f.form})`);
    }
  }
  return found;
}

/** Every file under the state directory, raw bytes. */
function stateFiles(dir: string, label: string): Output[] {
  if (!existsSync(dir)) return [];
  const out: Output[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...stateFiles(p, `${label}/${name}`));
    else out.push({ name: `${label}/${name} (raw bytes)`, bytes: readFileSync(p) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared fixtures: one sim, one fake Slack, a redirector and a black hole on loopback.

let sim: Sim;
let slack: FakeSlack;
let blackHole: { url: string; close: () => Promise<void> };
let redirector: { url: string; close: () => Promise<void> };
let markers: string[];
let finalHits = 0;

const joined = (outputs: readonly Output[]) => outputs.map((o) => String(o.bytes)).join("\n");

async function loopback(handler: RequestListener | null): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(handler ?? (() => {}));
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function withUserinfo(url: string, user: string, pass: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = pass;
  return u.toString().replace(/\/$/, "");
}

interface ConfigOptions {
  githubToken?: string;
  npmRegistry?: string;
  pypiUrl?: string;
  requestTimeout?: string;
  /** Raw YAML replacing the whole file (for syntax errors). */
  raw?: string;
  /** An ergo repository for an ergo sink (its files are an output too). */
  ergoDir?: string;
}

function configYaml(o: ConfigOptions = {}): string {
  const ov = sim.settingsOverlay() as {
    github: { api_url: string; download_hosts: string[] };
    crates: { api_url: string; index_url: string };
    npm: { registry: string };
    pypi: { url: string };
  };
  const t = o.requestTimeout ?? "1500ms";
  return `version: 1
settings:
  state_dir: state
  github:
    api_url: ${withUserinfo(ov.github.api_url, M.ghUser, M.ghPass)}
    download_hosts: [${ov.github.download_hosts.join(", ")}]
    token: ${o.githubToken ?? M.githubToken}
  crates:
    api_url: ${withUserinfo(ov.crates.api_url, M.crApiUser, M.crApiPass)}
    index_url: ${withUserinfo(ov.crates.index_url, M.crIdxUser, M.crIdxPass)}
    api_min_interval: "0"
  npm:
    registry: ${withUserinfo(o.npmRegistry ?? ov.npm.registry, M.npmUser, M.npmPass)}
    token: ${M.npmToken}
  pypi:
    url: ${withUserinfo(o.pypiUrl ?? ov.pypi.url, M.pypiUser, M.pypiPass)}
  http:
    retries: 0
    request_timeout: ${t}
    headers_timeout: ${t}
    body_timeout: ${t}
  grace: { github: "0", crates: "0", npm: "0", pypi: "0", homebrew: "0" }
  watch:
    schedule: "0 0 1 1 *"
    jitter: "0"
    cycle_timeout: 20s
  server:
    token: ${M.serverToken}
  alerts:
    flap_cycles: 1
    retry_base: 100ms
    retry_max: 1s
    sinks:
      - type: slack
        webhook_url: ${withUserinfo(slack.url, M.hookUser, M.hookPass)}
        min_interval: 10ms
      - type: slack
        name: from-env
        webhook_url: \${SW_SLACK_WEBHOOK}
        min_interval: 10ms
      - type: log
${o.ergoDir ? `      - type: ergo\n        repo_dir: ${o.ergoDir}\n        binary: ${REAL_ERGO}\n` : ""}${PLASMITE_PROJECTS_YAML}`;
}

function env(): NodeJS.ProcessEnv {
  return { SW_SLACK_WEBHOOK: `${slack.url}?k=${M.envSecret}`, MONITOR_LOG_LEVEL: "debug", GITHUB_TOKEN: "" };
}

/** A fresh directory with the config; returns its path and the state directory. */
function world(o: ConfigOptions = {}, dir = tempDir("rm-sweep-")): { dir: string; config: string; state: string } {
  const config = writeConfig(dir, o.raw ?? configYaml(o));
  return { dir, config, state: join(dir, "state") };
}

async function cli(label: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Output[]> {
  const r = await runCli(args, { env: { ...env(), ...extraEnv } });
  return [
    { name: `${label} stdout (exit ${r.code})`, bytes: r.stdout },
    { name: `${label} stderr (exit ${r.code})`, bytes: r.stderr },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The daemon with --listen: started once, its HTTP answers fetched.

async function daemonCase(): Promise<Output[]> {
  const w = world();
  const child = spawn(
    process.execPath,
    [CLI, "watch", "--config", w.config, "--listen", "127.0.0.1:0", "--drain-timeout", "2s"],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env["PATH"], HOME: process.env["HOME"], NO_COLOR: "1", ...env() },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  const base = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*serving the status page/.exec(stderr);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then((c) => reject(new Error(`watch exited ${c} before serving:\n${stderr}`)));
  });
  const out: Output[] = [];
  const auth = { authorization: `Bearer ${M.serverToken}` };
  const get = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
    const body = await res.text();
    const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
    out.push({ name: `watch --listen ${init.method ?? "GET"} ${path} (${res.status}) headers`, bytes: headers });
    out.push({ name: `watch --listen ${init.method ?? "GET"} ${path} (${res.status}) body`, bytes: body });
    return res.status;
  };
  try {
    assert.equal(await get("/api/v1/projects/plasmite/check", { method: "POST" }), 200);
    for (const p of [
      "/",
      "/projects/plasmite",
      "/api/v1/status",
      "/api/v1/projects/plasmite",
      "/metrics",
      "/healthz",
      "/readyz",
      "/badge/plasmite.svg",
    ]) {
      await get(p);
    }
    await get("/api/v1/status", { headers: { authorization: `Bearer ${M.wrongGithubToken}` } });
    // while the daemon runs, the WAL and shared-memory files exist: their raw bytes are an output too
    const running = stateFiles(w.state, "watch --listen state (running)");
    assert.ok(
      running.some((o) => o.name.includes("-wal")),
      running.map((o) => o.name).join(", "),
    );
    out.push(...running);
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
  out.push(
    { name: "watch --listen stdout", bytes: stdout },
    { name: "watch --listen stderr (log lines)", bytes: stderr },
  );
  out.push(...stateFiles(w.state, "watch --listen state"));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The table: one row per output (or group of outputs from one run).

interface Case {
  name: string;
  run: () => Promise<Output[]>;
}

const TAG = "v0.8.0";

const CASES: Case[] = [
  {
    name: "config check",
    run: async () => {
      const w = world();
      return cli("config check", ["config", "check", "--config", w.config]);
    },
  },
  ...(["text", "--json", "--markdown"] as const).map((format) => ({
    name: `verify ${format}`,
    run: async () => {
      const w = world();
      return cli(`verify ${format}`, ["verify", TAG, "--config", w.config, ...(format === "text" ? [] : [format])]);
    },
  })),
  {
    name: "verify --json --deep",
    run: async () => cli("verify --deep", ["verify", TAG, "--config", world().config, "--json", "--deep"]),
  },
  {
    name: "watch --once (slack, log and ergo sinks, state db, ergo files), silence",
    run: async () => {
      const dir = tempDir("rm-sweep-");
      const ergoDir = initRealErgo(mkdirSync(join(dir, "ergo"), { recursive: true }) ?? join(dir, "ergo"));
      const w = world({ ergoDir }, dir);
      const before = slack.received.length;
      const strays = slack.strays.length;
      const out = await cli("watch --once", ["watch", "--once", "--config", w.config, "--drain-timeout", "5s"]);
      const bodies = [...slack.received.slice(before), ...slack.strays.slice(strays)];
      assert.ok(bodies.length > 0, "the drift reached Slack (the sweep must see an alert body)");
      bodies.forEach((b, i) => out.push({ name: `Slack body #${i} (${b.path.slice(0, 20)}…)`, bytes: b.raw }));
      out.push(...stateFiles(w.state, "watch --once state"));
      const ergoFiles = stateFiles(join(ergoDir, ".ergo"), "ergo sink files");
      assert.match(joined(ergoFiles), /plasmite/, "the drift was filed in ergo");
      out.push(...ergoFiles);
      // the state also feeds silence and a second --once (reminders, outbox) in the same directory
      out.push(
        ...(await cli("silence add", [
          "silence",
          "plasmite",
          "--channel",
          "npm",
          "--for",
          "1h",
          "--reason",
          "sweep",
          "--config",
          w.config,
        ])),
      );
      out.push(...(await cli("silence --list", ["silence", "--list", "--config", w.config])));
      const listed = await cli("silence --list --json", ["silence", "--list", "--json", "--config", w.config]);
      out.push(...listed);
      const id = /"id":\s*"?([\w-]+)/.exec(String(listed[0]?.bytes))?.[1];
      assert.ok(id, String(listed[0]?.bytes));
      // a deleted row leaves free pages behind: the raw-bytes scan below covers them
      out.push(...(await cli("silence --remove", ["silence", "--remove", id, "--config", w.config])));
      out.push(...stateFiles(w.state, "after silence, state"));
      return out;
    },
  },
  { name: "watch --listen (HTTP responses, logs, state db)", run: daemonCase },
  {
    name: "npm token from .npmrc (no settings.npm.token)",
    run: async () => {
      const raw = configYaml().replace(`    token: ${M.npmToken}\n`, "");
      const w = world({ raw });
      const npmrc = join(w.dir, "user.npmrc");
      const { host, pathname } = new URL(sim.urls.npm);
      writeFileSync(npmrc, `//${host}${pathname.replace(/\/?$/, "/")}:_authToken=${M.npmrcToken}\n`);
      const e = { NPM_CONFIG_USERCONFIG: npmrc };
      const since = Date.now();
      const out = [
        ...(await cli(".npmrc: config check", ["config", "check", "--config", w.config], e)),
        ...(await cli(".npmrc: verify --json", ["verify", TAG, "--json", "--config", w.config], e)),
      ];
      const npm = sim.stats.log.filter((r) => r.at >= since && r.service === "npm");
      assert.ok(npm.length > 0 && npm.every((r) => r.authenticated), "the .npmrc credential was sent");
      return out;
    },
  },
  {
    name: "YAML syntax error on a token line",
    run: async () => {
      const raw = configYaml().replace(`token: ${M.npmToken}`, `token: ${M.npmToken}: [oops`);
      const w = world({ raw });
      const out = [
        ...(await cli("syntax error: config check", ["config", "check", "--config", w.config])),
        ...(await cli("syntax error: verify --json", ["verify", TAG, "--json", "--config", w.config])),
      ];
      assert.match(joined(out), /line \d+, column \d+/);
      return out;
    },
  },
  {
    name: "YAML syntax error next to a userinfo URL line",
    run: async () => {
      const raw = configYaml().replace(/(\n {4}api_url: http:\/\/swghuser1A[^\n]*)/, "$1\n   bad: [");
      return cli("syntax error near URL: config check", ["config", "check", "--config", world({ raw }).config]);
    },
  },
  {
    name: "upstream 401 (wrong GitHub token)",
    run: async () => {
      const w = world({ githubToken: M.wrongGithubToken });
      const out = [
        ...(await cli("401: verify text", ["verify", TAG, "--config", w.config])),
        ...(await cli("401: verify --json", ["verify", TAG, "--json", "--config", w.config])),
      ];
      assert.match(joined(out), /HTTP 401/);
      return out;
    },
  },
  {
    name: "redirect to a URL carrying a secret",
    run: async () => {
      const w = world({ pypiUrl: redirector.url });
      const before = finalHits;
      const out = [
        ...(await cli("redirect: verify --json", ["verify", TAG, "--json", "--config", w.config])),
        ...(await cli("redirect: verify --markdown", ["verify", TAG, "--markdown", "--config", w.config])),
      ];
      assert.ok(finalHits > before, "the redirect was followed");
      return out;
    },
  },
  {
    name: "timeout (black-hole npm registry)",
    run: async () => {
      const w = world({ npmRegistry: blackHole.url, requestTimeout: "300ms" });
      const out = [
        ...(await cli("timeout: verify text", ["verify", TAG, "--config", w.config])),
        ...(await cli("timeout: verify --json", ["verify", TAG, "--json", "--config", w.config])),
      ];
      assert.match(joined(out), /E_HTTP_TIMEOUT/);
      return out;
    },
  },
];

describe("secrets sweep: no marker in any output", () => {
  before(async () => {
    sim = await startSim({ githubToken: M.githubToken });
    sim.world.addProject(plasmiteProject());
    sim.world.publish("plasmite", "0.7.2", { publishedAt: Date.now() - 26 * HOUR });
    // npm never gets 0.8.0: a drift, so alerts (Slack bodies, the log sink, the outbox) carry evidence URLs
    sim.world.publish("plasmite", "0.8.0", {
      publishedAt: Date.now() - 2 * HOUR,
      channels: ["github", "crates", "pypi", "homebrew"],
    });
    slack = await startFakeSlack();
    blackHole = await loopback(null);
    // a same-host redirect (allowed) to a URL with credentials in its userinfo and query; the target then fails,
    // so its URL lands in an error message
    redirector = await loopback((req, res) => {
      const path = req.url ?? "/";
      if (path.startsWith("/final/")) {
        finalHits++;
        res.writeHead(503, { "content-type": "text/plain" }).end("down");
        return;
      }
      const { host } = new URL(redirector.url);
      const to = `http://${M.redirectUser}:${M.redirectPass}@${host}/final${path}?token=${M.redirectQuery}`;
      res.writeHead(302, { location: to }).end();
    });
    const slackToken = /\/([0-9a-f]{24})$/.exec(slack.url)?.[1];
    assert.ok(slackToken, slack.url);
    markers = [...Object.values(M), slackToken];
  });
  after(async () => {
    await Promise.all([sim.close(), slack.close(), blackHole.close(), redirector.close()]);
  });

  it("the detector finds every marker in every form (the sweep can fail)", () => {
    const forms = allForms(markers);
    for (const f of forms) {
      const align = /alignment (\d)/.exec(f.form)?.[1];
      const sample = align ? Buffer.from(`${"xyz".slice(0, Number(align))}${f.marker}zw`).toString("base64") : f.needle;
      const probe =
        f.form === "Basic auth base64" ? `authorization: Basic ${f.needle}` : `{"u":"http://h/?a=${sample}"}`;
      assert.ok(hits([{ name: "probe", bytes: probe }], [f]).length === 1, `${f.marker} (${f.form}) not detected`);
    }
    // the config itself carries every configured marker in plain form: 3 tokens, 6 userinfo pairs, the Slack path
    const found = hits(
      [{ name: "config", bytes: configYaml() }],
      forms.filter((f) => f.form === "plain"),
    );
    assert.equal(found.length, 3 + 12 + 1, found.join("\n"));
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const outputs = await c.run();
      if (process.env["SWEEP_DEBUG"])
        for (const o of outputs) console.error(`=== ${o.name}\n${String(o.bytes).slice(0, 600)}`);
      assert.ok(outputs.length > 0);
      const found = hits(outputs, allForms(markers));
      assert.deepEqual(found, [], `secret markers found:\n${found.join("\n")}`);
    });
  }
});
