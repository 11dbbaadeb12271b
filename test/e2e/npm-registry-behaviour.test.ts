/**
 * npm auth, TLS and robustness (issue 10 item 4), driving the real CLI against loopback registries: GitHub comes
 * from the sim (the release was published a minute ago, inside npm's grace window), npm from test servers that
 * record every request. npm's configuration lives in an isolated HOME; the machine's own is never read.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer, type Server } from "node:https";
import { connect, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import type { Report } from "../../src/report/types.ts";
import { runCli, simConfigYaml, tempDir, writeConfig, type CliResult } from "../helpers/cli.ts";
import { startFixtureServer, type FixtureResponse, type FixtureServer } from "../helpers/fixture-server.ts";
import { npmPackage } from "../helpers/npm-registry.ts";

let sim: Sim;
before(async () => {
  sim = await startSim({ githubToken: null });
  sim.world.addProject(plasmiteProject());
  for (const v of ["0.8.0", "0.8.0+build.5", "0.9.0-rc.1"]) {
    sim.world.publish("plasmite", v, { publishedAt: Date.now() - 60_000, channels: ["github"] });
  }
});
after(() => sim.close());

interface Box {
  home: string;
  cwd: string;
  root: string;
  env: NodeJS.ProcessEnv;
}

function sandbox(npmrc: string): Box {
  const root = tempDir("rm-npm-");
  const home = join(root, "home");
  const cwd = join(root, "work");
  mkdirSync(home);
  mkdirSync(cwd);
  writeFileSync(join(home, ".npmrc"), npmrc);
  writeFileSync(join(root, "global-npmrc"), "");
  return {
    home,
    cwd,
    root,
    env: { HOME: home, NPM_CONFIG_GLOBALCONFIG: join(root, "global-npmrc"), NPM_CONFIG_CACHE: join(root, "cache") },
  };
}

/** simConfigYaml without its npm registry, plus optional `settings.npm` keys and a package name. */
function config(opts: { npm?: string; pkg?: string; settings?: string } = {}): string {
  let yaml = simConfigYaml(sim, opts.settings ? { settings: opts.settings } : {}).replace(
    / {2}npm:\n {4}registry: .*\n/,
    opts.npm ? `  npm:\n${opts.npm}` : "",
  );
  if (opts.pkg) yaml = yaml.replace("npm: { package: plasmite }", `npm: { package: "${opts.pkg}" }`);
  return writeConfig(tempDir(), yaml);
}

async function verify(box: Box, cfg: string, tag: string, args: string[] = []) {
  const result: CliResult = await runCli(
    ["verify", tag, "--config", cfg, "--json", "--channel", "github", "npm", ...args],
    { cwd: box.cwd, env: box.env },
  );
  let report: Report;
  try {
    report = JSON.parse(result.stdout) as Report;
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  const npm = report.channels.find((c) => c.channel === "npm");
  assert.ok(npm, "npm channel in report");
  const why = `${npm.status} ${JSON.stringify(npm.findings)}\n${result.stderr}`;
  return { result, report, npm, why };
}

async function withRegistry<T>(
  routes: Record<string, Parameters<FixtureServer["route"]>[1]>,
  fn: (s: FixtureServer) => Promise<T>,
) {
  const s = await startFixtureServer(routes);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe("npm auth goes to the registry host only", () => {
  it("the .npmrc //host/:_authToken reaches the registry, not the tarball host (--deep)", async () => {
    const tarballs = await startFixtureServer();
    try {
      const pkg = npmPackage("plasmite", { tarballBase: tarballs.url });
      for (const [k, v] of Object.entries(pkg)) if (k.endsWith(".tgz")) tarballs.route(k, v);
      await withRegistry(pkg, async (reg) => {
        const host = new URL(reg.url).host;
        const box = sandbox(`registry=${reg.url}/\n//${host}/:_authToken=\${NPM_TOKEN}\n`);
        box.env["NPM_TOKEN"] = "npmrc-s3cret-token";
        const { result, npm, why } = await verify(box, config(), "v0.8.0", ["--deep"]);
        assert.equal(npm.status, "ok", why);
        assert.ok(reg.requests.length > 0);
        for (const r of reg.requests) assert.equal(r.headers.authorization, "Bearer npmrc-s3cret-token", r.rawPath);
        assert.equal(tarballs.requests.length, 1, "the tarball was downloaded from its own host");
        assert.equal(tarballs.requests[0]?.headers.authorization, undefined, "no Authorization to another host");
        assert.ok(!`${result.stdout}${result.stderr}`.includes("npmrc-s3cret-token"), "the token is never printed");
      });
    } finally {
      await tarballs.close();
    }
  });

  it("settings.npm.token reaches settings.npm.registry, not the tarball host", async () => {
    const tarballs = await startFixtureServer();
    try {
      const pkg = npmPackage("plasmite", { tarballBase: tarballs.url });
      for (const [k, v] of Object.entries(pkg)) if (k.endsWith(".tgz")) tarballs.route(k, v);
      await withRegistry(pkg, async (reg) => {
        const box = sandbox("");
        const cfg = config({ npm: `    registry: ${reg.url}\n    token: cfg-s3cret-token\n` });
        const { npm, why } = await verify(box, cfg, "v0.8.0", ["--deep"]);
        assert.equal(npm.status, "ok", why);
        for (const r of reg.requests) assert.equal(r.headers.authorization, "Bearer cfg-s3cret-token", r.rawPath);
        assert.equal(tarballs.requests.length, 1);
        assert.equal(tarballs.requests[0]?.headers.authorization, undefined);
      });
    } finally {
      await tarballs.close();
    }
  });

  for (const status of [401, 403]) {
    it(`HTTP ${status} is unknown with an auth finding, never version-missing`, async () => {
      const refuse: FixtureResponse = { status, body: { error: "authentication required" } };
      const routes = Object.fromEntries(
        Object.keys(npmPackage("plasmite", { tarballBase: "" })).map((k) => [k, refuse]),
      );
      await withRegistry(routes, async (reg) => {
        const box = sandbox(`registry=${reg.url}/\n`);
        const { result, npm, why } = await verify(box, config(), "v0.8.0");
        assert.equal(npm.status, "unknown", why);
        assert.ok(!npm.findings.some((f) => f.code === "version-missing"), why);
        const failed = npm.findings.find((f) => f.code === "probe-failed");
        assert.match(failed?.message ?? "", /authentication/, why);
        assert.equal(result.code, 3, why);
      });
    });
  }
});

describe("npm: either document can answer", () => {
  it("a packument over the size cap does not make the check unknown: version doc + dist-tags answer", async () => {
    const routes = npmPackage("plasmite", { tarballBase: "", packumentPadding: 64 * 1024 });
    await withRegistry(routes, async (reg) => {
      const box = sandbox(`registry=${reg.url}/\n`);
      const cfg = writeConfig(
        tempDir(),
        readFileSync(config(), "utf8").replace(
          "    max_retry_wait: 2s\n",
          "    max_retry_wait: 2s\n    max_body_bytes: 16384\n",
        ),
      );
      const { npm, why } = await verify(box, cfg, "v0.8.0", ["--latest"]);
      assert.equal(npm.status, "ok", why);
      assert.equal(reg.requestsFor("GET /-/package/plasmite/dist-tags").length, 1, "latest read from dist-tags");
    });
  });
});

describe("npm verdicts", () => {
  it("an unpublished version (in `time`, gone from `versions`) is drift with the cause, even inside grace", async () => {
    const routes = npmPackage("plasmite", {
      tarballBase: "",
      version: "0.8.0",
      latest: "0.7.2",
      packumentVersions: ["0.7.2"],
      versionDoc: false,
      time: {
        created: "2026-01-01T00:00:00.000Z",
        "0.7.2": "2026-01-01T00:00:00.000Z",
        "0.8.0": "2026-12-01T00:00:00.000Z",
      },
    });
    await withRegistry(routes, async (reg) => {
      const box = sandbox(`registry=${reg.url}/\n`);
      const { result, npm, why } = await verify(box, config(), "v0.8.0");
      assert.equal(npm.status, "drift", why);
      const f = npm.findings.find((x) => x.code === "version-unpublished");
      assert.match(f?.message ?? "", /unpublished/, why);
      assert.equal(result.code, 1, why);
    });
  });

  it("a package that needs auth answers 404: the message says it may not be visible with the credentials", async () => {
    await withRegistry({}, async (reg) => {
      const box = sandbox(`registry=${reg.url}/\n`);
      const { npm, why } = await verify(box, config(), "v0.8.0");
      const f = npm.findings.find((x) => x.code === "version-missing");
      assert.match(f?.message ?? "", /not found \(or not visible with the configured credentials\)/, why);
    });
  });

  it("the fresh version document's deprecation wins over the packument's: un-deprecated", async () => {
    const routes = npmPackage("plasmite", { tarballBase: "", packumentDeprecated: "stale CDN copy" });
    await withRegistry(routes, async (reg) => {
      const { npm, why } = await verify(sandbox(`registry=${reg.url}/\n`), config(), "v0.8.0");
      assert.equal(npm.status, "ok", why);
    });
  });

  it("the fresh version document's deprecation wins over the packument's: deprecated", async () => {
    const routes = npmPackage("plasmite", { tarballBase: "", docDeprecated: "use 0.8.1" });
    await withRegistry(routes, async (reg) => {
      const { npm, why } = await verify(sandbox(`registry=${reg.url}/\n`), config(), "v0.8.0");
      assert.equal(npm.status, "drift", why);
      assert.ok(
        npm.findings.some((f) => f.code === "deprecated" && f.message.includes("use 0.8.1")),
        why,
      );
    });
  });

  it("build metadata is ignored: v0.8.0+build.5 is npm's 0.8.0", async () => {
    await withRegistry(npmPackage("plasmite", { tarballBase: "" }), async (reg) => {
      const { npm, why } = await verify(sandbox(`registry=${reg.url}/\n`), config(), "v0.8.0+build.5", ["--latest"]);
      assert.equal(npm.status, "ok", why);
    });
  });

  it("under --latest a prerelease is not lag when dist-tags.latest is a release", async () => {
    const routes = npmPackage("plasmite", { tarballBase: "", version: "0.9.0-rc.1", latest: "0.8.0" });
    await withRegistry(routes, async (reg) => {
      const { npm, why } = await verify(sandbox(`registry=${reg.url}/\n`), config(), "v0.9.0-rc.1", ["--latest"]);
      assert.equal(npm.status, "ok", why);
    });
  });
});

describe("npm registry precedence and the report", () => {
  it("settings.npm.registry wins for unscoped packages; the report names the registry that answered", async () => {
    await withRegistry(npmPackage("plasmite", { tarballBase: "" }), async (chosen) => {
      await withRegistry(npmPackage("plasmite", { tarballBase: "" }), async (decoy) => {
        const box = sandbox(`registry=${decoy.url}/\n`);
        const { npm, why } = await verify(box, config({ npm: `    registry: ${chosen.url}\n` }), "v0.8.0");
        assert.equal(npm.status, "ok", why);
        assert.ok(chosen.requests.length > 0);
        assert.equal(decoy.requests.length, 0);
        assert.equal(npm.observed?.["registry"], `${chosen.url}/`);
      });
    });
  });

  it("a scoped .npmrc entry wins for its scope over settings.npm.registry", async () => {
    await withRegistry(npmPackage("@acme/plasmite", { tarballBase: "" }), async (scoped) => {
      await withRegistry(npmPackage("@acme/plasmite", { tarballBase: "" }), async (configured) => {
        const box = sandbox(`@acme:registry=${scoped.url}/\n`);
        const cfg = config({ npm: `    registry: ${configured.url}\n`, pkg: "@acme/plasmite" });
        const { npm, why } = await verify(box, cfg, "v0.8.0");
        assert.equal(npm.status, "ok", why);
        assert.ok(scoped.requests.length > 0);
        assert.equal(configured.requests.length, 0);
      });
    });
  });
});

// ---------------------------------------------------------------- TLS

/** A CA and a 127.0.0.1 server certificate it signed, made with the openssl CLI in a temp dir. */
function makeCa(dir: string): { caFile: string; key: Buffer; cert: Buffer } {
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=release-monitor test CA",
  ]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1"]);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  run([
    "x509",
    "-req",
    "-in",
    "srv.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "srv.pem",
    "-days",
    "2",
    "-extfile",
    "san.ext",
  ]);
  return {
    caFile: join(dir, "ca.pem"),
    key: readFileSync(join(dir, "srv.key")),
    cert: readFileSync(join(dir, "srv.pem")),
  };
}

async function startHttpsRegistry(key: Buffer, cert: Buffer) {
  const routes = npmPackage("plasmite", { tarballBase: "" });
  const paths: string[] = [];
  const server: Server = createHttpsServer({ key, cert }, (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "https://x").pathname);
    paths.push(path);
    const r = routes[`GET ${path}`] as FixtureResponse | undefined;
    res.writeHead(r?.status ?? 404, { "content-type": "application/json" });
    res.end(JSON.stringify(r?.body ?? {}));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, paths, close: () => new Promise<void>((done) => server.close(() => done())) };
}

describe("npm TLS: cafile and strict-ssl from .npmrc", () => {
  const dir = tempDir("rm-npm-ca-");
  const ca = makeCa(dir);

  const cases = [
    { name: "cafile= trusts the test CA", rc: (u: string) => `registry=${u}/\ncafile=${ca.caFile}\n`, status: "ok" },
    {
      name: "without cafile the certificate is untrusted: unknown",
      rc: (u: string) => `registry=${u}/\n`,
      status: "unknown",
    },
    { name: "strict-ssl=false accepts it", rc: (u: string) => `registry=${u}/\nstrict-ssl=false\n`, status: "ok" },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const reg = await startHttpsRegistry(ca.key, ca.cert);
      try {
        const box = sandbox(c.rc(reg.url));
        delete box.env["NODE_EXTRA_CA_CERTS"];
        const npmSays = execFileSync("npm", ["config", "get", "registry"], {
          cwd: box.cwd,
          env: { PATH: process.env["PATH"], ...box.env },
          encoding: "utf8",
        }).trim();
        assert.equal(npmSays, `${reg.url}/`);
        const { npm, why } = await verify(box, config(), "v0.8.0");
        assert.equal(npm.status, c.status, why);
        if (c.status === "ok") assert.ok(reg.paths.includes("/plasmite"), "the request arrived over TLS");
        else assert.equal(reg.paths.length, 0, "no request got through the TLS handshake");
      } finally {
        await reg.close();
      }
    });
  }
});

// ---------------------------------------------------------------- proxy

/** A loopback forward proxy that tunnels CONNECT and records each target. */
async function startProxy() {
  const targets: string[] = [];
  const server = createHttpServer((_req, res) => {
    targets.push("plain");
    res.writeHead(502).end();
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    targets.push(req.url ?? "");
    const [host = "", port = "0"] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    targets,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

describe("npm proxy and noproxy from .npmrc", () => {
  for (const c of [
    { name: "proxy= tunnels the registry requests through the proxy", noproxy: "", via: true },
    { name: "noproxy= naming the registry host connects directly", noproxy: "noproxy=127.0.0.1\n", via: false },
  ]) {
    it(c.name, async () => {
      const proxy = await startProxy();
      try {
        await withRegistry(npmPackage("plasmite", { tarballBase: "" }), async (reg) => {
          const box = sandbox(`registry=${reg.url}/\nproxy=${proxy.url}/\n${c.noproxy}`);
          const { npm, why } = await verify(box, config(), "v0.8.0");
          assert.equal(npm.status, "ok", why);
          assert.ok(reg.requests.length > 0);
          const tunnelled = proxy.targets.filter((t) => t === new URL(reg.url).host).length;
          assert.equal(tunnelled > 0, c.via, `proxy saw ${JSON.stringify(proxy.targets)}`);
        });
      } finally {
        await proxy.close();
      }
    });
  }
});
