/**
 * The bench's daemon worker runs with the V8 flags bin/monitor.js gives `monitor watch`, so its memory figures are
 * the shipped daemon's (issue 16, item 2).
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { DAEMON_WORKER_ENV, DAEMON_WORKER_V8_FLAGS } from "../../bench/lib/daemon-run.ts";

describe("bench daemon worker flags", () => {
  it("are bin/monitor.js's MEMORY_FLAGS and DAEMON_FLAGS (what `watch` gets)", () => {
    const bin = readFileSync(new URL("../../bin/monitor.js", import.meta.url), "utf8");
    const flags = (name: string) => {
      const m = new RegExp(`const ${name} = (\\[[^\\]]*\\]);`).exec(bin);
      assert.ok(m?.[1], `bin/monitor.js declares ${name}`);
      return JSON.parse(m[1]) as string[];
    };
    assert.deepEqual([...DAEMON_WORKER_V8_FLAGS], [...flags("MEMORY_FLAGS"), ...flags("DAEMON_FLAGS")]);
  });

  it("run with bin/monitor.js's MEMORY_ENV", () => {
    const bin = readFileSync(new URL("../../bin/monitor.js", import.meta.url), "utf8");
    const m = /const MEMORY_ENV = \{ MALLOC_ARENA_MAX: "(\d+)" \};/.exec(bin);
    assert.ok(m?.[1], "bin/monitor.js declares MEMORY_ENV");
    assert.deepEqual({ ...DAEMON_WORKER_ENV }, { MALLOC_ARENA_MAX: m[1] });
  });
});
