/**
 * One verification reads each attestation cache entry once. A channel's prefetch, its gatherer's early run (on its
 * probe's answer) and the real run after every probe ask the cache for the same keys; in a steady daemon cycle
 * every one is a hit, and each read is a SQLite row and a JSON parse of the evidence.
 */
import { strict as assert } from "node:assert";
import { after, describe, it } from "node:test";
import { memoryAttestationCache, type AttestationCache } from "../../src/provenance/gather.ts";
import { verifyRelease } from "../../src/verify/run.ts";
import { cleanWorld } from "./helpers.ts";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe("verify: the attestation cache within one verification", { timeout: 60_000 }, () => {
  it("reads each key at most once, and a steady verification reads every key it stored", async () => {
    const store = memoryAttestationCache();
    const reads = new Map<string, number>();
    const counting: AttestationCache = {
      get: (key) => {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        return store.get(key);
      },
      set: (key, value) => store.set(key, value),
    };
    const { loaded, project, rt } = await cleanWorld(cleanup, { attestationCache: counting });
    const first = await verifyRelease(rt, loaded, project, "v0.8.0");
    assert.equal(first.provenance?.status, "ok");
    assert.ok(store.size > 0, "the first verification stored its verified attestations");
    reads.clear();
    const second = await verifyRelease(rt, loaded, project, "v0.8.0");
    assert.equal(second.status, "ok");
    assert.deepEqual(second.provenance, first.provenance);
    const twice = [...reads].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], "no key read twice in one verification");
    assert.ok(reads.size >= store.size, `${reads.size} keys read, ${store.size} stored`);
  });
});
