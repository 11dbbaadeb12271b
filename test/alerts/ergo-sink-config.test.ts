/**
 * `settings.alerts.sinks[].repo_dir` of the ergo sink, through the real CLI and the real ergo 6.0.0: relative to the
 * config file (not the working directory), and a missing or uninitialised directory is a config error at start
 * (exit 2, the path named) for `watch` and `config check`, while `verify` (no sinks) ignores it.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { REPO_ROOT, runCli, tempDir } from "../helpers/cli.ts";
import { epicsTitled, initRealErgo, listAll, REAL_ERGO } from "../helpers/real-ergo.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** examples/plasmite.yaml in <tmp>/conf/, alerting after one cycle into an ergo sink at `repoDir` (as written). */
function writeConfig(repoDir: string): { conf: string; config: string } {
  const root = tempDir("ergo-sink-config-");
  dirs.push(root);
  const conf = join(root, "conf");
  mkdirSync(conf);
  const example = readFileSync(join(REPO_ROOT, "examples/plasmite.yaml"), "utf8");
  const sinks = `  state_dir: state
  alerts:
    flap_cycles: 1
    sinks:
      - type: ergo
        repo_dir: ${JSON.stringify(repoDir)}
        binary: ${JSON.stringify(REAL_ERGO)}
`;
  assert.ok(example.includes("  state_dir: .monitor-state\n"));
  const config = join(conf, "monitor.yaml");
  writeFileSync(config, example.replace("  state_dir: .monitor-state\n", sinks));
  return { conf, config };
}

describe("ergo sink repo_dir (real CLI, real ergo)", { timeout: 120_000 }, () => {
  it("resolves a relative repo_dir against the config file's directory, not the working directory", async () => {
    const { conf, config } = writeConfig("ergo-repo");
    const repo = join(conf, "ergo-repo");
    mkdirSync(repo);
    initRealErgo(repo);
    const check = await runCli(["config", "check", "--config", config], { cwd: REPO_ROOT });
    assert.equal(check.code, 0, check.stderr);
    const r = await runCli(["watch", "--once", "--no-server", "--sim", "missing-asset", "--config", config], {
      cwd: REPO_ROOT,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /dead-letter/i);
    assert.equal(epicsTitled(repo, "Release blockers: v0.8.0").length, 1);
    const tasks = listAll(repo).filter((i) => i.kind === "task");
    assert.ok(
      tasks.some((t) => t.title.includes("plasmite_0.8.0_linux_amd64.tar.gz")),
      JSON.stringify(tasks),
    );
  });

  it("a missing ergo directory fails `config check` and `watch` with exit 2 naming the path; `verify` ignores it", async () => {
    const { conf, config } = writeConfig("no-such-ergo");
    const path = join(conf, "no-such-ergo");
    for (const args of [
      ["config", "check"],
      ["watch", "--once", "--no-server", "--sim", "clean"],
    ]) {
      const r = await runCli([...args, "--config", config], { cwd: REPO_ROOT });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.ok(
        r.stderr.includes(`settings.alerts.sinks[0].repo_dir: ergo directory ${path} does not exist`),
        r.stderr,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
    const v = await runCli(["verify", "v0.8.0", "--sim", "clean", "--config", config], { cwd: REPO_ROOT });
    assert.equal(v.code, 0, v.stderr);
  });

  it("a directory without .ergo (in it or above it) is not an ergo repository: exit 2", async () => {
    const { conf, config } = writeConfig("plain-dir");
    mkdirSync(join(conf, "plain-dir"));
    for (const args of [
      ["config", "check"],
      ["watch", "--once", "--no-server", "--sim", "clean"],
    ]) {
      const r = await runCli([...args, "--config", config], { cwd: REPO_ROOT });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.ok(
        r.stderr.includes(`settings.alerts.sinks[0].repo_dir: ${join(conf, "plain-dir")} is not an ergo repository`),
        r.stderr,
      );
    }
  });
});
