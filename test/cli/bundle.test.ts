/**
 * The bundled CLI (dist/cli/, built by `npm run build`; `prepare` builds it on npm ci) behaves like src/ on a
 * representative subset of the e2e verify scenarios: same stdout, same exit code. Built here when missing. Also,
 * through a loaded-module list: `monitor verify --help` loads none of the heavy modules, and a config whose
 * provenance policy is off never loads Sigstore (while the default policy does), from src/ (every file is a module)
 * and from the bundle (the chunks it loaded, mapped to their source modules by esbuild's metafile, and built-ins).
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import { REPO_ROOT, simConfigYaml, tempDir, writeConfig } from "../helpers/cli.ts";

const BUNDLE = join(REPO_ROOT, "dist/cli/main.js");
const BIN = join(REPO_ROOT, "bin/monitor.js");
const SRC = join(REPO_ROOT, "src/cli/main.ts");
const EXAMPLE = join(REPO_ROOT, "examples/plasmite.yaml");
const PRELOAD = join(REPO_ROOT, "test/helpers/loaded-modules.ts");
const METAFILE = join(REPO_ROOT, "dist/meta.json");
const HOUR = 3_600_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function node(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env["PATH"], HOME: process.env["HOME"], NO_COLOR: "1", ...env },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/**
 * Output minus what differs between any two runs: times, durations, the sim's ports, the git object ids the sim
 * derives from the time it starts (40 hex digits, or their 7-digit short form in a provenance line; sha256 digests
 * are 64 and stay), and the order of a channel's evidence (exchanges are listed as they complete, and requests in
 * flight together complete in either order).
 */
function stable(stdout: string): string {
  const normalized = stdout
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<t>")
    .replace(/"(duration_ms|ms|elapsed_ms|latency_ms|cache_age_ms)": [0-9.]+/g, '"$1": 0')
    .replace(/127\.0\.0\.1:[0-9]+/g, "127.0.0.1:<port>")
    .replace(/\b[0-9a-f]{40}\b/g, "<sha1>")
    .replace(/( from )[0-9a-f]{7}\b/g, "$1<short-sha1>");
  return evidenceSorted(normalized);
}

function evidenceSorted(stdout: string): string {
  let report: { channels?: { evidence?: { url: string; status: number | null }[] }[] };
  try {
    report = JSON.parse(stdout) as typeof report;
  } catch {
    return stdout; // text output
  }
  const key = (e: { url: string; status: number | null }) => `${e.url} ${e.status}`;
  for (const c of report.channels ?? []) c.evidence?.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * Every module a run loaded: resolved URLs and built-ins, and for each chunk of the bundle the source modules it
 * holds (per dist/meta.json: `../node_modules/@sigstore/verify/...`, `src/...`, `lazy-builtin:node:sqlite`).
 */
async function loadedBy(entry: string, args: readonly string[], exitCode = 0): Promise<string[]> {
  const file = join(tempDir("rm-loaded-"), "loaded.txt");
  const r = await node(["--import", PRELOAD, entry, ...args], { LOADED_MODULES_FILE: file });
  assert.equal(r.code, exitCode, r.stderr);
  const list = readFileSync(file, "utf8").split("\n").filter(Boolean);
  rmSync(file, { force: true });
  const outputs = (JSON.parse(readFileSync(METAFILE, "utf8")) as { outputs: Record<string, { inputs: object }> })
    .outputs;
  const inputs = list.flatMap((url) => {
    if (!url.startsWith("file:")) return [];
    const output = outputs[relative(REPO_ROOT, fileURLToPath(url))];
    return output ? Object.keys(output.inputs) : [];
  });
  return [...list, ...inputs];
}

const HEAVY = [
  /\/undici\//,
  /\/@octokit\//,
  /\/pino\//,
  /\/prom-client\//,
  /\/@sigstore\//,
  /\/@peculiar\//,
  /\/pg\//,
  /^(lazy-builtin:)?node:sqlite$/,
  /^builtin:sqlite$/,
];
const heavyIn = (list: readonly string[]) => list.filter((m) => HEAVY.some((h) => h.test(m)));
/** Sigstore (the verifier and its certificate parsing) and the PostgreSQL driver: what provenance / HA need. */
const OPTIONAL = [/\/@sigstore\//, /\/@peculiar\//, /\/pg\//, /\/pg-[a-z-]+\//];
const optionalIn = (list: readonly string[]) => list.filter((m) => OPTIONAL.some((h) => h.test(m)));

describe("bundled CLI", { timeout: 300_000 }, () => {
  before(async () => {
    if (existsSync(BUNDLE)) return;
    const r = await node(["scripts/build.ts"]);
    assert.equal(r.code, 0, `npm run build failed: ${r.stderr}`);
  });

  for (const scenario of ["clean", "partial", "yanked", "checksum-mismatch", "npm-deprecated"]) {
    it(`verify --sim ${scenario}: same stdout and exit code as src/`, async () => {
      const args = ["verify", "v0.8.0", "--config", EXAMPLE, "--sim", scenario, "--json"];
      const [fromSrc, fromBundle] = [await node([SRC, ...args]), await node([BIN, ...args])];
      assert.equal(fromBundle.code, fromSrc.code, fromBundle.stderr);
      assert.equal(stable(fromBundle.stdout), stable(fromSrc.stdout));
      assert.ok(fromSrc.stdout.includes('"schema"'), fromSrc.stderr);
    });
  }

  it("text output and a usage error: same as src/", async () => {
    for (const args of [
      ["verify", "v0.8.0", "--config", EXAMPLE, "--sim", "clean", "--channel", "npm"],
      ["verify", "v0.8.0", "--config", EXAMPLE, "--channel", "nope"],
    ]) {
      const [fromSrc, fromBundle] = [await node([SRC, ...args]), await node([BIN, ...args])];
      assert.equal(fromBundle.code, fromSrc.code);
      assert.equal(stable(fromBundle.stdout), stable(fromSrc.stdout));
      assert.equal(fromBundle.stderr, fromSrc.stderr);
    }
  });

  it("bin/monitor.js runs the bundle when it is built", async () => {
    const list = await loadedBy(BIN, ["--version"]);
    assert.ok(
      list.some((m) => m.endsWith("/dist/cli/main.js")),
      "bundle not loaded",
    );
    assert.ok(!list.some((m) => m.includes("/src/")), "src/ loaded although the bundle exists");
  });

  it("verify --help loads no heavy module (src/ and bundle); watch --help does (src/ and bundle)", async () => {
    assert.deepEqual(heavyIn(await loadedBy(SRC, ["verify", "--help"])), []);
    assert.deepEqual(heavyIn(await loadedBy(BIN, ["verify", "--help"])), []);
    for (const entry of [SRC, BIN]) {
      const watch = heavyIn(await loadedBy(entry, ["watch", "--help"]));
      assert.ok(watch.some((m) => /sqlite/.test(m)) && watch.some((m) => /undici/.test(m)), watch.join("\n"));
    }
  });

  it("bin/monitor.js gives watch and verify --deep a small young generation, watch an old-space cap, verify --deep no optimising JIT (one execve), verify none", async () => {
    const execArgv = async (
      args: string[],
      env: NodeJS.ProcessEnv = {},
      own: { nodeArgs?: string[]; nodeOptions?: string } = {},
    ) => {
      const file = join(tempDir("rm-execargv-"), "argv.json");
      const hook = `process.on("exit", () => process.getBuiltinModule("fs").writeFileSync(${JSON.stringify(file)}, JSON.stringify({ pid: process.pid, argv: process.execArgv, arenas: process.env.MALLOC_ARENA_MAX ?? null })))`;
      const r = await node([...(own.nodeArgs ?? []), BIN, ...args], {
        NODE_OPTIONS: `${own.nodeOptions ?? ""} --import=data:text/javascript,${encodeURIComponent(hook)}`.trim(),
        ...env,
      });
      assert.equal(r.code, 0, r.stderr);
      const seen = JSON.parse(readFileSync(file, "utf8")) as { argv: string[]; arenas: string | null };
      return [...seen.argv, ...(seen.arenas === null ? [] : [`MALLOC_ARENA_MAX=${seen.arenas}`])];
    };
    const small = (argv: string[]) => argv.includes("--max-semi-space-size=1");
    assert.ok(small(await execArgv(["watch", "--help"])));
    // glibc's malloc arenas: two, set by the same execve, unless the user's environment says otherwise.
    assert.ok((await execArgv(["watch", "--help"])).includes("MALLOC_ARENA_MAX=2"));
    assert.ok((await execArgv(["watch", "--help"], { MALLOC_ARENA_MAX: "4" })).includes("MALLOC_ARENA_MAX=4"));
    assert.ok(!(await execArgv(["verify", "--help"])).some((a) => a.startsWith("MALLOC_ARENA_MAX")));
    assert.ok(small(await execArgv(["-c", EXAMPLE, "verify", "--deep", "--help"])));
    assert.ok(!small(await execArgv(["verify", "--help"])));
    assert.ok(!small(await execArgv(["watch", "--help"], { MONITOR_NO_V8_FLAGS: "1" })));
    // The old-space cap (it sets V8's heap growing factor), unless the user set a limit: theirs is kept, whether
    // given to node or in NODE_OPTIONS, with dashes or underscores.
    const capped = (argv: string[]) => argv.includes("--max-old-space-size=512");
    assert.ok(capped(await execArgv(["watch", "--help"])));
    assert.ok(!capped(await execArgv(["verify", "--help"])));
    assert.ok(!capped(await execArgv(["-c", EXAMPLE, "verify", "--deep", "--help"])), "not verify --deep");
    // verify --deep without V8's optimising tiers (its CPU is hashing); not verify, not the daemon; a user's own
    // setting of one of those flags (either polarity) is kept.
    const unoptimised = (argv: string[]) =>
      ["--no-opt", "--no-maglev", "--liftoff-only"].every((f) => argv.includes(f));
    assert.ok(unoptimised(await execArgv(["-c", EXAMPLE, "verify", "--deep", "--help"])));
    assert.ok(!(await execArgv(["verify", "--help"])).includes("--no-opt"));
    assert.ok(!(await execArgv(["watch", "--help"])).includes("--no-opt"));
    const own = await execArgv(["-c", EXAMPLE, "verify", "--deep", "--help"], {}, { nodeArgs: ["--maglev"] });
    assert.ok(own.includes("--no-opt") && own.includes("--maglev") && !own.includes("--no-maglev"), own.join(" "));
    for (const own of [{ nodeArgs: ["--max-old-space-size=4096"] }, { nodeOptions: "--max_old_space_size=4096" }]) {
      const argv = await execArgv(["watch", "--help"], {}, own);
      assert.ok(small(argv) && !capped(argv), `${JSON.stringify(own)}: ${argv.join(" ")}`);
    }
  });

  it("the metafile maps the bundle's chunks: Sigstore lives in chunks main.js does not import", () => {
    const meta = JSON.parse(readFileSync(METAFILE, "utf8")) as {
      outputs: Record<string, { inputs: object; imports: { path: string; kind: string }[] }>;
    };
    const main = meta.outputs["dist/cli/main.js"];
    assert.ok(main, "dist/cli/main.js not in the metafile");
    const sigstore = Object.entries(meta.outputs).filter(([, o]) => optionalIn(Object.keys(o.inputs)).length > 0);
    assert.ok(sigstore.length > 0, "no chunk holds Sigstore");
    // Statically reachable from main.js: never a Sigstore chunk.
    const reach = new Set<string>();
    const walk = (out: string) => {
      if (reach.has(out)) return;
      reach.add(out);
      for (const i of meta.outputs[out]?.imports ?? []) if (i.kind === "import-statement") walk(i.path);
    };
    walk("dist/cli/main.js");
    assert.deepEqual(
      sigstore.map(([out]) => out).filter((out) => reach.has(out)),
      [],
    );
  });
});

describe("optional dependencies load only when the config uses them", { timeout: 300_000 }, () => {
  let sim: Sim;
  const dir = tempDir("rm-optional-");
  // The sim runs in this process: the CLI under test loads only its own modules (the sim's signer is Sigstore).
  before(async () => {
    if (!existsSync(BUNDLE)) {
      const r = await node(["scripts/build.ts"]);
      assert.equal(r.code, 0, `npm run build failed: ${r.stderr}`);
    }
    sim = await startSim({ githubToken: null });
    sim.world.addProject(plasmiteProject());
    sim.world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 2 * HOUR });
  });
  after(() => sim.close());

  // The sim's settings overlay carries its own trust root (settings.provenance), so no TUF is attempted.
  const config = (name: string, project: string) => writeConfig(dir, simConfigYaml(sim, { project }), name);

  it("provenance policy off on every channel: no Sigstore, no PostgreSQL driver (src/ and bundle)", async () => {
    const off = config(
      "off.yaml",
      "    provenance:\n      policy: { github: off, crates: off, npm: off, pypi: off, homebrew: off }\n",
    );
    for (const entry of [SRC, BIN]) {
      const loaded = await loadedBy(entry, ["verify", "v0.8.0", "--config", off, "--json"]);
      assert.ok(
        loaded.some((m) => /undici/.test(m)),
        `${entry}: the run did not reach the probes`,
      );
      assert.deepEqual(optionalIn(loaded), [], entry);
    }
  });

  it("a verify loads undici's dispatcher, not its fetch, WebSocket, EventSource or cache stores (src/ and bundle)", async () => {
    const on = config("undici.yaml", "");
    for (const entry of [SRC, BIN]) {
      // One channel: this sim has no GitHub token, and the anonymous quota is shared by this file's runs.
      const loaded = await loadedBy(entry, ["verify", "v0.8.0", "--config", on, "--channel", "npm", "--json"]);
      assert.ok(
        loaded.some((m) => /\/undici\/lib\/dispatcher\/agent\.js$/.test(m)),
        `${entry}: undici's Agent not loaded`,
      );
      assert.deepEqual(
        // (The HTTP/1 client requires fetch's body helpers lazily, for a web-stream body: in the chunk, not run.)
        loaded.filter((m) =>
          /\/undici\/(index\.js$|lib\/(mock|cache|interceptor)\/|lib\/web\/(websocket|eventsource|cache|cookies)\/|lib\/web\/fetch\/index\.js$)/.test(
            m,
          ),
        ),
        [],
        entry,
      );
    }
  });

  it("asking GitHub through Octokit loads neither Node's own undici nor web streams (src/ and bundle)", async () => {
    const on = config("octokit.yaml", "");
    for (const entry of [SRC, BIN]) {
      // Homebrew: one GitHub request (the formula through the contents API), within this sim's anonymous quota.
      const loaded = await loadedBy(entry, ["verify", "v0.8.0", "--config", on, "--channel", "homebrew", "--json"]);
      assert.ok(
        loaded.some((m) => /\/@octokit\/request\//.test(m)),
        `${entry}: Octokit not reached`,
      );
      assert.deepEqual(
        loaded.filter((m) => /^builtin:internal\/(deps\/undici|webstreams)\//.test(m)),
        [],
        entry,
      );
    }
  });

  it("npm's config library loads for an npm channel only (src/ and bundle)", async () => {
    const on = config("npm.yaml", "");
    // Everything of @npmcli/config but its one-function nerf-dart (the credential rule's URL key).
    const npmConfig = (list: readonly string[]) =>
      list.filter((m) => /\/@npmcli\/config\//.test(m) && !/nerf-dart\.js$/.test(m));
    for (const entry of [SRC, BIN]) {
      // PyPI: its attestations are checked with Sigstore, and it asks GitHub nothing (no token in this sim).
      const pypi = await loadedBy(entry, ["verify", "v0.8.0", "--config", on, "--channel", "pypi", "--json"]);
      assert.ok(
        pypi.some((m) => /\/@sigstore\/verify\//.test(m)),
        `${entry}: the run did not reach provenance`,
      );
      assert.deepEqual(npmConfig(pypi), [], entry);
      const npm = await loadedBy(entry, ["verify", "v0.8.0", "--config", on, "--channel", "npm", "--json"]);
      assert.ok(npmConfig(npm).length > 0, `${entry}: npm's configuration not read for the npm channel`);
    }
  });

  it("the default provenance policy loads Sigstore (src/ and bundle)", async () => {
    const on = config("default.yaml", "");
    for (const entry of [SRC, BIN]) {
      const loaded = await loadedBy(entry, ["verify", "v0.8.0", "--config", on, "--json"]);
      assert.ok(
        loaded.some((m) => /\/@sigstore\/verify\//.test(m)),
        `${entry}: Sigstore not loaded`,
      );
    }
  });
});
