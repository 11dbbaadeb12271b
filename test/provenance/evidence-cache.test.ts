/** The attestation cache keeps evidence as JSON: Maps inside survive the round trip, plain entries parse as they are. */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Evidence } from "../../src/provenance/compare.ts";
import { cachedEvidence, memoryAttestationCache } from "../../src/provenance/gather.ts";

test("cached evidence reads back equal, with a Map inside restored as a Map", async () => {
  const cache = memoryAttestationCache();
  const withMap = [
    {
      kind: "attestation",
      attestation: "github-build",
      signature: "verified",
      statement: { release: { tag: "v1.0.0", assets: new Map([["a.tar.gz", "ab12"]]) } },
    },
  ] as unknown as Evidence[];
  const plain: Evidence[] = [{ kind: "none" }];
  let made = 0;
  const make = (e: readonly Evidence[]) => () => {
    made++;
    return Promise.resolve(e);
  };
  await cachedEvidence(cache, "github:m", make(withMap));
  await cachedEvidence(cache, "npm:n", make(plain), { keepNone: true });
  const m = await cachedEvidence(cache, "github:m", make(withMap));
  const n = await cachedEvidence(cache, "npm:n", make(plain), { keepNone: true });
  assert.equal(made, 2, "the second reads come from the cache");
  const assets = (m[0] as unknown as { statement: { release: { assets: unknown } } }).statement.release.assets;
  assert.ok(assets instanceof Map);
  assert.deepEqual([...assets], [["a.tar.gz", "ab12"]]);
  assert.deepEqual(n, plain);
  const text = await cache.get("npm:n");
  assert.equal(text, JSON.stringify(plain));
});
