/**
 * The fast DER encoder (src/provenance/der.ts) is in place once the Sigstore libraries load, and gives the library's
 * own `ASN1Obj.toDER` bytes on every certificate, timestamp and key in the real provenance fixtures, on every node of
 * their trees, and on a tree mutated the way the library's SCT check mutates one.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { encodeDer, libraryToDer, type Asn1Class, type Asn1Node } from "../../src/provenance/der.ts";
import { loadSigstore } from "../../src/provenance/verify.ts";

const DIR = fileURLToPath(new URL("../fixtures/provenance/", import.meta.url));
/** Fields of Sigstore bundles and trusted roots that hold base64 DER. */
const DER_FIELDS = new Set(["rawBytes", "signedTimestamp"]);

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith(".json") ? [path] : [];
  });
}

/** Every base64 DER value under a DER field, anywhere in the document. */
function derValues(doc: unknown, out: Buffer[]): Buffer[] {
  if (Array.isArray(doc)) for (const v of doc) derValues(v, out);
  else if (doc && typeof doc === "object") {
    for (const [k, v] of Object.entries(doc)) {
      if (DER_FIELDS.has(k) && typeof v === "string") out.push(Buffer.from(v, "base64"));
      else derValues(v, out);
    }
  }
  return out;
}

function nodes(tree: Asn1Node, out: Asn1Node[] = []): Asn1Node[] {
  out.push(tree);
  for (const sub of tree.subs) nodes(sub, out);
  return out;
}

describe("fast DER encoder", () => {
  let asn1: Asn1Class;
  let library: NonNullable<ReturnType<typeof libraryToDer>>;
  const trees: { file: string; der: Buffer; tree: Asn1Node }[] = [];

  before(async () => {
    const sig = await loadSigstore();
    asn1 = sig.core.ASN1Obj;
    const original = libraryToDer(asn1);
    assert.ok(original, "loadSigstore installed the fast encoder");
    library = original;
    for (const file of jsonFiles(DIR)) {
      for (const der of derValues(JSON.parse(readFileSync(file, "utf8")), [])) {
        let tree: Asn1Node;
        try {
          tree = asn1.parseBuffer(der);
        } catch {
          continue; // not DER (a raw key id, say): nothing to re-encode
        }
        trees.push({ file, der, tree });
      }
    }
  });

  it("replaces ASN1Obj.prototype.toDER when the Sigstore libraries load", () => {
    assert.notEqual(asn1.prototype.toDER, library);
    const tree = trees[0]?.tree;
    assert.ok(tree);
    assert.deepEqual(asn1.prototype.toDER.call(tree), encodeDer(tree));
  });

  it("gives the library's bytes, and the input's, on every real certificate, timestamp and key", () => {
    assert.ok(trees.length >= 40, `found ${trees.length} DER values in the fixtures`);
    let compared = 0;
    for (const { file, der, tree } of trees) {
      assert.deepEqual(encodeDer(tree), der, `${file}: round trip`);
      for (const node of nodes(tree)) {
        assert.deepEqual(encodeDer(node), library.call(node), `${file}: a node's encoding`);
        compared++;
      }
    }
    assert.ok(compared > 1000, `compared ${compared} nodes`);
  });

  it("encodes a tree after a sub is removed, as the SCT check does to a clone", () => {
    const cert = trees.find((t) => t.tree.subs[0]?.subs.some((s) => s.tag.toDER() === 0xa3));
    assert.ok(cert, "a certificate with extensions");
    const clone = asn1.parseBuffer(Buffer.from(cert.der));
    const tbs = clone.subs[0] as Asn1Node;
    const extensions = (tbs.subs.find((s) => s.tag.toDER() === 0xa3) as Asn1Node).subs[0] as Asn1Node;
    const before = encodeDer(tbs);
    (extensions.subs as Asn1Node[]).splice(0, 1);
    const after = encodeDer(tbs);
    assert.ok(after.length < before.length);
    assert.deepEqual(after, library.call(tbs));
    assert.deepEqual(encodeDer(clone), library.call(clone));
  });

  it("writes long lengths of one, two and three bytes like the library", () => {
    const tlv = (tag: number, n: number): Buffer => {
      const len =
        n < 128
          ? [n]
          : n < 256
            ? [0x81, n]
            : n < 65536
              ? [0x82, n >> 8, n & 0xff]
              : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
      return Buffer.concat([Buffer.from([tag, ...len]), Buffer.alloc(n, 7)]);
    };
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536, 70000]) {
      const der = tlv(0x04, n);
      const tree = asn1.parseBuffer(der);
      assert.deepEqual(encodeDer(tree), library.call(tree), `length ${n}`);
      assert.deepEqual(encodeDer(tree), der, `length ${n}: round trip`);
    }
  });
});
