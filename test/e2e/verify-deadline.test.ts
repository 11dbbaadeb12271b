/**
 * `monitor verify` fails fast and boundedly (issue 10 item 3, issue 11 item 7): the real CLI as a child process
 * against loopback servers that answer 503 forever, never answer, present an untrusted certificate, trickle a
 * tarball, or send more than the download cap.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startSim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import type { Report } from "../../src/report/types.ts";
import { runCli, simConfigYaml, tempDir, writeConfig, type CliResult } from "../helpers/cli.ts";

const HOUR = 3_600_000;
const servers: Server[] = [];
const sockets = new Set<Socket>();
after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

function track<T extends Server>(server: T): T {
  servers.push(server);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return server;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const addr = server.address();
  assert.ok(addr && typeof addr === "object");
  return addr.port;
}

/** A config with only an npm channel, its registry at `registry`. */
function npmOnlyConfig(registry: string, settings = ""): string {
  return writeConfig(
    tempDir(),
    `version: 1
settings:
  npm:
    registry: ${registry}
  http:
    retries: 3
${settings}
projects:
  - name: plasmite
    repo: sandover/plasmite
    channels:
      npm: { package: plasmite }
`,
  );
}

function parse(result: CliResult): Report {
  try {
    return JSON.parse(result.stdout) as Report;
  } catch {
    return assert.fail(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

function npmUnknown(result: CliResult, pattern: RegExp): void {
  const report = parse(result);
  const npm = report.channels.find((c) => c.channel === "npm");
  assert.ok(npm, "npm channel in the report");
  assert.equal(npm.status, "unknown", JSON.stringify(npm.findings));
  const finding = npm.findings.find((f) => f.code === "probe-failed");
  assert.ok(finding, `probe-failed finding: ${JSON.stringify(npm.findings)}`);
  assert.match(finding.message, pattern);
  assert.equal(result.code, 3, result.stderr);
}

function verify(config: string, ...args: string[]): Promise<CliResult> {
  // The child's own guard: well above any deadline the tests set, so a hang fails instead of passing.
  return runCli(["verify", "v0.8.0", "--config", config, "--json", ...args], { timeoutMs: 50_000 });
}

/** A registry whose packument and version document name `tarball` (under this server) for 0.8.0. */
function npmRegistry(tarball: (req: IncomingMessage, res: ServerResponse) => void) {
  let base = "";
  const server = track(
    createHttpServer((req, res) => {
      const url = req.url ?? "/";
      if (url.startsWith("/tarball")) return tarball(req, res);
      const dist = { tarball: `${base}/tarball/plasmite-0.8.0.tgz`, integrity: "sha512-AAAA", shasum: "00" };
      const doc = { version: "0.8.0", dist };
      const body =
        url === "/plasmite"
          ? {
              name: "plasmite",
              "dist-tags": { latest: "0.8.0" },
              versions: { "0.8.0": doc },
              time: { "0.8.0": new Date(Date.now() - 26 * HOUR).toISOString() },
            }
          : doc;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    }),
  );
  return {
    server,
    start: async () => {
      base = `http://127.0.0.1:${await listen(server)}`;
      return `${base}/`;
    },
  };
}

describe("monitor verify: an overall deadline, no sleep after the last attempt, no retry of permanent errors", () => {
  it("an npm registry answering 503 + Retry-After: 30 forever is unknown at the deadline, exit 3", async () => {
    let requests = 0;
    const server = track(
      createHttpServer((_req, res) => {
        requests++;
        res.writeHead(503, { "retry-after": "30" }).end("busy");
      }),
    );
    const port = await listen(server);
    const result = await verify(npmOnlyConfig(`http://127.0.0.1:${port}/`), "--timeout", "5s");
    npmUnknown(result, /deadline|5s|503/);
    assert.ok(requests >= 1, "the registry was asked");
  });

  it("a Retry-After longer than what is left of the deadline is not sat out: unknown at once", async () => {
    const server = track(createHttpServer((_req, res) => res.writeHead(503, { "retry-after": "40" }).end("busy")));
    const port = await listen(server);
    // 40 s is within max_retry_wait (60 s) but beyond the 30 s deadline: the answer is immediate, not a timeout.
    const result = await verify(npmOnlyConfig(`http://127.0.0.1:${port}/`), "--timeout", "30s");
    npmUnknown(result, /Retry-After|asks to wait 40 s/i);
    assert.doesNotMatch(parse(result).channels[0]?.findings[0]?.message ?? "", /deadline of 30s passed/);
  });

  it("a host that accepts connections and never answers costs the deadline, not 4 x request_timeout", async () => {
    const server = track(createTcpServer(() => {}));
    const port = await listen(server);
    const result = await verify(
      npmOnlyConfig(`http://127.0.0.1:${port}/`, "    request_timeout: 60s\n    headers_timeout: 60s"),
      "--timeout",
      "3s",
    );
    npmUnknown(result, /deadline of 3s/);
  });

  it("an untrusted certificate is not retried: one attempt per URL, unknown", async () => {
    const dir = tempDir();
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]);
    let handshakes = 0;
    const server = track(
      createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.end("{}")),
    );
    server.on("connection", () => handshakes++);
    const port = await listen(server);
    const result = await verify(npmOnlyConfig(`https://127.0.0.1:${port}/`, "    retry_base: 10ms"));
    npmUnknown(result, /certificate|self.signed|CERT/i);
    // The npm probe asks for two URLs (the packument and the version document), each on its own connection: one
    // attempt each is at most 2 handshakes; with retries: 3 a retrying client makes up to 8.
    assert.ok(
      handshakes >= 1 && handshakes <= 2,
      `${handshakes} TLS connections: a permanent TLS error is not retried`,
    );
  });

  it("--deep: a tarball that trickles a byte every 2 s is unknown at the deadline", async () => {
    const reg = npmRegistry((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const t = setInterval(() => res.write("x"), 2000);
      res.on("close", () => clearInterval(t));
    });
    const registry = await reg.start();
    const result = await verify(npmOnlyConfig(registry), "--deep", "--timeout", "4s");
    npmUnknown(result, /deadline of 4s/);
  });

  it("--deep: a tarball over settings.http.max_download_bytes is unknown, saying so", async () => {
    const reg = npmRegistry((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.alloc(64 * 1024, 1));
    });
    const registry = await reg.start();
    const result = await verify(npmOnlyConfig(registry, "    max_download_bytes: 4096"), "--deep");
    npmUnknown(result, /4096-byte|max_download_bytes/);
  });

  it("a drift beside a channel cut off by the deadline exits 1", async () => {
    const sim = await startSim({ githubToken: null });
    try {
      sim.world.addProject(plasmiteProject());
      sim.world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 26 * HOUR, githubRelease: false });
      const hole = track(createTcpServer(() => {}));
      const port = await listen(hole);
      const yaml = simConfigYaml(sim).replace(/registry: .*/, `registry: http://127.0.0.1:${port}/`);
      const result = await verify(writeConfig(tempDir(), yaml), "--channel", "github", "npm", "--timeout", "3s");
      const report = parse(result);
      const status = Object.fromEntries(report.channels.map((c) => [c.channel, c.status]));
      assert.equal(status["github"], "drift", JSON.stringify(report.channels));
      assert.equal(status["npm"], "unknown", JSON.stringify(report.channels));
      assert.equal(result.code, 1, result.stderr);
    } finally {
      await sim.close();
    }
  });

  it("--timeout that is not a duration is a usage error, exit 2", async () => {
    const result = await verify(npmOnlyConfig("http://127.0.0.1:9/"), "--timeout", "soon");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--timeout: "soon"/);
  });
});
