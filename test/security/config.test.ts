/** Config and output surface, through the real CLI: no secret in syntax errors or `config check`, names validated, echoes escaped. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { runCli, tempDir, writeConfig } from "../helpers/cli.ts";

const MARK = "MarkerTok9q7Zx3";
const PROJECT = (channels: string) => `projects:
  - name: p
    repo: o/p
    channels:
${channels}
`;

describe("security: config and output", () => {
  it("a YAML syntax error on a token line keeps the position and key, not the token", async () => {
    const cfg = writeConfig(
      tempDir(),
      `settings:\n  github:\n    token: ${MARK}: x\n${PROJECT("      crates: { crate: p }")}`,
    );
    const r = await runCli(["config", "check", "--config", cfg]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(!r.stderr.includes(MARK), r.stderr);
    assert.match(r.stderr, /line 3, column \d+/);
    assert.match(r.stderr, /token: \[REDACTED\]/);
  });

  it("config check never prints credentials inside endpoint URLs", async () => {
    const cfg = writeConfig(
      tempDir(),
      `settings:\n  github:\n    api_url: http://usr${MARK}:pw${MARK}@127.0.0.1:9/\n  npm:\n    registry: http://u:${MARK}@127.0.0.1:9/\n${PROJECT("      crates: { crate: p }")}`,
    );
    const r = await runCli(["config", "check", "--config", cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(MARK), r.stdout);
  });

  for (const [field, channels] of [
    ["projects[0].channels.npm.package", "      npm: { package: ../../-/whoami }"],
    ["projects[0].channels.crates.crate", "      crates: { crate: 1bad/crate }"],
    ["projects[0].channels.pypi.project", '      pypi: { project: "-bad-", sdist: null, wheel: null }'],
    [
      "projects[0].channels.homebrew.formula",
      '      homebrew: { tap: o/t, formula: "../x.rb", platforms: [linux_amd64], url: "https://x/{version}" }',
    ],
  ] as const) {
    it(`an invalid registry name is a config error naming ${field}`, async () => {
      const r = await runCli(["config", "check", "--config", writeConfig(tempDir(), PROJECT(channels))]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(`${field}:`), r.stderr);
      assert.ok(!r.stderr.includes("    at "), "no stack trace");
    });
  }

  it("a tag with control and bidi characters is escaped, a 100 KB one cut with its length", async () => {
    const cfg = writeConfig(tempDir(), PROJECT("      crates: { crate: p }"));
    const hostile = await runCli(["verify", "v1\n\u001b[31mX\u202e", "--config", cfg]);
    assert.equal(hostile.code, 2);
    assert.ok(
      !hostile.stderr.includes("\u001b") && !hostile.stderr.includes("\u202e") && !hostile.stderr.includes("v1\n"),
      hostile.stderr,
    );
    assert.ok(hostile.stderr.includes("\\u001b[31mX\\u202e"), hostile.stderr);
    const long = await runCli(["verify", `v${"a".repeat(100_000)}`, "--config", cfg]);
    assert.equal(long.code, 2);
    assert.ok(long.stderr.length < 1000, `stderr is ${long.stderr.length} chars`);
    assert.ok(long.stderr.includes("100001 characters"), long.stderr);
  });

  it("flag values are escaped and cut in every usage error, and a silence reason is escaped in --list", async () => {
    const cfg = writeConfig(tempDir(), PROJECT("      crates: { crate: p }"));
    const long = `c${"x".repeat(50_000)}\u001b[2J`;
    const cases: string[][] = [
      ["verify", "v1.0.0", "--config", cfg, "--channel", long],
      ["silence", "p", "--config", cfg, "--for", "1h", "--channel", long],
      ["silence", "--config", cfg, "--remove", long],
      ["release", "v1.0.0", "--config", cfg, "--mode", long],
    ];
    for (const args of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.ok(!r.stderr.includes("\u001b"), `${args[0]} echoed a raw escape: ${r.stderr.slice(0, 300)}`);
      assert.ok(r.stderr.length < 2000, `${args[0]} echoed ${r.stderr.length} chars`);
    }
    const added = await runCli(["silence", "p", "--config", cfg, "--for", "1h", "--reason", "npm \u001b[31mred\u202e"]);
    assert.equal(added.code, 0, added.stderr);
    const list = await runCli(["silence", "--config", cfg, "--list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes("\u001b") && !list.stdout.includes("\u202e"), list.stdout);
    assert.ok(list.stdout.includes("npm \\u001b[31mred\\u202e"), list.stdout);
  });
});
