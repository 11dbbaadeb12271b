import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { createErgoSink, ergoMemoryKeys, type ErgoSinkConfig } from "../../src/alerts/sinks/ergo/ergo-sink.ts";
import { SinkError, type Sink } from "../../src/alerts/types.ts";
import { SinkConfig } from "../../src/alerts/sinks/registry.ts";
import { ErgoClient } from "../../src/ergo/client.ts";
import { ERGO_LOCK_NAME } from "../../src/ergo/lock.ts";
import { silentLogger } from "../../src/log.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import { makeAlert, makeIncident, MemorySinkMemory, sinkContext } from "../fakes/alerts.ts";
import { FAKE_ERGO_BIN, initFakeErgo, readFakeCalls } from "../fakes/ergo.ts";
import { bodyOf, initRealErgo, listAll, REAL_ERGO } from "../helpers/real-ergo.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An ergo sink on a temp repository: the real ergo 6.0.0, or (`fake: true`) the fake for fault injection. */
function setup(options: { init?: boolean; binary?: string; env?: NodeJS.ProcessEnv; fake?: boolean } = {}): {
  dir: string;
  sink: Sink;
} {
  const dir = mkdtempSync(path.join(tmpdir(), "ergo-sink-"));
  dirs.push(dir);
  if (options.init !== false) {
    if (options.fake === true) initFakeErgo(dir);
    else initRealErgo(dir);
  }
  const config = SinkConfig.parse({
    type: "ergo",
    repo_dir: dir,
    binary: options.binary ?? (options.fake === true ? FAKE_ERGO_BIN : REAL_ERGO),
    agent: "release-monitor@test",
  }) as ErgoSinkConfig;
  const sink = createErgoSink(config, {
    log: silentLogger(),
    secrets: new SecretRegistry(),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  return { dir, sink };
}

interface Item {
  id: string;
  title: string;
  state: string;
  epic: boolean;
  epic_id: string | undefined;
  body: string;
}

/** Everything in the real repository, with bodies. */
function tasksOf(dir: string): Item[] {
  return listAll(dir).map((i) => ({
    id: i.id,
    title: i.title,
    state: i.state,
    epic: i.kind === "epic",
    epic_id: i.epic_id,
    body: bodyOf(dir, i.id),
  }));
}

/** ergo's journal (`.ergo/journal.jsonl`, ergo.md §8). */
function journal(dir: string): Record<string, unknown>[] {
  return readFileSync(path.join(dir, ".ergo", "journal.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function sinkError(p: Promise<unknown>): Promise<SinkError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SinkError, `expected SinkError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected delivery to fail");
}

describe("ergo sink (against the real ergo 6.0.0; the fake only for lock faults)", () => {
  it("files the incident as a task in `Release blockers: <tag>` with the blocker body", async () => {
    const { dir, sink } = setup();
    assert.equal(sink.type, "ergo");
    assert.equal(sink.minIntervalMs, 0);
    const memory = new MemorySinkMemory();
    const incident = makeIncident({
      evidence: [
        "https://npm-registry.example/plasmite",
        "https://api.github.com/repos/acme/plasmite/releases/tags/v0.8.0",
      ],
    });
    const msg = makeAlert("open", { incident, status_url: "http://127.0.0.1:8080/p/plasmite" });
    await sink.deliver(msg, sinkContext(memory));

    const tasks = tasksOf(dir);
    assert.equal(tasks.length, 2);
    const epic = tasks.find((t) => t.epic)!;
    const task = tasks.find((t) => !t.epic)!;
    assert.equal(epic.title, "Release blockers: v0.8.0");
    assert.equal(task.title, "[release-blocker][v0.8.0] npm is missing plasmite 0.8.0");
    assert.equal(task.epic_id, epic.id);
    assert.equal(task.state, "todo");
    assert.ok(task.body.startsWith("## Goal\n"), `no leading blank line: ${JSON.stringify(task.body.slice(0, 20))}`);
    const order = [
      "## Goal",
      "## Background / Rationale",
      "## Evidence",
      "## Acceptance Criteria",
      "## Automated Validation Gates",
    ];
    const positions = order.map((h) => task.body.indexOf(h));
    assert.ok(
      positions.every((p) => p >= 0),
      task.body,
    );
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
      "sections in order",
    );
    for (const text of [
      "- Expected: 0.8.0",
      "- Actual: —",
      "- First seen: 2026-03-01T12:00:00.000Z",
      "- Evidence: https://npm-registry.example/plasmite",
      "- Evidence: https://api.github.com/repos/acme/plasmite/releases/tags/v0.8.0",
      "- Status page: http://127.0.0.1:8080/p/plasmite",
      "`monitor verify v0.8.0 --project plasmite --channel npm` reports ok",
      `Incident key: \`${incident.id}\``,
      "Filed by release-monitor@test.",
    ]) {
      assert.ok(task.body.includes(text), `body lacks ${text}:\n${task.body}`);
    }
    assert.equal(await memory.get(ergoMemoryKeys.incident(incident.id)), task.id);
    assert.equal(await memory.get(ergoMemoryKeys.epic("v0.8.0")), epic.id);
    assert.equal(await memory.get(ergoMemoryKeys.task(task.id)), incident.id);
  });

  it("does not duplicate: same memory, then a fresh memory (restart) re-checks by title", async () => {
    const { dir, sink } = setup();
    const memory = new MemorySinkMemory();
    const msg = makeAlert("open");
    await sink.deliver(msg, sinkContext(memory));
    await sink.deliver(msg, sinkContext(memory));
    assert.equal(tasksOf(dir).length, 2, "one epic, one task");

    const fresh = new MemorySinkMemory();
    await sink.deliver(makeAlert("open"), sinkContext(fresh));
    assert.equal(tasksOf(dir).length, 2, "no second task after a restart");
    const task = tasksOf(dir).find((t) => !t.epic)!;
    assert.equal(await fresh.get(ergoMemoryKeys.incident(msg.incident.id)), task.id, "mapping restored");
  });

  it("puts a second incident of the same tag in the same epic; same-summary incidents stay apart", async () => {
    const { dir, sink } = setup();
    const memory = new MemorySinkMemory();
    const a = makeIncident({ channel: "github", code: "asset-missing", subject: "a.tar.gz" });
    const b = makeIncident({ channel: "github", code: "asset-missing", subject: "b.tar.gz" });
    await sink.deliver(
      makeAlert("open", { incident: a, summary: "github release lacks an asset" }),
      sinkContext(memory),
    );
    await sink.deliver(
      makeAlert("open", { incident: b, summary: "github release lacks an asset" }),
      sinkContext(memory),
    );
    const tasks = tasksOf(dir);
    assert.equal(tasks.filter((t) => t.epic).length, 1);
    assert.equal(tasks.filter((t) => !t.epic).length, 2);

    // After a restart each incident finds its own task (by the incident key in the body), not the other one.
    const fresh = new MemorySinkMemory();
    await sink.deliver(makeAlert("resolve", { incident: b, resolution: "b uploaded" }), sinkContext(fresh));
    const doneTask = tasksOf(dir).find((t) => t.state === "done")!;
    assert.ok(doneTask.body.includes(`Incident key: \`${b.id}\``));
    assert.equal(tasksOf(dir).filter((t) => !t.epic && t.state === "todo").length, 1);
  });

  it("serializes concurrent deliveries, so a new tag gets one epic", async () => {
    const { dir, sink } = setup();
    const memory = new MemorySinkMemory();
    await Promise.all(
      ["crates", "npm", "pypi"].map((channel) =>
        sink.deliver(makeAlert("open", { incident: makeIncident({ channel: channel as "npm" }) }), sinkContext(memory)),
      ),
    );
    const tasks = tasksOf(dir);
    assert.equal(tasks.filter((t) => t.epic).length, 1);
    assert.equal(tasks.length, 4);
  });

  it("remind records a one-line result; resolve runs done -m; reopen of a done task files a fresh one", async () => {
    const { dir, sink } = setup();
    const memory = new MemorySinkMemory();
    const incident = makeIncident();
    await sink.deliver(makeAlert("open", { incident }), sinkContext(memory));
    const first = (await memory.get(ergoMemoryKeys.incident(incident.id)))!;

    await sink.deliver(makeAlert("remind", { incident, summary: "npm is\nstill missing 0.8.0" }), sinkContext(memory));
    const result = journal(dir).find((j) => j["kind"] === "result")!;
    assert.equal(result["task_id"], first);
    assert.match(
      String(result["text"]),
      /^Still failing at 2026-03-01T16:05:00\.000Z \(open since 2026-03-01T12:05:00\.000Z\): npm is still missing 0\.8\.0$/,
    );

    await sink.deliver(makeAlert("resolve", { incident, resolution: "npm now serves 0.8.0" }), sinkContext(memory));
    assert.equal(tasksOf(dir).find((t) => t.id === first)!.state, "done");
    const done = journal(dir).find((j) => j["kind"] === "done")!;
    assert.deepEqual([done["task_id"], done["text"]], [first, "npm now serves 0.8.0"]);

    // Resolving again is a no-op (already done): ergo would journal a second `done` otherwise.
    await sink.deliver(makeAlert("resolve", { incident }), sinkContext(memory));
    assert.equal(journal(dir).filter((j) => j["kind"] === "done").length, 1);

    const reopened = { ...incident, reopen_count: 1 };
    await sink.deliver(makeAlert("reopen", { incident: reopened }), sinkContext(memory));
    const second = (await memory.get(ergoMemoryKeys.incident(incident.id)))!;
    assert.notEqual(second, first, "remapped to a fresh task");
    const fresh = tasksOf(dir).find((t) => t.id === second)!;
    assert.equal(fresh.state, "todo");
    assert.ok(fresh.body.includes("come back 1 time(s)"));
    assert.equal(tasksOf(dir).find((t) => t.id === first)!.state, "done", "the old task stays done");
    assert.equal(journal(dir).filter((j) => j["kind"] === "open").length, 0, "open is not tried on done work");
  });

  it("reopen runs `ergo open` on a task that is not finished", async () => {
    const { dir, sink } = setup();
    const memory = new MemorySinkMemory();
    const incident = makeIncident();
    await sink.deliver(makeAlert("open", { incident }), sinkContext(memory));
    const id = (await memory.get(ergoMemoryKeys.incident(incident.id)))!;
    await new ErgoClient({ dir, binary: REAL_ERGO }).block(id, "waiting on npm support");
    await sink.deliver(makeAlert("reopen", { incident }), sinkContext(memory));
    assert.equal(tasksOf(dir).find((t) => t.id === id)!.state, "todo");
    const open = journal(dir).find((j) => j["kind"] === "open")!;
    assert.equal(open["task_id"], id);
    assert.match(String(open["text"]), /^Reopened: /);
    assert.equal(await memory.get(ergoMemoryKeys.incident(incident.id)), id);
  });

  it("never gives lifecycle commands a piped stdin, and never goes through a shell", async () => {
    // Real ergo rejects done/open with a piped stdin; a shell would expand `$(…)` in the title.
    const { dir, sink } = setup();
    const memory = new MemorySinkMemory();
    const incident = makeIncident();
    const summary = "npm lacks $(touch pwned) `touch pwned2` 0.8.0";
    await sink.deliver(makeAlert("open", { incident, summary }), sinkContext(memory));
    await sink.deliver(makeAlert("resolve", { incident }), sinkContext(memory));
    await sink.deliver(makeAlert("reopen", { incident }), sinkContext(memory));
    assert.deepEqual(
      journal(dir).map((j) => j["kind"]),
      ["created", "created", "done", "created"],
    );
    assert.ok(tasksOf(dir).some((t) => t.title === `[release-blocker][v0.8.0] ${summary}`));
    assert.ok(!existsSync(path.join(dir, "pwned")) && !existsSync(path.join(process.cwd(), "pwned")));
  });

  it("degraded and recovered only log: no ergo process at all", async () => {
    // A binary that cannot start: any ergo process would fail the delivery.
    const { dir, sink } = setup({ binary: path.join(tmpdir(), "no-such-ergo-binary") });
    const incident = makeIncident({ code: "registry-degraded" });
    await sink.deliver(makeAlert("degraded", { incident }), sinkContext());
    await sink.deliver(makeAlert("recovered", { incident }), sinkContext());
    assert.deepEqual(listAll(dir), []);
  });

  it("rides out `lock busy` (retry with backoff)", async () => {
    const { dir, sink } = setup({ fake: true, env: { ...process.env, FAKE_ERGO_FAIL_NEXT: "1" } });
    await sink.deliver(makeAlert("open"), sinkContext());
    assert.equal(readFakeCalls(dir).filter((c) => c.argv[0] === "new" && c.exit === 0).length, 1);
    assert.equal(readFakeCalls(dir)[0]!.error, "lock busy after 10s");
  });

  it("lock busy that persists is a retryable SinkError", async () => {
    const { sink } = setup({ fake: true, env: { ...process.env, FAKE_ERGO_FAIL_NEXT: "50" } });
    const err = await sinkError(sink.deliver(makeAlert("open"), sinkContext()));
    assert.equal(err.retryable, true);
    assert.match(err.message, /lock busy after 10s \(hint: another ergo process is still running/);
    assert.equal((err.cause as { code?: string }).code, "E_ERGO");
  });

  it("takes over the monitor's ergo lock left by a crashed holder (stale), and files", async () => {
    const { dir, sink } = setup();
    const lock = path.join(dir, ERGO_LOCK_NAME);
    mkdirSync(lock);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    await sink.deliver(makeAlert("open"), sinkContext());
    assert.equal(tasksOf(dir).filter((t) => !t.epic).length, 1);
    assert.ok(!existsSync(lock), "released after the delivery");
  });

  it("ergo errors are permanent and carry ergo's error and hint", async () => {
    const noRepo = setup({ init: false });
    const err = await sinkError(noRepo.sink.deliver(makeAlert("open"), sinkContext()));
    assert.equal(err.retryable, false);
    assert.match(err.message, /no \.ergo directory in or above \S+ \(run ergo init there\)/);

    const noBinary = setup({ binary: "/nonexistent/ergo" });
    const missing = await sinkError(noBinary.sink.deliver(makeAlert("open"), sinkContext()));
    assert.equal(missing.retryable, false);
    assert.match(missing.message, /ergo binary not found/);
  });
});
