/**
 * npm as npm itself sees it (issue 10 item 4). For each configuration setup, `npm config get registry` runs in the
 * same isolated environment (HOME, userconfig, globalconfig, cache), and the real CLI must send its npm requests to
 * that registry: a loopback server that records what arrived. A decoy registry stands where a wrong reading of the
 * configuration would lead.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { plasmiteProject } from "../../src/sim/scenarios.ts";
import type { Report } from "../../src/report/types.ts";
import { runCli, simConfigYaml, tempDir, writeConfig, type CliResult } from "../helpers/cli.ts";
import { startFixtureServer, type FixtureServer } from "../helpers/fixture-server.ts";
import { npmPackage, type NpmPackageOptions } from "../helpers/npm-registry.ts";

const HOUR = 3_600_000;

let sim: Sim;
/** The sim's GitHub answers 60 unauthenticated requests an hour, fewer than nine verifies with provenance make. */
const GITHUB_TOKEN = "ghp_npmConfigSuiteToken";
before(async () => {
  sim = await startSim({ githubToken: GITHUB_TOKEN });
  sim.world.addProject(plasmiteProject());
  sim.world.publish("plasmite", "0.8.0", { publishedAt: Date.now() - 2 * HOUR, channels: ["github"] });
});
after(() => sim.close());

/** A monitor config on the sim for github, with no npm registry of its own (npm's configuration decides). */
export function configWithoutNpmRegistry(s: Sim, opts: { pkg?: string; npm?: string; settings?: string } = {}): string {
  let yaml = simConfigYaml(s, { token: GITHUB_TOKEN, ...(opts.settings ? { settings: opts.settings } : {}) }).replace(
    / {2}npm:\n {4}registry: .*\n/,
    "",
  );
  if (opts.npm) yaml = yaml.replace("  pypi:\n", `  npm:\n${opts.npm}  pypi:\n`);
  if (opts.pkg) yaml = yaml.replace("npm: { package: plasmite }", `npm: { package: "${opts.pkg}" }`);
  return yaml;
}

interface Sandbox {
  home: string;
  /** Working directory of both npm and the monitor: outside HOME. */
  cwd: string;
  root: string;
  env: NodeJS.ProcessEnv;
}

/** A fresh HOME, cwd, empty global config and cache: never the machine's own npm configuration. */
function sandbox(): Sandbox {
  const root = tempDir("rm-npmrc-");
  const home = join(root, "home");
  const cwd = join(root, "work");
  mkdirSync(home);
  mkdirSync(cwd);
  const globalrc = join(root, "global-npmrc");
  writeFileSync(globalrc, "");
  return {
    home,
    cwd,
    root,
    env: { HOME: home, NPM_CONFIG_GLOBALCONFIG: globalrc, NPM_CONFIG_CACHE: join(root, "cache") },
  };
}

function npmConfigGet(key: string, box: Sandbox): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      "npm",
      ["config", "get", key],
      { cwd: box.cwd, env: { PATH: process.env["PATH"], ...box.env } },
      (err, stdout, stderr) => (err ? fail(new Error(`npm config get ${key}: ${stderr}`)) : done(stdout.trim())),
    );
  });
}

async function verify(
  box: Sandbox,
  config: string,
  args: string[] = [],
): Promise<{ result: CliResult; report: Report }> {
  const result = await runCli(
    ["verify", "v0.8.0", "--config", config, "--json", "--channel", "github", "npm", ...args],
    { cwd: box.cwd, env: box.env },
  );
  let report: Report;
  try {
    report = JSON.parse(result.stdout) as Report;
  } catch {
    assert.fail(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { result, report };
}

const npmVerdict = (report: Report) => {
  const ch = report.channels.find((c) => c.channel === "npm");
  assert.ok(ch, "npm channel in report");
  return ch;
};

const slash = (u: string) => (u.endsWith("/") ? u : `${u}/`);

interface Setup {
  name: string;
  pkg?: string;
  /** The npm config key whose value names the registry. */
  key?: string;
  /** Writes the configuration; `target` must be chosen, `decoy` must not. */
  arrange: (box: Sandbox, target: string, decoy: string) => void;
}

const SETUPS: Setup[] = [
  {
    name: "~/.npmrc, run outside $HOME",
    arrange: (b, target) => writeFileSync(join(b.home, ".npmrc"), `registry=${target}/\n`),
  },
  {
    name: "NPM_CONFIG_USERCONFIG",
    arrange: (b, target, decoy) => {
      writeFileSync(join(b.home, ".npmrc"), `registry=${decoy}/\n`);
      writeFileSync(join(b.root, "custom-npmrc"), `registry=${target}/\n`);
      b.env["NPM_CONFIG_USERCONFIG"] = join(b.root, "custom-npmrc");
    },
  },
  {
    name: "global config under the prefix (prefix/etc/npmrc)",
    arrange: (b, target) => {
      delete b.env["NPM_CONFIG_GLOBALCONFIG"];
      mkdirSync(join(b.root, "prefix", "etc"), { recursive: true });
      writeFileSync(join(b.root, "prefix", "etc", "npmrc"), `registry=${target}/\n`);
      b.env["NPM_CONFIG_PREFIX"] = join(b.root, "prefix");
    },
  },
  {
    name: "NPM_CONFIG_GLOBALCONFIG",
    arrange: (b, target) => writeFileSync(b.env["NPM_CONFIG_GLOBALCONFIG"] ?? "", `registry=${target}/\n`),
  },
  {
    name: "project .npmrc (over ~/.npmrc)",
    arrange: (b, target, decoy) => {
      writeFileSync(join(b.home, ".npmrc"), `registry=${decoy}/\n`);
      writeFileSync(join(b.cwd, "package.json"), `{"name":"app","version":"1.0.0"}\n`);
      writeFileSync(join(b.cwd, ".npmrc"), `registry=${target}/\n`);
    },
  },
  {
    name: "NPM_CONFIG_REGISTRY (over ~/.npmrc)",
    arrange: (b, target, decoy) => {
      writeFileSync(join(b.home, ".npmrc"), `registry=${decoy}/\n`);
      b.env["NPM_CONFIG_REGISTRY"] = `${target}/`;
    },
  },
  {
    name: "npm_config_registry (over the project .npmrc)",
    arrange: (b, target, decoy) => {
      writeFileSync(join(b.cwd, "package.json"), `{"name":"app","version":"1.0.0"}\n`);
      writeFileSync(join(b.cwd, ".npmrc"), `registry=${decoy}/\n`);
      b.env["npm_config_registry"] = `${target}/`;
    },
  },
  {
    name: "registry=${MIRROR_URL} expansion",
    arrange: (b, target) => {
      writeFileSync(join(b.home, ".npmrc"), "registry=${MIRROR_URL}\n");
      b.env["MIRROR_URL"] = `${target}/`;
    },
  },
  {
    name: "scoped registry @acme:registry",
    pkg: "@acme/plasmite",
    key: "@acme:registry",
    arrange: (b, target, decoy) =>
      writeFileSync(join(b.home, ".npmrc"), `registry=${decoy}/\n@acme:registry=${target}/\n`),
  },
];

describe("npm registry resolution matches `npm config get registry`", () => {
  for (const s of SETUPS) {
    it(s.name, async () => {
      const pkg = s.pkg ?? "plasmite";
      const target = await startFixtureServer(npmPackage(pkg, { tarballBase: "" }));
      const decoy = await startFixtureServer(npmPackage(pkg, { tarballBase: "" }));
      try {
        const box = sandbox();
        s.arrange(box, target.url, decoy.url);
        const npmSays = await npmConfigGet(s.key ?? "registry", box);
        const servers: FixtureServer[] = [target, decoy];
        const chosen = servers.find((x) => slash(x.url) === slash(npmSays));
        assert.ok(chosen, `npm resolves ${s.key ?? "registry"} to one of the loopback registries, got ${npmSays}`);
        const config = writeConfig(tempDir(), configWithoutNpmRegistry(sim, s.pkg ? { pkg: s.pkg } : {}));
        const { result, report } = await verify(box, config, ["--latest"]);
        const npm = npmVerdict(report);
        assert.equal(npm.status, "ok", `${JSON.stringify(npm.findings)}\n${result.stderr}`);
        assert.ok(chosen.requests.length > 0, `the monitor asked the registry npm uses (${npmSays})`);
        const other = servers.filter((x) => x !== chosen);
        for (const o of other)
          assert.deepEqual(
            o.requests.map((r) => r.rawPath),
            [],
            "no request to the other registry",
          );
        assert.equal(result.code, 0, result.stderr);
      } finally {
        await target.close();
        await decoy.close();
      }
    });
  }
});

export type { NpmPackageOptions };
