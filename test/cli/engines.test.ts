/**
 * On a Node.js older than package.json's engines, `monitor` says what it needs and exits 2, instead of failing
 * inside the bundle on a missing export. Run with the machine's own node when it is older (these machines ship
 * Node 20; CI installs 24 beside it).
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..", "..");
const OLD = ["/usr/bin/node", "/usr/local/bin/node"].find((p) => {
  if (!existsSync(p)) return false;
  const v = execFileSync(p, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
  return Number(v.split(".")[0]) < 22;
});

describe("bin/monitor.js on an unsupported Node", () => {
  it(
    "names the required range and the running version, exit 2",
    { skip: OLD ? false : "no Node older than 22 here" },
    () => {
      const engines = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } })
        .engines.node;
      const r = spawnSync(OLD as string, [join(ROOT, "bin", "monitor.js"), "--version"], { encoding: "utf8" });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(
        r.stderr,
        new RegExp(`^error: release-monitor needs Node\\.js ${engines.replace(/[|^.>=]/g, "\\$&")} `),
      );
      assert.match(r.stderr, /this is v\d+\./);
      assert.doesNotMatch(r.stderr, /SyntaxError|at /);
    },
  );
});
