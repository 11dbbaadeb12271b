/**
 * onAbort (src/abort-fanout.ts): callbacks on a shared signal with one listener on it, whatever their number;
 * the same contract as a `{ once: true }` abort listener.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { onAbort } from "../src/abort-fanout.ts";
import { sleep } from "../src/http/client.ts";

describe("onAbort", () => {
  it("one listener on the signal for any number of callbacks; they run once, in order", () => {
    const ac = new AbortController();
    const ran: number[] = [];
    const offs = Array.from({ length: 1000 }, (_, i) => onAbort(ac.signal, () => ran.push(i)));
    assert.equal(getEventListeners(ac.signal, "abort").length, 1);
    for (let i = 0; i < 1000; i += 2) (offs[i] as () => void)();
    ac.abort();
    ac.abort();
    assert.deepEqual(
      ran,
      Array.from({ length: 500 }, (_, i) => 2 * i + 1),
    );
    // Unregistering after the abort is harmless.
    for (const off of offs) off();
  });

  it("an unregistered callback is not kept alive by the signal (the first registrant's included)", async () => {
    // The signal's one listener lives as long as the signal (a project's lease: the daemon's lifetime); it must not
    // hold the callback that happened to add it, nor what that callback closes over.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const ac = new AbortController();
    const refs: WeakRef<object>[] = [];
    const register = () => {
      const held = { payload: new Array<number>(1000).fill(1) };
      refs.push(new WeakRef(held));
      return onAbort(ac.signal, () => held.payload.length);
    };
    // In a function of its own: the async test's suspended frame would keep its last temporaries.
    const registerAndDrop = () => {
      for (const off of [register(), register(), register()]) off();
    };
    registerAndDrop();
    // A turn for the WeakRefs' targets to be collectable (they are kept until the end of the current job).
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.deepEqual(
      refs.map((r) => r.deref() === undefined),
      [true, true, true],
    );
    assert.equal(getEventListeners(ac.signal, "abort").length, 1);
  });

  it("the same function twice runs twice; each unregistration removes one", () => {
    const ac = new AbortController();
    let n = 0;
    const fn = () => n++;
    const off = onAbort(ac.signal, fn);
    onAbort(ac.signal, fn);
    off();
    off();
    ac.abort();
    assert.equal(n, 1);
  });

  it("nothing runs for a signal that aborted already; a callback registered after the abort of another does", () => {
    const gone = AbortSignal.abort();
    let ran = false;
    onAbort(gone, () => (ran = true))();
    assert.equal(ran, false);
    assert.equal(getEventListeners(gone, "abort").length, 0);
    // A fresh controller after an abort gets a listener of its own.
    const ac = new AbortController();
    onAbort(ac.signal, () => (ran = true));
    ac.abort();
    assert.equal(ran, true);
  });

  it("a callback that throws does not stop the others; its error is reported on its own", () => {
    // In a process of its own: the test runner fails any test file whose process sees an uncaught exception.
    const script = `
      import { onAbort } from ${JSON.stringify(new URL("../src/abort-fanout.ts", import.meta.url).href)};
      const ran = [];
      process.on("uncaughtException", (e) => { ran.push("reported " + e.message); });
      const ac = new AbortController();
      onAbort(ac.signal, () => ran.push("a"));
      onAbort(ac.signal, () => { throw new Error("boom"); });
      onAbort(ac.signal, () => ran.push("c"));
      ac.abort();
      setImmediate(() => console.log(JSON.stringify(ran)));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(out), ["a", "c", "reported boom"]);
  });

  it("sleep: many sleeps on one signal hold one listener; the abort rejects them all with its reason", async () => {
    const ac = new AbortController();
    const sleeps = Array.from({ length: 300 }, () => sleep(3_600_000, ac.signal));
    const settled = Promise.allSettled(sleeps);
    const reason = new Error("stopping");
    let listeners: number;
    try {
      listeners = getEventListeners(ac.signal, "abort").length;
    } finally {
      ac.abort(reason);
    }
    assert.equal(listeners, 1);
    const outcomes = await settled;
    assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason === reason));
    // A sleep that ends on its own unregisters itself.
    const other = new AbortController();
    await sleep(1, other.signal);
    other.abort();
  });
});
