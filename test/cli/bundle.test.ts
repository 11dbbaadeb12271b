/**
 * The bundled CLI (dist/cli/main.js, built by `npm run build`; `prepare` builds it on npm ci) behaves like src/ on
 * a representative subset of the e2e verify scenarios: same stdout, same exit code. Built here when missing. Also:
 * `monitor verify --help` loads none of the heavy modules, from src/ (every file is a module) and from the bundle
 * (its built-ins), checked through a loaded-module list.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { REPO_ROOT, tempDir } from "../helpers/cli.ts";

const BUNDLE = join(REPO_ROOT, "dist/cli/main.js");
const BIN = join(REPO_ROOT, "bin/monitor.js");
const SRC = join(REPO_ROOT, "src/cli/main.ts");
const EXAMPLE = join(REPO_ROOT, "examples/plasmite.yaml");
const PRELOAD = join(REPO_ROOT, "test/helpers/loaded-modules.ts");

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
 * Output minus what differs between any two runs: times, durations, the sim's ports, and the git object ids the sim
 * derives from the time it starts (40 hex digits, or their 7-digit short form in a provenance line; sha256 digests
 * are 64 and stay).
 */
function stable(stdout: string): string {
  return stdout
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<t>")
    .replace(/"(duration_ms|ms|elapsed_ms|latency_ms|cache_age_ms)": [0-9.]+/g, '"$1": 0')
    .replace(/127\.0\.0\.1:[0-9]+/g, "127.0.0.1:<port>")
    .replace(/\b[0-9a-f]{40}\b/g, "<sha1>")
    .replace(/( from )[0-9a-f]{7}\b/g, "$1<short-sha1>");
}

async function loadedBy(entry: string, args: readonly string[]): Promise<string[]> {
  const file = join(tempDir("rm-loaded-"), "loaded.txt");
  const r = await node(["--import", PRELOAD, entry, ...args], { LOADED_MODULES_FILE: file });
  assert.equal(r.code, 0, r.stderr);
  const list = readFileSync(file, "utf8").split("\n").filter(Boolean);
  rmSync(file, { force: true });
  return list;
}

const HEAVY = [/\/undici\//, /\/@octokit\//, /\/pino\//, /\/prom-client\//, /^node:sqlite$/, /^builtin:sqlite$/];
const heavyIn = (list: readonly string[]) => list.filter((m) => HEAVY.some((h) => h.test(m)));

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

  it("verify --help loads no heavy module (src/ and bundle); watch --help does (src/)", async () => {
    assert.deepEqual(heavyIn(await loadedBy(SRC, ["verify", "--help"])), []);
    assert.deepEqual(heavyIn(await loadedBy(BIN, ["verify", "--help"])), []);
    const watch = heavyIn(await loadedBy(SRC, ["watch", "--help"]));
    assert.ok(watch.some((m) => /sqlite/.test(m)) && watch.some((m) => /undici/.test(m)), watch.join("\n"));
  });
});
