/**
 * A one-allocation DER encoder for `@sigstore/core`'s `ASN1Obj`, installed over `ASN1Obj.prototype.toDER` when the
 * Sigstore libraries load (`loadSigstore`).
 *
 * Why: `@sigstore/verify` re-encodes certificates to DER for every signature check and every comparison in its
 * certificate chain check (`X509Certificate.equals` encodes both certificates whole). The library's encoder builds
 * two `ByteStream`s per ASN.1 node, each growing by zero-filled 1 KiB reallocations, so one certificate costs
 * hundreds of buffer allocations. In a daemon's first cycle (every bundle of every project checked once) it was
 * 23 % of the process's CPU (docs/benchmarks.md §8). This encoder measures the tree, allocates once and writes.
 *
 * It produces the library's bytes exactly: the tag byte as `ASN1Tag.toDER()` gives it, the definite length in the
 * shortest form (as the library's `encodeLength`), then the value, or the subs' encodings when there are subs. It
 * keeps no memo (the library mutates trees, e.g. the SCT check splices an extension out of a clone), and it is
 * installed only after a self-check against the library's own encoder on a sample with short and long lengths
 * (`installFastDer`); test/provenance/der.test.ts compares both on every certificate, timestamp and key of the
 * real fixtures and on a mutated tree.
 */

/** The part of `@sigstore/core`'s `ASN1Obj` the encoder reads. */
export interface Asn1Node {
  readonly tag: { toDER(): number };
  readonly value: Uint8Array;
  readonly subs: readonly Asn1Node[];
}

/** `@sigstore/core`'s `ASN1Obj` class, as far as installing needs it. */
export interface Asn1Class {
  readonly prototype: { toDER: (this: Asn1Node) => Buffer };
  parseBuffer(buf: Buffer): Asn1Node;
}

/** Bytes of the definite length field for a content of n bytes. */
function lengthFieldBytes(n: number): number {
  if (n < 128) return 1;
  let count = 0;
  for (let v = n; v > 0; v = Math.floor(v / 256)) count++;
  return 1 + count;
}

/** Content lengths in pre-order (one per node), returning the node's whole encoded size. */
function measure(node: Asn1Node, contents: number[]): number {
  const at = contents.length;
  contents.push(0);
  let content = 0;
  if (node.subs.length > 0) for (const sub of node.subs) content += measure(sub, contents);
  else content = node.value.length;
  contents[at] = content;
  return 1 + lengthFieldBytes(content) + content;
}

function write(
  node: Asn1Node,
  out: Buffer,
  offset: number,
  contents: readonly number[],
  cursor: { i: number },
): number {
  const content = contents[cursor.i++] as number;
  let at = offset;
  // A Uint8Array store keeps the low 8 bits, as the library's ByteStream.appendChar does.
  out[at++] = node.tag.toDER();
  if (content < 128) {
    out[at++] = content;
  } else {
    const count = lengthFieldBytes(content) - 1;
    out[at++] = 0x80 | count;
    for (let i = count - 1, v = content; i >= 0; i--, v = Math.floor(v / 256)) out[at + i] = v % 256;
    at += count;
  }
  if (node.subs.length > 0) {
    for (const sub of node.subs) at = write(sub, out, at, contents, cursor);
  } else {
    out.set(node.value, at);
    at += node.value.length;
  }
  return at;
}

/** The DER encoding of an ASN.1 tree, byte for byte what `@sigstore/core`'s `ASN1Obj.toDER` returns. */
export function encodeDer(node: Asn1Node): Buffer {
  const contents: number[] = [];
  const size = measure(node, contents);
  const out = Buffer.allocUnsafe(size);
  write(node, out, 0, contents, { i: 0 });
  return out;
}

/**
 * A sample with every shape the encoder handles: nested constructed nodes, a context tag, empty and short values,
 * and long lengths of one and two bytes. SEQUENCE { OCTET STRING (200 bytes), SEQUENCE { INTEGER 1, NULL },
 * [0] { BOOLEAN TRUE }, OCTET STRING (300 bytes) }.
 */
function sampleDer(): Buffer {
  const tlv = (tag: number, value: Buffer): Buffer => {
    const n = value.length;
    const len = n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...len]), value]);
  };
  const fill = (n: number) => Buffer.alloc(n, 0x5a);
  return tlv(
    0x30,
    Buffer.concat([
      tlv(0x04, fill(200)),
      tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([1])), tlv(0x05, Buffer.alloc(0))])),
      tlv(0xa0, tlv(0x01, Buffer.from([0xff]))),
      tlv(0x04, fill(300)),
    ]),
  );
}

const INSTALLED = Symbol.for("release-monitor.fast-der");

type Patched = Asn1Class["prototype"] & { [INSTALLED]?: Asn1Class["prototype"]["toDER"] };

/**
 * Replace `ASN1Obj.prototype.toDER` with `encodeDer` when both give the same bytes on the sample (the library's
 * encoder stays otherwise). Idempotent. Returns whether the fast encoder is in place.
 */
export function installFastDer(asn1: Asn1Class): boolean {
  const proto = asn1.prototype as Patched;
  if (proto[INSTALLED]) return true;
  const original = proto.toDER;
  if (typeof original !== "function" || typeof asn1.parseBuffer !== "function") return false;
  try {
    const sample = sampleDer();
    const tree = asn1.parseBuffer(sample);
    const theirs = original.call(tree);
    const ours = encodeDer(tree);
    if (!ours.equals(theirs) || !ours.equals(sample)) return false;
  } catch {
    return false;
  }
  proto[INSTALLED] = original;
  proto.toDER = function toDER(this: Asn1Node): Buffer {
    return encodeDer(this);
  };
  return true;
}

/** The library's own encoder, once `installFastDer` replaced it (tests compare the two); null before. */
export function libraryToDer(asn1: Asn1Class): Asn1Class["prototype"]["toDER"] | null {
  return (asn1.prototype as Patched)[INSTALLED] ?? null;
}
