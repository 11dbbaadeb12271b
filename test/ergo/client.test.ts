import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import {
  blockerTaskTitle,
  ErgoClient,
  ErgoError,
  fileReleaseBlocker,
  openBlockers,
  type ErgoClientOptions,
} from "../../src/ergo/client.ts";
import { renderBlockerBody } from "../../src/ergo/blocker-body.ts";
import { parseErgoStderr } from "../../src/ergo/run.ts";
import {
  failNextFakeErgo,
  FAKE_ERGO_BIN,
  fakeErgoEnv,
  holdFakeErgoLock,
  initFakeErgo,
  readFakeCalls,
  readFakeStore,
} from "../fakes/ergo.ts";
import { bodyOf, initRealErgo, listAll, REAL_ERGO } from "../helpers/real-ergo.ts";

const dirs: string[] = [];
function repo(init = true): string {
  const dir = mkdtempSync(path.join(tmpdir(), "ergo-client-"));
  dirs.push(dir);
  if (init) initFakeErgo(dir);
  return dir;
}
/** A repository of the real ergo 6.0.0 (the fake is kept for lock faults, timeouts and call records). */
function realRepo(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "ergo-client-"));
  dirs.push(dir);
  return initRealErgo(dir);
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function client(dir: string, extra: Partial<ErgoClientOptions> = {}): ErgoClient {
  return new ErgoClient({ dir, binary: FAKE_ERGO_BIN, lockRetryDelayMs: 10, ...extra });
}

async function ergoError(p: Promise<unknown>): Promise<ErgoError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ErgoError, `expected ErgoError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the ergo call to fail");
}

const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ash"]);

describe("ergo client (real ergo 6.0.0; the fake for faults and call records)", () => {
  it("parses error:/hint: lines", () => {
    assert.deepEqual(parseErgoStderr("error: lock busy after 10s\nhint: try again\n"), {
      error: "lock busy after 10s",
      hint: "try again",
    });
    assert.deepEqual(parseErgoStderr("panic\n"), { error: null, hint: null });
  });

  it("creates an epic from a task file, adds tasks and lists them", async () => {
    const dir = realRepo();
    const c = client(dir, { binary: REAL_ERGO });
    const epic = await c.newEpic("Release blockers: v1.0.0", [{ title: "First", body: "## Goal\n\nfirst body\n" }], {
      body: "## Goal\n\nepic body\n",
    });
    assert.match(epic.epicId, /^[A-Z2-7]{6}$/);
    assert.equal(epic.title, "Release blockers: v1.0.0");
    assert.equal(epic.tasks.length, 1);
    assert.equal(epic.tasks[0]!.title, "First");
    const second = await c.newTask("Second", { epic: epic.epicId, body: "second body\n" });
    assert.match(second, /^[A-Z2-7]{6}$/);
    const items = await c.list({ epic: epic.epicId });
    assert.deepEqual(items[0], { id: epic.epicId, title: "Release blockers: v1.0.0", kind: "epic", state: "active" });
    assert.deepEqual(
      items.slice(1).map((i) => [i.title, i.kind, i.state, i.epic_id]),
      [
        ["First", "task", "todo", epic.epicId],
        ["Second", "task", "todo", epic.epicId],
      ].sort((a, b) => (items.find((i) => i.title === a[0])!.id < items.find((i) => i.title === b[0])!.id ? -1 : 1)),
    );
    assert.equal(await c.showBody(second), "second body\n");
    assert.equal(await c.showBody(epic.tasks[0]!.id), "## Goal\n\nfirst body", "no leading blank line");
    assert.equal(await c.showBody(epic.epicId), "## Goal\n\nepic body\n");
    const fm = await c.task(second);
    assert.deepEqual(fm, { id: second, title: "Second", state: "todo", parent: epic.epicId, epic: false });
    assert.equal(await c.task("NOPE22"), null);
  });

  it("runs lifecycle commands with stdin on /dev/null and piped bodies only for creation (no shell)", async () => {
    const dir = repo();
    const c = client(dir);
    const id = await c.newTask("Root task", { body: "body\n" });
    const blocked = await c.block(id, "waiting for a token");
    assert.deepEqual([blocked.id, blocked.state, blocked.changed], [id, "blocked", true]);
    const opened = await c.open(id);
    assert.equal(opened.state, "todo");
    const done = await c.done(id, "fixed in v1.0.1");
    assert.equal(done.state, "done");
    const again = await c.done(id);
    assert.equal(again.changed, false, "No changes.");
    await c.result(id, "multi\nline\n  text");
    const store = readFakeStore(dir);
    assert.deepEqual(
      store.tasks[0]!.results.map((r) => r.text),
      ["multi line text"],
    );

    const calls = readFakeCalls(dir);
    for (const call of calls) {
      assert.ok(call.parent === null || !SHELLS.has(call.parent), `spawned through a shell: ${call.parent}`);
      const cmd = call.argv[0]!;
      if (["done", "open", "block", "fail", "cancel", "result", "list", "show"].includes(cmd)) {
        assert.equal(call.stdin, "null", `${cmd} must get /dev/null as stdin`);
      }
    }
    const creation = calls.find((c2) => c2.argv[0] === "new")!;
    assert.ok(creation.stdin === "socket" || creation.stdin === "pipe", "new task gets the body on a pipe");
    assert.ok(calls.every((c2) => c2.exit === 0));
  });

  it("surfaces ergo's error: and hint: lines (code E_ERGO)", async () => {
    const c = client(repo(false));
    const err = await ergoError(c.list());
    assert.equal(err.code, "E_ERGO");
    assert.equal(err.ergoMessage, "no .ergo directory found (run ergo init)");
    assert.equal(err.hint, "run `ergo init` or target an existing graph with `ergo --dir <path>`");
    assert.match(
      err.message,
      /^ergo list --json: no \.ergo directory found \(run ergo init\) \(hint: run `ergo init`.*\) \[exit 1\]$/,
    );
    assert.equal(err.exitCode, 1);
    assert.equal(err.transient, false);

    const c2 = client(repo());
    const unknown = await ergoError(c2.done("NOPE12", "x"));
    assert.equal(unknown.ergoMessage, "unknown task id NOPE12");
    assert.equal(unknown.notFound, true);
    const removed = await ergoError(c2.run(["--json", "list"]));
    assert.equal(removed.ergoMessage, "unknown flag: --json");
    const set = await ergoError(c2.run(["set", "ABCDEF", "state=done"]));
    assert.match(set.message, /unknown command "set" for "ergo" \(hint: use claim, done/);
  });

  it("reports a missing binary and a missing directory clearly", async () => {
    const dir = repo();
    const missing = await ergoError(new ErgoClient({ dir, binary: path.join(dir, "no-such-ergo") }).list());
    assert.equal(missing.failure, "not-found");
    assert.match(missing.message, /ergo binary not found/);
    const nodir = await ergoError(client(path.join(dir, "nope")).list());
    assert.match(nodir.message, /does not exist/);
  });

  it("finds the binary on PATH", async () => {
    const dir = repo();
    const c = new ErgoClient({ dir, env: fakeErgoEnv() });
    assert.deepEqual(await c.list(), []);
  });

  it("retries `lock busy` with backoff, bounded", async () => {
    const dir = repo();
    failNextFakeErgo(dir, 2);
    assert.deepEqual(await client(dir).list(), []);
    const lists = readFakeCalls(dir).filter((c) => c.argv[0] === "list");
    assert.deepEqual(
      lists.map((c) => c.error),
      ["lock busy after 10s", "lock busy after 10s", null],
    );

    failNextFakeErgo(dir, 5);
    const err = await ergoError(client(dir, { lockRetries: 2 }).list());
    assert.equal(err.lockBusy, true);
    assert.equal(err.transient, true);
    assert.equal(err.hint, "another ergo process is still running; try again in a moment");
    assert.equal(readFakeCalls(dir).filter((c) => c.argv[0] === "list").length, 3 + 3);
  });

  it("FAKE_ERGO_FAIL_NEXT in the environment arms the same failure", async () => {
    const dir = repo();
    const id = await client(dir).newTask("T");
    const receipt = await client(dir, { env: { ...process.env, FAKE_ERGO_FAIL_NEXT: "1" } }).done(id);
    assert.equal(receipt.state, "done");
    const dones = readFakeCalls(dir).filter((c) => c.argv[0] === "done");
    assert.deepEqual(
      dones.map((c) => c.exit),
      [1, 0],
    );
  });

  it("waits for a held lock and retries when ergo gives up (lock busy after the wait)", async () => {
    const dir = repo();
    const release = holdFakeErgoLock(dir);
    const env = { ...process.env, FAKE_ERGO_LOCK_TIMEOUT_MS: "150" };
    try {
      const err = await ergoError(client(dir, { env, lockRetries: 0 }).list());
      assert.equal(err.ergoMessage, "lock busy after 150ms");
      const pending = client(dir, { env, lockRetries: 4, lockRetryDelayMs: 100 }).list();
      setTimeout(release, 250);
      assert.deepEqual(await pending, []);
    } finally {
      release();
    }
  });

  it("kills ergo after the timeout", async () => {
    const dir = repo();
    const release = holdFakeErgoLock(dir);
    try {
      const err = await ergoError(client(dir, { timeoutMs: 300, lockRetries: 0 }).list());
      assert.equal(err.failure, "timeout");
      assert.equal(err.transient, true);
    } finally {
      release();
    }
  });
});

describe("release-driver helpers", () => {
  const body = renderBlockerBody({
    goal: "Publish the npm package for v2.0.0.",
    background: "release-publish failed at the npm step.",
    acceptance: ["`monitor verify v2.0.0 --channel npm` reports ok"],
    gates: ["`monitor verify v2.0.0 --channel npm --json` exits 0"],
  });

  it("files a blocker into a new epic, then reuses epic and task", async () => {
    const dir = realRepo();
    assert.deepEqual(await openBlockers({ dir, binary: REAL_ERGO, tag: "v2.0.0" }), []);
    const first = await fileReleaseBlocker({
      dir,
      binary: REAL_ERGO,
      tag: "v2.0.0",
      title: "npm publish failed",
      body,
    });
    assert.equal(first.created, true);
    const items = listAll(dir);
    const epic = { ...items.find((t) => t.id === first.epicId)!, body: bodyOf(dir, first.epicId) };
    const task = { ...items.find((t) => t.id === first.taskId)!, body: bodyOf(dir, first.taskId) };
    assert.equal(epic.title, "Release blockers: v2.0.0");
    assert.equal(task.title, "[release-blocker][v2.0.0] npm publish failed");
    assert.equal(task.epic_id, first.epicId);
    for (const h of [
      "## Goal",
      "## Background / Rationale",
      "## Acceptance Criteria",
      "## Automated Validation Gates",
    ]) {
      assert.ok(task.body.includes(h), h);
      assert.ok(epic.body.includes(h), `epic ${h}`);
    }
    assert.ok(epic.body.includes("ergo list --epic <this-epic-id> --json"));

    const again = await fileReleaseBlocker({
      dir,
      binary: REAL_ERGO,
      tag: "v2.0.0",
      title: "[release-blocker][v2.0.0] npm publish failed",
      body,
    });
    assert.deepEqual(again, { ...first, created: false });
    const other = await fileReleaseBlocker({
      dir,
      binary: REAL_ERGO,
      tag: "v2.0.0",
      title: "PyPI wheel missing",
      body,
    });
    assert.equal(other.created, true);
    assert.equal(other.epicId, first.epicId);
    assert.equal(listAll(dir).length, 3);

    const open = await openBlockers({ dir, binary: REAL_ERGO, tag: "v2.0.0" });
    assert.deepEqual(open.map((t) => t.id).sort(), [first.taskId, other.taskId].sort());
    const c = client(dir, { binary: REAL_ERGO });
    await c.fail(other.taskId, "wheel build broke");
    await c.done(first.taskId, "published");
    const left = await openBlockers({ dir, binary: REAL_ERGO, tag: "v2.0.0" });
    assert.deepEqual(
      left.map((t) => [t.id, t.state]),
      [[other.taskId, "failed"]],
      "failed blockers stay open",
    );
    await c.cancel(other.taskId);
    assert.deepEqual(await openBlockers({ dir, binary: REAL_ERGO, tag: "v2.0.0" }), []);

    // The epic is now finished (hidden from the default list) but still found: a new blocker reactivates it.
    const late = await fileReleaseBlocker({
      dir,
      binary: REAL_ERGO,
      tag: "v2.0.0",
      title: "npm publish failed",
      body,
    });
    assert.equal(late.created, true, "the old task is done: a new one is filed");
    assert.equal(late.epicId, first.epicId);
    assert.notEqual(late.taskId, first.taskId);
    const epicRow = (await c.list({ epic: first.epicId }))[0]!;
    assert.equal(epicRow.state, "active");
    assert.equal(listAll(dir).filter((t) => t.title === "Release blockers: v2.0.0").length, 1);
  });

  it("promotes a root task left by an interrupted two-step creation instead of making a second epic", async () => {
    const dir = realRepo();
    const c = client(dir, { binary: REAL_ERGO });
    const root = await c.newTask("Release blockers: v3.0.0");
    const filed = await fileReleaseBlocker({
      dir,
      binary: REAL_ERGO,
      tag: "v3.0.0",
      title: "brew formula stale",
      body,
    });
    assert.equal(filed.epicId, root);
    assert.equal((await c.list({ epic: root }))[0]!.kind, "epic");
  });

  it("falls back to task + child when a body contains a '---' line", async () => {
    const dir = realRepo();
    const tricky = `${body}\n---\nfooter\n`;
    const filed = await fileReleaseBlocker({ dir, binary: REAL_ERGO, tag: "v4.0.0", title: "x", body: tricky });
    assert.equal(await client(dir, { binary: REAL_ERGO }).showBody(filed.taskId), tricky);
    const epic = listAll(dir).find((t) => t.id === filed.epicId)!;
    assert.equal(epic.title, "Release blockers: v4.0.0");
  });

  it("titles are one line with the tag prefix once", () => {
    assert.equal(blockerTaskTitle("v1", "a\nb"), "[release-blocker][v1] a b");
    assert.equal(blockerTaskTitle("v1", "[release-blocker][v1] a"), "[release-blocker][v1] a");
  });
});
