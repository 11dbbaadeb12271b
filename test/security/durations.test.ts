import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT, runCli, tempDir } from "../helpers/cli.ts";

/**
 * Durations have bounds: a value past Node's timer limit (about 24.8 days) used to become a 1 ms timer, and a
 * huge `--for` crashed with a RangeError. Every one is now exit 2 naming the key or flag, without a stack trace.
 */

const EXAMPLE = readFileSync(join(REPO_ROOT, "examples/plasmite.yaml"), "utf8");

/** The example config with extra lines under `settings:` (indented two spaces), in a fresh directory. */
function config(settings: string): string {
  const dir = tempDir("rm-durations-");
  const file = join(dir, "monitor.yaml");
  writeFileSync(file, EXAMPLE.replace(/^settings:\n/m, `settings:\n${settings}\n`));
  return file;
}

function assertUsageError(r: { code: number; stderr: string }, named: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, named);
  assert.doesNotMatch(r.stderr, /\n\s+at |RangeError/, "no stack trace");
}

describe("config durations are bounded per key (monitor config check)", () => {
  const cases: [string, RegExp][] = [
    ["  watch:\n    cycle_timeout: 30d", /settings\.watch\.cycle_timeout.*at most 24h/],
    ["  http:\n    request_timeout: 25d", /settings\.http\.request_timeout.*at most 24h/],
    ["  watch:\n    jitter: 2h", /settings\.watch\.jitter.*at most 1h/],
    ["  retention:\n    history: 99999d", /settings\.retention\.history.*at most 3650d/],
  ];
  for (const [yaml, named] of cases) {
    it(yaml.trim().replace(/\s+/g, " "), async () => {
      assertUsageError(await runCli(["config", "check", "--config", config(yaml)]), named);
    });
  }

  it("the largest allowed value passes", async () => {
    const r = await runCli(["config", "check", "--config", config("  watch:\n    cycle_timeout: 24h")]);
    assert.equal(r.code, 0, r.stderr);
  });
});

describe("CLI duration flags are bounded", () => {
  it("monitor silence --for 99999999d exits 2 naming --for", async () => {
    const file = config("");
    assertUsageError(await runCli(["silence", "plasmite", "--for", "99999999d", "--config", file]), /--for: .*maximum/);
  });

  it("monitor silence --for 30d still works", async () => {
    const file = config("");
    const r = await runCli(["silence", "plasmite", "--for", "30d", "--config", file]);
    assert.equal(r.code, 0, r.stderr);
  });

  for (const args of [
    ["verify", "v0.8.0", "--wait", "30d"],
    ["verify", "v0.8.0", "--poll-interval", "25d"],
    ["watch", "--once", "--drain-timeout", "25d"],
    ["demo", "--duration", "30d"],
    ["demo", "--heal-after", "30d"],
  ]) {
    it(`monitor ${args.join(" ")} exits 2 naming the flag`, async () => {
      const flag = args.find((a) => a.startsWith("--") && a !== "--once") ?? "";
      assertUsageError(await runCli([...args, "--config", config("")]), new RegExp(`${flag}: .*maximum`));
    });
  }
});
