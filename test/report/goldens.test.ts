/**
 * Golden reports: `verify v0.8.0 --sim <scenario>` for every sim scenario, in JSON (report@1), text and markdown,
 * compared byte for byte with the files in test/report/goldens after masking what differs per run:
 * timestamps, loopback ports, durations, and the random commit/tag-object ids (numbered by first appearance,
 * so a change in which id appears where still shows). Regenerate with UPDATE_GOLDENS=1 only on a deliberate change.
 */
import { strict as assert } from "node:assert";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SCENARIOS } from "../../src/sim/scenarios.ts";
import { REPO_ROOT, runCli } from "../helpers/cli.ts";

const GOLDENS = join(REPO_ROOT, "test/report/goldens");
const CONFIG = join(REPO_ROOT, "examples/plasmite.yaml");
const UPDATE = process.env["UPDATE_GOLDENS"] === "1";

export function maskReport(text: string): string {
  const ids = new Map<string, string>();
  const shorts = new Map<string, string>();
  return text
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?\b/g, "<time>")
    .replace(/\b\d{2}:\d{2}Z/g, "<hh:mm>Z")
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")
    .replace(/("duration_ms": )\d+/g, "$1<ms>")
    .replace(/\b[0-9a-f]{40}\b/g, (id) => {
      let name = ids.get(id);
      if (name === undefined) {
        name = `<id${ids.size + 1}>`;
        ids.set(id, name);
      }
      return name;
    })
    .replace(/\b[0-9a-f]{7}\b(?=\W)/g, (short) => {
      for (const [id, name] of ids) if (id.startsWith(short)) return `${name}:short`;
      // A short commit with no full id in the output (the text report's provenance lines): numbered on its own.
      let name = shorts.get(short);
      if (name === undefined) {
        name = `<short${shorts.size + 1}>`;
        shorts.set(short, name);
      }
      return name;
    });
}

const FORMATS = [
  { name: "json", args: ["--json"], ext: "json" },
  { name: "text", args: [], ext: "txt" },
  { name: "markdown", args: ["--markdown"], ext: "md" },
] as const;

describe("golden reports for every sim scenario", { concurrency: 2 }, () => {
  for (const scenario of SCENARIOS) {
    it(scenario.name, async () => {
      for (const format of FORMATS) {
        const result = await runCli(["verify", "v0.8.0", "--config", CONFIG, "--sim", scenario.name, ...format.args]);
        const masked = `exit ${result.code}\n${maskReport(result.stdout)}`;
        const file = join(GOLDENS, `${scenario.name}.${format.ext}`);
        if (UPDATE || !existsSync(file)) {
          if (!UPDATE) assert.fail(`no golden ${file}; run with UPDATE_GOLDENS=1 to create it`);
          writeFileSync(file, masked);
          continue;
        }
        assert.equal(masked, readFileSync(file, "utf8"), `${scenario.name} ${format.name} differs from ${file}`);
      }
    });
  }
});
