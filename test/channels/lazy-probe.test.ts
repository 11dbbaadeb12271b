import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lazyProbe } from "../../src/channels/channel.ts";
import type { Probe } from "../../src/probes/types.ts";

type Obs = { channel: "x"; n: number };
const plan = {} as never;
const ctx = {} as never;

describe("lazyProbe", () => {
  it("loads its module once, however many observations it serves", async () => {
    // A daemon observes every channel of every project each cycle: an import() per observation goes through the
    // module loader each time (resolve, job lookup, a namespace promise) for a module that is already there.
    let loads = 0;
    let calls = 0;
    const probe = lazyProbe<"x", never, Obs>("x", () => {
      loads++;
      const probe: Probe<"x", never, Obs> = {
        channel: "x",
        observe: () => Promise.resolve({ channel: "x", n: ++calls }),
      };
      return Promise.resolve(probe);
    });
    const first = await Promise.all([probe.observe(plan, ctx), probe.observe(plan, ctx)]);
    for (let i = 0; i < 10; i++) await probe.observe(plan, ctx);
    assert.deepEqual(
      first.map((o) => o.n),
      [1, 2],
    );
    assert.equal(calls, 12);
    assert.equal(loads, 1);
  });

  it("tries the load again after it failed (a failed import is not remembered)", async () => {
    let loads = 0;
    const probe = lazyProbe<"x", never, Obs>("x", () => {
      loads++;
      if (loads === 1) return Promise.reject(new Error("module not found"));
      const probe: Probe<"x", never, Obs> = { channel: "x", observe: () => Promise.resolve({ channel: "x", n: 0 }) };
      return Promise.resolve(probe);
    });
    await assert.rejects(probe.observe(plan, ctx), /module not found/);
    assert.deepEqual(await probe.observe(plan, ctx), { channel: "x", n: 0 });
    await probe.observe(plan, ctx);
    assert.equal(loads, 2);
  });
});
