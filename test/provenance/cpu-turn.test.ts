/**
 * Signature checks take turns (src/provenance/turn.ts): one per event-loop iteration, in the order asked, with the
 * loop's I/O polled between them. A batch of bundles verified back to back held every answer behind it, including
 * the checksum file's redirect on verify's critical path.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { cpuTurn } from "../../src/provenance/turn.ts";

/** Synchronous CPU work, as a signature check is: holds the thread until `done`, bounded by a deadline. */
function busyUntil(done: () => boolean, limitMs = 10_000): void {
  const end = performance.now() + limitMs;
  while (!done() && performance.now() < end) {
    // spin
  }
}

describe("cpuTurn", () => {
  it("runs the turns in order, and I/O that lands during one turn is handled before the next", async () => {
    // The worker answers "go" with a message and then raises a shared flag: once the flag is up, the answer is
    // waiting in the loop (as a response waits on its socket) while the turn still holds the thread.
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
       parentPort.once("message", () => { parentPort.postMessage("answer"); Atomics.store(workerData, 0, 1); });`,
      { eval: true, workerData: flag },
    );
    await new Promise((resolve) => worker.once("online", resolve));
    const order: string[] = [];
    const answered = new Promise<void>((resolve) =>
      worker.once("message", () => {
        order.push("io");
        resolve();
      }),
    );
    try {
      await Promise.all(
        [1, 2, 3].map(async (n) => {
          await cpuTurn();
          order.push(`turn ${n}`);
          if (n === 1) {
            worker.postMessage("go");
            busyUntil(() => Atomics.load(flag, 0) === 1);
            assert.equal(Atomics.load(flag, 0), 1, "the worker never answered");
          }
        }),
      );
      await answered;
    } finally {
      await worker.terminate();
    }
    assert.deepEqual(order, ["turn 1", "io", "turn 2", "turn 3"]);
  });

  it("a turn asked for while another runs waits for it", async () => {
    const order: string[] = [];
    await Promise.all([
      (async () => {
        await cpuTurn();
        order.push("a start");
        await Promise.resolve();
        order.push("a end");
      })(),
      (async () => {
        await cpuTurn();
        order.push("b");
      })(),
    ]);
    assert.deepEqual(order, ["a start", "a end", "b"]);
  });
});
