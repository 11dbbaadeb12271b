import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { OutboxDelivery, backoffMs, type DeliveryEvent } from "../../src/alerts/outbox.ts";
import { SinkError, type AlertMessage, type Sink, type SinkContext } from "../../src/alerts/types.ts";
import { silentLogger } from "../../src/log.ts";
import { openStateStore } from "../../src/state/sqlite.ts";
import type { StateStore } from "../../src/state/types.ts";
import { sampleCommit, sampleMessage } from "../state/samples.ts";

/** What a scripted sink does on its n-th call: succeed, throw, or wait until aborted. */
type Outcome = "ok" | Error | "hang";

class ScriptedSink implements Sink {
  readonly type = "test";
  readonly name: string;
  readonly minIntervalMs: number;
  readonly delivered: string[] = [];
  readonly calls: { summary: string; at: number }[] = [];
  readonly #script: Outcome[];
  constructor(name: string, script: Outcome[] = [], minIntervalMs = 0) {
    this.name = name;
    this.#script = script;
    this.minIntervalMs = minIntervalMs;
  }
  async deliver(message: AlertMessage, ctx: SinkContext): Promise<void> {
    this.calls.push({ summary: message.summary, at: Date.now() });
    const outcome = this.#script.shift() ?? "ok";
    if (outcome === "hang") {
      await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted"))));
    }
    if (outcome instanceof Error) throw outcome;
    await ctx.memory.set(`seen:${message.id}`, "1");
    this.delivered.push(message.summary);
  }
}

const retryable = (retryAfterMs: number | null = null) => new SinkError("HTTP 500", { retryable: true, retryAfterMs });
const permanent = () => new SinkError("HTTP 404 no_service", { retryable: false });

async function enqueue(store: StateStore, sinks: string[], n: number[]): Promise<void> {
  await store.commitCycle(sampleCommit(n[0] ?? 0, sinks, { messages: n.map((i) => sampleMessage(i)) }));
}

async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An outbox whose clock records its last reading, so retry delays can be checked exactly. */
function outbox(
  store: ConstructorParameters<typeof OutboxDelivery>[0]["store"],
  sinks: Sink[],
  over: { retryBaseMs?: number; retryMaxMs?: number; maxUnclassifiedAttempts?: number } = {},
) {
  const events: (DeliveryEvent & { clock: number })[] = [];
  let last = 0;
  const delivery = new OutboxDelivery({
    store,
    sinks,
    log: silentLogger(),
    retryBaseMs: over.retryBaseMs ?? 10,
    retryMaxMs: over.retryMaxMs ?? 1_000,
    idlePollMs: 20,
    now: () => (last = Date.now()),
    ...(over.maxUnclassifiedAttempts ? { maxUnclassifiedAttempts: over.maxUnclassifiedAttempts } : {}),
    onDelivery: (e) => events.push({ ...e, clock: last }),
  });
  return { delivery, events };
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("backoffMs", () => {
  const table: [attempt: number, base: number, max: number, want: number][] = [
    [1, 5_000, 600_000, 5_000],
    [2, 5_000, 600_000, 10_000],
    [3, 5_000, 600_000, 20_000],
    [8, 5_000, 600_000, 600_000],
    [30, 5_000, 600_000, 600_000],
  ];
  for (const [attempt, base, max, want] of table) {
    it(`attempt ${attempt} (base ${base}, max ${max}) -> ${want}`, () =>
      assert.equal(backoffMs(attempt, base, max), want));
  }
});

describe("outbox delivery", () => {
  it("retries retryable failures with exponential backoff capped at retry_max, then sends", async () => {
    const store = openStateStore(":memory:");
    const sink = new ScriptedSink("slack", [retryable(), retryable(), retryable(), retryable()]);
    await enqueue(store, ["slack"], [1]);
    const { delivery, events } = outbox(store, [sink], { retryBaseMs: 10, retryMaxMs: 35 });
    delivery.start();
    await until(() => sink.delivered.length === 1, "delivery");
    await delivery.stop();
    assert.deepEqual(
      events.map((e) => [e.outcome, e.attempts, e.next_attempt_at === null ? null : e.next_attempt_at - e.clock]),
      [
        ["retry", 1, 10],
        ["retry", 2, 20],
        ["retry", 3, 35],
        ["retry", 4, 35],
        ["sent", 5, null],
      ],
    );
    for (let i = 1; i < sink.calls.length; i++) {
      const e = events[i - 1]!;
      assert.ok(sink.calls[i]!.at >= e.next_attempt_at!, "never retried before its time");
    }
    assert.equal((await store.outboxRows({ state: "sent" }))[0]?.attempts, 5);
  });

  it("honours Retry-After when it is longer than the backoff", async () => {
    const store = openStateStore(":memory:");
    const sink = new ScriptedSink("slack", [retryable(60), retryable(1)]);
    await enqueue(store, ["slack"], [1]);
    const { delivery, events } = outbox(store, [sink], { retryBaseMs: 5 });
    delivery.start();
    await until(() => sink.delivered.length === 1, "delivery");
    await delivery.stop();
    assert.deepEqual(
      events.map((e) => [e.outcome, e.next_attempt_at === null ? null : e.next_attempt_at - e.clock]),
      [
        ["retry", 60],
        ["retry", 10],
        ["sent", null],
      ],
    );
  });

  it("dead-letters permanent failures, keeps them for inspection, and moves on", async () => {
    const store = openStateStore(":memory:");
    const sink = new ScriptedSink("slack", [permanent()]);
    await enqueue(store, ["slack"], [1, 2]);
    const { delivery, events } = outbox(store, [sink]);
    delivery.start();
    await until(() => sink.delivered.length === 1, "second message");
    await delivery.stop();
    assert.deepEqual(sink.delivered, ["message 2"]);
    assert.deepEqual(
      events.map((e) => e.outcome),
      ["dead", "sent"],
    );
    const dead = await store.outboxRows({ state: "dead" });
    assert.deepEqual(
      dead.map((r) => [r.message.summary, r.attempts, r.last_error]),
      [["message 1", 1, "HTTP 404 no_service"]],
    );
  });

  it("retries errors that are not SinkErrors a bounded number of times", async () => {
    const store = openStateStore(":memory:");
    const sink = new ScriptedSink("ergo", [new TypeError("boom"), new TypeError("boom"), new TypeError("boom")]);
    await enqueue(store, ["ergo"], [1, 2]);
    const { delivery, events } = outbox(store, [sink], { retryBaseMs: 1, maxUnclassifiedAttempts: 3 });
    delivery.start();
    await until(() => sink.delivered.length === 1, "second message");
    await delivery.stop();
    assert.deepEqual(
      events.map((e) => e.outcome),
      ["retry", "retry", "dead", "sent"],
    );
  });

  it("keeps order per sink: later messages wait behind a retrying one", async () => {
    const store = openStateStore(":memory:");
    const sink = new ScriptedSink("slack", [retryable(), retryable()]);
    await enqueue(store, ["slack"], [1, 2, 3]);
    const { delivery } = outbox(store, [sink]);
    delivery.start();
    await until(() => sink.delivered.length === 3, "three messages");
    await delivery.stop();
    assert.deepEqual(sink.delivered, ["message 1", "message 2", "message 3"]);
    assert.deepEqual(
      sink.calls.map((c) => c.summary),
      ["message 1", "message 1", "message 1", "message 2", "message 3"],
    );
  });

  it("spaces deliveries by the sink's minIntervalMs, and sinks do not block each other", async () => {
    const store = openStateStore(":memory:");
    const slack = new ScriptedSink("slack", [], 40);
    const ergo = new ScriptedSink("ergo", [permanent()]);
    await enqueue(store, ["slack", "ergo"], [1, 2, 3]);
    const { delivery } = outbox(store, [slack, ergo]);
    delivery.start();
    await until(() => slack.delivered.length === 3 && ergo.delivered.length === 2, "both sinks");
    await delivery.stop();
    // Both sides read a millisecond clock at different instants (the outbox just before the call, the sink inside
    // it): a read that crosses a millisecond boundary shows 39 for a spacing of 39.x ms, never less.
    for (let i = 1; i < slack.calls.length; i++) {
      const gap = slack.calls[i]!.at - slack.calls[i - 1]!.at;
      assert.ok(gap >= 40 - 1, `spacing ${i}: ${gap} ms`);
    }
    assert.deepEqual(ergo.delivered, ["message 2", "message 3"]);
  });

  it("resumes on restart: nothing lost, nothing sent twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "monitor-outbox-"));
    dirs.push(dir);
    const path = join(dir, "monitor.db");
    const first = openStateStore(path);
    await enqueue(first, ["slack"], [1, 2, 3]);
    const sinkA = new ScriptedSink("slack", ["ok", "hang"]);
    const a = outbox(first, [sinkA]);
    a.delivery.start();
    await until(() => sinkA.calls.length === 2, "second call in flight");
    await a.delivery.stop();
    await first.close();
    assert.deepEqual(sinkA.delivered, ["message 1"]);

    const second = openStateStore(path);
    const sinkB = new ScriptedSink("slack");
    const b = outbox(second, [sinkB]);
    b.delivery.start();
    await until(() => sinkB.delivered.length === 2, "the rest");
    await b.delivery.stop();
    assert.deepEqual(sinkB.delivered, ["message 2", "message 3"]);
    assert.equal((await second.outboxRows({ state: "sent" })).length, 3);
    assert.equal(await second.sinkMemory("slack").get("seen:1"), "1", "sink memory persisted across the restart");
    await second.close();
  });

  it("flush delivers what is due and reports whether anything is left", async () => {
    const store = openStateStore(":memory:");
    const ok = new ScriptedSink("slack");
    await enqueue(store, ["slack"], [1, 2]);
    const drained = outbox(store, [ok]);
    assert.equal(await drained.delivery.flush(2_000), true);
    await drained.delivery.stop();
    assert.deepEqual(ok.delivered, ["message 1", "message 2"]);

    const down = new ScriptedSink("slack", [retryable(60_000)]);
    await enqueue(store, ["slack"], [3]);
    const stuck = outbox(store, [down]);
    assert.equal(await stuck.delivery.flush(2_000), false, "the head waits past the deadline: flush returns early");
    await stuck.delivery.stop();
    assert.equal((await store.outboxRows({ state: "pending" })).length, 1);
  });

  it("picks up rows written while idle (wake) and after an idle poll", async () => {
    const store = openStateStore(":memory:");
    const sink = new ScriptedSink("slack");
    const { delivery } = outbox(store, [sink]);
    delivery.start();
    await enqueue(store, ["slack"], [1]);
    delivery.wake();
    await until(() => sink.delivered.length === 1, "woken delivery");
    await enqueue(store, ["slack"], [2]);
    await until(() => sink.delivered.length === 2, "polled delivery");
    await delivery.stop();
  });

  it("keeps delivering after the store rejects a mark (a fenced write whose lease moved on)", async () => {
    const store = openStateStore(":memory:");
    const sink = new ScriptedSink("slack");
    await enqueue(store, ["slack"], [1]);
    let rejections = 1;
    const lost = () => Object.assign(new Error("lease lost"), { code: "E_LEASE_LOST" });
    const fenced = {
      nextOutbox: (sink: string) => store.nextOutbox(sink),
      // A fenced store rejects every write on the row once the lease moved on, not just markSent.
      markRetry: (id: number, attempts: number, next: number, error: string) =>
        rejections >= 0 ? Promise.reject(lost()) : store.markRetry(id, attempts, next, error),
      markDead: (id: number, attempts: number, error: string, at: string) => store.markDead(id, attempts, error, at),
      sinkMemory: (sink: string) => store.sinkMemory(sink),
      markSent: (id: number, at: string) => {
        if (rejections-- > 0) return Promise.reject(lost());
        return store.markSent(id, at);
      },
    };
    const { delivery } = outbox(fenced, [sink]);
    delivery.start();
    await until(() => sink.delivered.length === 1, "first attempt");
    await enqueue(store, ["slack"], [2]);
    delivery.wake();
    await until(() => sink.delivered.includes(sampleMessage(2).summary), "the loop survives and delivers the next row");
    await delivery.stop();
  });

  it("does not deliver a row its guard refuses (a project whose lease this replica no longer holds)", async () => {
    const store = openStateStore(":memory:");
    const sink = new ScriptedSink("slack");
    await enqueue(store, ["slack"], [1]);
    let allow = false;
    let asked = 0;
    const delivery = new OutboxDelivery({
      store,
      sinks: [sink],
      log: silentLogger(),
      retryBaseMs: 10,
      retryMaxMs: 100,
      idlePollMs: 20,
      mayDeliver: () => {
        asked++;
        return allow;
      },
    });
    delivery.start();
    await until(() => asked >= 2, "the guard consulted");
    assert.equal(sink.calls.length, 0, "nothing sent while the guard refuses");
    allow = true;
    await until(() => sink.delivered.length === 1, "delivery once allowed");
    await delivery.stop();
  });
});
