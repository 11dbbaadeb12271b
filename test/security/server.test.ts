import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { CLI, REPO_ROOT, runCli, simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";
import { serve, type Served } from "../server/fixture.ts";

/**
 * The server surface attacked from outside: the real `monitor watch` as a child process, or the real server over
 * loopback (test/server/fixture.ts). Issue 11 items 1, 2, 8, 9 and 11.
 */

const TOKEN = "surface-token-0123456789";

/** A raw HTTP request, so the test controls the Host and Origin headers (fetch would set Host itself). */
function raw(
  url: string,
  options: { method?: string; host?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: options.method ?? "GET",
        setHost: options.host === undefined,
        headers: { ...(options.host !== undefined ? { host: options.host } : {}), ...options.headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

interface Watch {
  child: ChildProcess;
  out: () => string;
  /** Resolves with the first match of `re` in stderr (pino writes JSON lines there); rejects on exit first. */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

function startWatch(args: readonly string[]): Watch {
  const child = spawn(process.execPath, [CLI, "watch", ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"], NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const scan = () => {
    for (const w of [...waiters]) {
      const m = w.re.exec(out);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout?.on("data", (d: Buffer) => ((out += d.toString()), scan()));
  child.stderr?.on("data", (d: Buffer) => ((out += d.toString()), scan()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    out: () => out,
    waitFor: (re) =>
      Promise.race([
        new Promise<RegExpExecArray>((resolve) => {
          waiters.push({ re, resolve });
          scan();
        }),
        exited.then((code) => {
          throw new Error(`monitor watch exited (${code}) before ${re}:\n${out}`);
        }),
      ]),
    exited,
    stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

const SERVING = /"url":"(http:\/\/[^"]+)","auth":"(\w+)","msg":"serving/;

describe("monitor watch: the listen address and the state lock", () => {
  let sim: Sim;
  let dir: string;
  const configWith = (server: string, stateDir = "state") =>
    writeConfig(
      dir,
      simConfigYaml(sim, {
        settings: [`  state_dir: ${stateDir}`, "  watch:", '    schedule: "0 0 1 1 *"', "  server:", server].join("\n"),
      }),
      `monitor-${Math.random().toString(36).slice(2)}.yaml`,
    );

  before(async () => {
    sim = await startSim();
    dir = tempDir("rm-surface-");
  });
  after(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("item 1: --listen off loopback without settings.server.token refuses to start (exit 2, names the key)", async () => {
    const config = configWith('    listen: "127.0.0.1:0"');
    const r = await runCli(["watch", "--config", config, "--listen", "0.0.0.0:0"], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /settings\.server\.token/);
    assert.match(r.stderr, /0\.0\.0\.0:0/);
    assert.doesNotMatch(r.stderr, /serving the status page/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });

  it("item 1: with a token, --listen 0.0.0.0 serves and logs the real bound address (not 127.0.0.1)", async () => {
    const config = configWith(`    listen: "127.0.0.1:0"\n    token: ${TOKEN}`);
    const w = startWatch(["--config", config, "--listen", "0.0.0.0:0"]);
    try {
      const m = await w.waitFor(SERVING);
      assert.match(m[1] ?? "", /^http:\/\/0\.0\.0\.0:[0-9]+$/);
      assert.equal(m[2], "bearer");
      const port = new URL(m[1] ?? "").port;
      const r = await raw(`http://127.0.0.1:${port}/api/v1/status`);
      assert.equal(r.status, 401, "the token gates it");
    } finally {
      assert.equal(await w.stop(), 0, w.out());
    }
  });

  it("items 8 and 9: a second daemon, or --once, on a locked state directory exits 2 before serving", async () => {
    const config = configWith('    listen: "127.0.0.1:0"');
    const first = startWatch(["--config", config]);
    try {
      await first.waitFor(/"msg":"watching"/);
      const second = await runCli(["watch", "--config", config, "--listen", "127.0.0.1:0"], { timeoutMs: 30_000 });
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, /another monitor watch \(pid [0-9]+/);
      assert.match(second.stderr, /monitor\.db/);
      assert.doesNotMatch(second.stderr, /serving the status page/, "the second daemon never opened its server");
      const once = await runCli(["watch", "--config", config, "--once"], { timeoutMs: 30_000 });
      assert.equal(once.code, 2, once.stderr);
      assert.match(once.stderr, /another monitor watch .* uses \S+monitor\.db/);
      assert.doesNotMatch(once.stderr, /\n\s+at /, "no stack trace");
    } finally {
      assert.equal(await first.stop(), 0, first.out());
    }
  });

  it("item 9: an unusable state_dir is an environment error: exit 2, the path named, no stack trace", async () => {
    // Tests run as root in CI, so a chmod-read-only directory would not stop us. Instead: a state_dir that is a
    // regular file (mkdir fails with ENOTDIR for anyone) and one under /proc (procfs refuses new files even to
    // root), which is what a read-only mount or a full disk looks like at open: the database cannot be created.
    const file = join(dir, "not-a-directory");
    writeFileSync(file, "x");
    mkdirSync(join(dir, "unused"), { recursive: true });
    for (const [stateDir, path] of [
      [file, file],
      ["/proc/self", "/proc/self"],
    ] as const) {
      const config = configWith('    listen: "127.0.0.1:0"', stateDir);
      for (const args of [["--once"], ["--listen", "127.0.0.1:0"]]) {
        const r = await runCli(["watch", "--config", config, ...args], { timeoutMs: 30_000 });
        assert.equal(r.code, 2, `${stateDir} ${args.join(" ")}: ${r.stderr}`);
        assert.ok(r.stderr.includes(path), r.stderr);
        assert.doesNotMatch(r.stderr, /\n\s+at |internal error|please report/, "no stack trace, not a bug");
      }
    }
  });
});

describe("DNS rebinding: Host and Origin on a server without a token (item 2)", () => {
  let s: Served;
  let port: string;
  before(async () => {
    s = await serve({ scenario: "partial", server: ["    allowed_hosts: [monitor.internal]"] });
    port = new URL(s.url).port;
  });
  after(async () => {
    await s?.close();
  });

  it("answers only Host values naming loopback, localhost or settings.server.allowed_hosts; 421 otherwise", async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      "[::1]",
      `monitor.internal:${port}`,
    ]) {
      const r = await raw(`${s.url}/api/v1/status`, { host });
      assert.equal(r.status, 200, host);
    }
    for (const host of [
      `attacker.example:${port}`,
      "attacker.example",
      `127.0.0.1.attacker.example:${port}`,
      `10.0.0.7:${port}`,
      `localhost.:${port}`,
    ]) {
      for (const path of ["/", "/api/v1/status", "/healthz", "/metrics"]) {
        const r = await raw(`${s.url}${path}`, { host });
        assert.equal(r.status, 421, `${host} ${path}`);
        assert.doesNotMatch(r.text, /plasmite/, "nothing leaks to a rebound name");
      }
    }
  });

  it("a rebound POST (Host and Origin both the attacker's name) runs no cycle", async () => {
    const before = (await s.store.cycles("plasmite", 100)).length;
    const r = await raw(`${s.url}/api/v1/projects/plasmite/check`, {
      method: "POST",
      host: `attacker.example:${port}`,
      headers: { origin: `http://attacker.example:${port}` },
    });
    assert.equal(r.status, 421);
    const foreign = await raw(`${s.url}/api/v1/projects/plasmite/check`, {
      method: "POST",
      headers: { origin: "http://attacker.example" },
    });
    assert.equal(foreign.status, 403, "a foreign Origin is refused");
    const nullOrigin = await raw(`${s.url}/api/v1/projects/plasmite/check`, {
      method: "POST",
      headers: { origin: "null" },
    });
    assert.equal(nullOrigin.status, 403, "an opaque Origin is refused");
    assert.equal((await s.store.cycles("plasmite", 100)).length, before, "no cycle ran");
    const same = await raw(`${s.url}/api/v1/projects/plasmite/check`, {
      method: "POST",
      headers: { origin: `http://127.0.0.1:${port}` },
    });
    assert.equal(same.status, 200, same.text);
  });
});

describe("with a token any Host is accepted (Kubernetes probes send the pod IP)", () => {
  let s: Served;
  before(async () => {
    s = await serve({ scenario: "partial", token: TOKEN });
  });
  after(async () => {
    await s?.close();
  });

  it("the token is the gate", async () => {
    const port = new URL(s.url).port;
    const host = `10.42.0.17:${port}`;
    assert.equal((await raw(`${s.url}/healthz`, { host })).status, 200);
    assert.equal((await raw(`${s.url}/api/v1/status`, { host })).status, 401);
    const ok = await raw(`${s.url}/api/v1/status`, { host, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
  });
});

describe("load guard on POST /api/v1/projects/<name>/check (item 11)", () => {
  let s: Served;
  const LIMIT = 3;
  before(async () => {
    s = await serve({ scenario: "partial", server: [`    manual_checks_per_minute: ${LIMIT}`] });
  });
  after(async () => {
    await s?.close();
  });
  const manualCycles = async () =>
    (await s.store.cycles("plasmite", 1000)).filter((c) => c.trigger === "manual").length;
  const check = () => raw(`${s.url}/api/v1/projects/plasmite/check`, { method: "POST" });

  it("concurrent requests share cycles, at most the per-minute limit run, then 429 with Retry-After past the per-minute limit", async () => {
    // Requests that arrive while a cycle runs share it; the per-minute limit bounds the rest. Only the cycle count
    // is asserted, never timing: however the 20 requests interleave, at most LIMIT cycles run.
    const burst = await Promise.all(Array.from({ length: 20 }, () => check()));
    for (const r of burst) assert.ok(r.status === 200 || r.status === 429, `${r.status} ${r.text}`);
    assert.ok(burst.filter((r) => r.status === 200).length >= 1);
    const ran = await manualCycles();
    assert.ok(ran <= LIMIT, `20 concurrent requests ran ${ran} cycles`);
    while ((await manualCycles()) < LIMIT) assert.equal((await check()).status, 200);
    assert.equal(await manualCycles(), LIMIT);
    for (let i = 0; i < 5; i++) {
      const limited = await check();
      assert.equal(limited.status, 429, limited.text);
      const retry = Number(limited.headers["retry-after"]);
      assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${String(retry)}`);
      assert.equal((JSON.parse(limited.text) as { error: { code: string } }).error.code, "rate_limited");
    }
    assert.equal(await manualCycles(), LIMIT, "refused requests ran no cycle");
  });
});
