/**
 * Two real processes filing for the same tag at the same moment, against the real ergo 6.0.0: a daemon's ergo sink
 * and `monitor release` (fileReleaseBlocker) in every pairing. ergo locks single commands only, so without the
 * monitor's own lock across find-or-create about half of such trials leave two `Release blockers: <tag>` epics.
 * Both processes are released through a barrier: each prints `ready` and waits for its stdin to close; the test
 * closes both stdins once both are ready. No sleeps.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { epicsTitled, initRealErgo, listAll } from "../helpers/real-ergo.ts";

const FILER = path.join(import.meta.dirname, "concurrent-filer.ts");
const TAG = "v0.9.0";
const TRIALS = 24;
const PAIRS: [string, string][] = [
  ["sink", "release"],
  ["sink", "sink"],
  ["release", "release"],
];

interface Filer {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startFiler(mode: string, dir: string, n: number): Filer {
  const child = spawn(process.execPath, [FILER, mode, dir, TAG, String(n)], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString("utf8");
    if (stdout.startsWith("ready\n")) onReady();
  });
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on("close", (code) => {
      onReady();
      resolve({ code, stdout, stderr });
    });
  });
  return { child, ready, done };
}

describe("two processes filing for the same tag at once (real ergo)", { timeout: 300_000 }, () => {
  it(`leave exactly one epic \`Release blockers: ${TAG}\` in each of ${TRIALS} trials`, async (t) => {
    const counts: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = initRealErgo();
      try {
        const [a, b] = PAIRS[trial % PAIRS.length]!;
        const filers = [startFiler(a, dir, 2 * trial), startFiler(b, dir, 2 * trial + 1)];
        await Promise.all(filers.map((f) => f.ready));
        for (const f of filers) f.child.stdin.end(); // the barrier: both go now
        const results = await Promise.all(filers.map((f) => f.done));
        for (const r of results) assert.equal(r.code, 0, `${a}+${b}: ${r.stdout}${r.stderr}`);
        const epics = epicsTitled(dir, `Release blockers: ${TAG}`);
        const tasks = listAll(dir).filter((i) => i.kind === "task");
        counts.push(epics.length);
        t.diagnostic(`trial ${trial + 1} (${a}+${b}): ${epics.length} epic(s), ${tasks.length} task(s)`);
        assert.equal(tasks.length, 2, `trial ${trial + 1}: one task per filer`);
        if (epics.length === 1)
          assert.ok(
            tasks.every((x) => x.epic_id === epics[0]!.id),
            "tasks in the epic",
          );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const summary = `${counts.length} trials, epic counts: ${counts.join(",")}`;
    t.diagnostic(summary);
    console.log(summary);
    assert.deepEqual(
      counts,
      counts.map(() => 1),
      summary,
    );
  });
});
