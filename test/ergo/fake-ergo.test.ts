import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { FAKE_ERGO_BIN, fakeErgoEnv, readFakeCalls } from "../fakes/ergo.ts";

/** The fake's own contract (ergo.md), so scenario tests built on it test against ergo 6 behaviour. */

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), "fake-ergo-"));
  dirs.push(d);
  return d;
}

function ergo(cwd: string, args: string[], input?: string): { code: number; out: string; err: string } {
  // `input` given: piped stdin; otherwise /dev/null (a character device, like a terminal for ergo).
  const r = spawnSync(FAKE_ERGO_BIN, args, {
    cwd,
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    encoding: "utf8",
    env: fakeErgoEnv(),
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function ok(cwd: string, args: string[], input?: string): string {
  const r = ergo(cwd, args, input);
  assert.equal(r.code, 0, `ergo ${args.join(" ")}: ${r.err}`);
  assert.equal(r.err, "");
  return r.out;
}

const json = (cwd: string, args: string[]) =>
  JSON.parse(ok(cwd, [...args, "--json"])) as { version: number; items: Record<string, unknown>[] };

describe("fake ergo", () => {
  it("init, discovery from a subdirectory and --dir, and the not-found error", () => {
    const d = tmp();
    const none = ergo(d, ["list"]);
    assert.equal(none.code, 1);
    assert.equal(none.out, "");
    assert.equal(
      none.err,
      "error: no .ergo directory found (run ergo init)\nhint: run `ergo init` or target an existing graph with `ergo --dir <path>`\n",
    );
    assert.equal(ok(d, ["init"]), `Initialized Ergo at ${d}/.ergo\n`);
    assert.equal(ok(d, ["init"]), `Ergo already initialized at ${d}/.ergo\n`);
    mkdirSync(path.join(d, "a", "b"), { recursive: true });
    assert.deepEqual(json(path.join(d, "a", "b"), ["list"]), { version: 1, items: [] });
    assert.deepEqual(json(tmpdir(), ["--dir", path.join(d, "a"), "list"]), { version: 1, items: [] });
  });

  it("new epic --file, new task --epic, list filters and derived epic states", () => {
    const d = tmp();
    ok(d, ["init"]);
    writeFileSync(path.join(d, "t.md"), "# Fix npm\n\nbody one\n\n---\n\n# Re-run publish\nbody two\n");
    const out = ok(d, ["new", "epic", "Release blockers: v0.9.0", "--file", "t.md"], "## Goal\nepic body\n");
    const m =
      /^Epic ([A-Z2-7]{6}) - Release blockers: v0\.9\.0\n {2}([A-Z2-7]{6}) - Fix npm\n {2}([A-Z2-7]{6}) - Re-run publish\n2 tasks, 0 dependencies\n$/.exec(
        out,
      );
    assert.ok(m, out);
    const [epic, a, b] = [m[1]!, m[2]!, m[3]!];
    assert.equal(ok(d, ["show", a, "--body"]), "body one\n");
    assert.equal(ok(d, ["show", epic, "--body"]), "## Goal\nepic body\n");
    const c = ok(d, ["new", "task", "Verify wheels", "--epic", epic], "## task body\n").trim();
    assert.match(c, /^[A-Z2-7]{6}$/);
    const root = ok(d, ["new", "task", "Standalone"]).trim();

    const list = json(d, ["list", "--epic", epic]);
    assert.deepEqual(list.items[0], { id: epic, title: "Release blockers: v0.9.0", kind: "epic", state: "active" });
    assert.deepEqual(
      list.items.slice(1).map((i) => i["id"]),
      [a, b, c].sort(),
    );
    assert.deepEqual(list.items[1], {
      id: list.items[1]!["id"],
      title: list.items[1]!["title"],
      kind: "task",
      state: "todo",
      ready: true,
      epic_id: epic,
    });

    ok(d, ["done", a, "-m", "fixed"]);
    ok(d, ["fail", b]);
    ok(d, ["cancel", c]);
    assert.equal(json(d, ["list", "--epic", epic]).items[0]!["state"], "failed");
    ok(d, ["done", root]);
    // Default list: failed epic stays (failed work is kept), done root task is hidden.
    assert.deepEqual(
      json(d, ["list"]).items.map((i) => i["id"]),
      [epic, ...[a, b].sort()],
    );
    assert.equal(json(d, ["list", "--all"]).items.length, 5);
    assert.deepEqual(json(d, ["list", "--ready"]).items, []);
    const conflict = ergo(d, ["list", "--ready", "--all"]);
    assert.equal(conflict.err, "error: conflicting flags: --ready and --all\n");
    const noEpic = ergo(d, ["list", "--epic", root, "--json"]);
    assert.equal(noEpic.err, `error: no such epic: ${root}\n`);
  });

  it("epics whose children are all done are hidden by default and found with --all", () => {
    const d = tmp();
    ok(d, ["init"]);
    const parent = ok(d, ["new", "task", "Parent"]).trim();
    const child = ok(d, ["new", "task", "Child", "--epic", parent]).trim();
    ok(d, ["done", child]);
    assert.deepEqual(json(d, ["list"]).items, []);
    assert.deepEqual(
      json(d, ["list", "--all"]).items.map((i) => [i["id"], i["kind"], i["state"]]),
      [
        [parent, "epic", "done"],
        [child, "task", "done"],
      ],
    );
    const done = ok(d, ["new", "task", "Done root"]).trim();
    ok(d, ["done", done]);
    const refused = ergo(d, ["new", "task", "x", "--epic", done]);
    assert.equal(
      refused.err,
      `error: cannot add child to task ${done}: cannot promote task ${done}: state is "done" (must be todo or draft)\n`,
    );
  });

  it("lifecycle receipts, open rules and the stdin rule", () => {
    const d = tmp();
    ok(d, ["init"]);
    const t = ok(d, ["new", "task", "T"]).trim();
    assert.equal(ok(d, ["block", t, "-m", "waiting"]), `${t} - T\nState: blocked\nMessage: appended\n`);
    assert.equal(ok(d, ["open", t]), `${t} - T\nState: todo\nReady: ${t} - T\n`);
    assert.equal(ok(d, ["open", t]), `${t} - T\nState: todo\nNo changes.\nReady: ${t} - T\n`);
    const piped = ergo(d, ["done", t], "");
    assert.equal(piped.code, 1);
    assert.equal(
      piped.err,
      `error: done does not read stdin; use ergo body ${t} to replace the body or -m <message> to add a lifecycle note\n`,
    );
    assert.equal(ok(d, ["done", t]), `${t} - T\nState: done\n`);
    assert.equal(ergo(d, ["open", t]).err.split("\n")[0], "error: open cannot apply to state=done");
    assert.equal(ok(d, ["result", t, "npm view shows 0.9.0"]), `${t} - Result recorded: npm view shows 0.9.0\n`);
    assert.equal(ergo(d, ["result", t, "two\nlines"]).err, "error: result text must be a single line\n");
    assert.equal(ergo(d, ["result", t, "  "]).err, "error: result text must not be blank\n");
    assert.equal(ergo(d, ["show", "NOPE12"]).err, "error: unknown task id NOPE12\n");
    const calls = readFakeCalls(d);
    assert.ok(calls.some((c) => c.argv[0] === "done" && (c.stdin === "pipe" || c.stdin === "socket") && c.exit === 1));
  });

  it("rejects removed commands and flags like ergo 6", () => {
    const d = tmp();
    ok(d, ["init"]);
    const cases: [string[], string][] = [
      [["--json", "list", "--epics"], "error: unknown flag: --json\n"],
      [["list", "--epics"], "error: unknown flag: --epics\n"],
      [["--json", "new", "epic"], "error: unknown flag: --json\n"],
      [
        ["set", "ABCDEF", "state=done"],
        'error: unknown command "set" for "ergo"\nhint: use claim, done, fail, block, cancel, open, title, body, or move\n',
      ],
      [["plan"], 'error: plan is not accepted; use ergo new epic "<title>" --file <path>\n'],
      [["release", "ABCDEF"], 'error: unknown command "release" for "ergo"\n'],
      [
        ["done", "ABCDEF", "--result", "x"],
        'error: --result is not accepted; use ergo result <id> "<text>" --file <path>\n',
      ],
      [
        ["new", "task", '{"title":"x","epic":"ABCDEF"}'],
        'error: creation JSON is not accepted; use ergo new task "<title>" --epic <id>\n',
      ],
      [["new", "epic", "E", "--file", "missing.md"], "error: open missing.md: no such file or directory\n"],
    ];
    for (const [args, err] of cases) {
      const r = ergo(d, args);
      assert.equal(r.code, 1, args.join(" "));
      assert.equal(r.err, err, args.join(" "));
    }
    writeFileSync(path.join(d, "empty.md"), "\n");
    assert.equal(
      ergo(d, ["new", "epic", "E", "--file", "empty.md"]).err,
      "error: empty.md: epic file contains no task chunks\nhint: run `ergo new epic --help`\n",
    );
    assert.equal(readFakeCalls(d).filter((c) => c.exit === 1).length, cases.length + 1, "failed calls are logged too");
  });

  it("lock busy after the configured wait, and the injected failures", () => {
    const d = tmp();
    ok(d, ["init"]);
    writeFileSync(path.join(d, ".ergo", "lock.owner"), String(process.pid));
    const r = spawnSync(FAKE_ERGO_BIN, ["list"], {
      cwd: d,
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
      env: fakeErgoEnv({ FAKE_ERGO_LOCK_TIMEOUT_MS: "100" }),
    });
    assert.equal(
      r.stderr,
      "error: lock busy after 100ms\nhint: another ergo process is still running; try again in a moment\n",
    );
    rmSync(path.join(d, ".ergo", "lock.owner"));
    const env = fakeErgoEnv({ FAKE_ERGO_FAIL_NEXT: "2" });
    const run = () =>
      spawnSync(FAKE_ERGO_BIN, ["list"], { cwd: d, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", env });
    assert.equal(run().status, 1);
    assert.equal(
      run().stderr,
      "error: lock busy after 10s\nhint: another ergo process is still running; try again in a moment\n",
    );
    assert.equal(run().status, 0);
    assert.equal(run().status, 0, "armed once per value");
  });
});
