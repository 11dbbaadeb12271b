/** Every shipped example config passes `monitor config check` (the real CLI), as a user would first run it. */
import { strict as assert } from "node:assert";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT, runCli } from "../helpers/cli.ts";

const EXAMPLES = readdirSync(join(REPO_ROOT, "examples")).filter((f) => /\.ya?ml$/.test(f));

describe("examples/*.yaml pass config check", () => {
  it("includes the goreleaser and cargo-dist shapes", () => {
    for (const name of ["goreleaser.yaml", "cargo-dist.yaml", "plasmite.yaml"])
      assert.ok(EXAMPLES.includes(name), name);
  });
  for (const file of EXAMPLES) {
    it(file, async () => {
      const r = await runCli(["config", "check", "--config", join(REPO_ROOT, "examples", file)], {
        env: { GITHUB_TOKEN: "" },
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });
  }

  it("cargo-dist.yaml: per-asset .sha256 sidecars and {target} names through platform_names", async () => {
    const r = await runCli(["config", "check", "--config", join(REPO_ROOT, "examples/cargo-dist.yaml")]);
    assert.match(r.stdout, /rivet \(ferrous\/rivet\): github, crates, homebrew/);
  });
});
