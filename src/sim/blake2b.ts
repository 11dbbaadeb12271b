/**
 * BLAKE2b with a 32-byte digest (RFC 7693), for PyPI's `digests.blake2b_256` and its file URLs.
 * node:crypto only offers blake2b512 and cannot shorten it (the output length is a parameter of the hash, not a
 * truncation), so this is a plain implementation. It is used on small package files only.
 */

const MASK = (1n << 64n) - 1n;
const IV = [
  0x6a09e667f3bcc908n,
  0xbb67ae8584caa73bn,
  0x3c6ef372fe94f82bn,
  0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n,
  0x9b05688c2b3e6c1fn,
  0x1f83d9abfb41bd6bn,
  0x5be0cd19137e2179n,
];
const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

function rotr(x: bigint, n: bigint): bigint {
  return ((x >> n) | (x << (64n - n))) & MASK;
}

function compress(h: bigint[], block: Buffer, offset: number, t: bigint, last: boolean): void {
  const v = [...h, ...IV];
  const m: bigint[] = [];
  for (let i = 0; i < 16; i++) m.push(block.readBigUInt64LE(offset + i * 8));
  v[12] = (v[12] as bigint) ^ (t & MASK);
  v[13] = (v[13] as bigint) ^ (t >> 64n);
  if (last) v[14] = (v[14] as bigint) ^ MASK;
  const g = (a: number, b: number, c: number, d: number, x: bigint, y: bigint): void => {
    let va = v[a] as bigint;
    let vb = v[b] as bigint;
    let vc = v[c] as bigint;
    let vd = v[d] as bigint;
    va = (va + vb + x) & MASK;
    vd = rotr(vd ^ va, 32n);
    vc = (vc + vd) & MASK;
    vb = rotr(vb ^ vc, 24n);
    va = (va + vb + y) & MASK;
    vd = rotr(vd ^ va, 16n);
    vc = (vc + vd) & MASK;
    vb = rotr(vb ^ vc, 63n);
    v[a] = va;
    v[b] = vb;
    v[c] = vc;
    v[d] = vd;
  };
  for (let r = 0; r < 12; r++) {
    const s = SIGMA[r % 10] as number[];
    const w = (i: number): bigint => m[s[i] as number] as bigint;
    g(0, 4, 8, 12, w(0), w(1));
    g(1, 5, 9, 13, w(2), w(3));
    g(2, 6, 10, 14, w(4), w(5));
    g(3, 7, 11, 15, w(6), w(7));
    g(0, 5, 10, 15, w(8), w(9));
    g(1, 6, 11, 12, w(10), w(11));
    g(2, 7, 8, 13, w(12), w(13));
    g(3, 4, 9, 14, w(14), w(15));
  }
  for (let i = 0; i < 8; i++) h[i] = (h[i] as bigint) ^ (v[i] as bigint) ^ (v[i + 8] as bigint);
}

/** Hex BLAKE2b-256 of `data` (unkeyed). */
export function blake2b256(data: Uint8Array): string {
  const outLen = 32;
  const h = [...IV];
  h[0] = (h[0] as bigint) ^ BigInt(0x01010000 ^ outLen);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const blocks = Math.max(1, Math.ceil(buf.length / 128));
  for (let i = 0; i < blocks - 1; i++) compress(h, buf, i * 128, BigInt((i + 1) * 128), false);
  const last = Buffer.alloc(128);
  buf.copy(last, 0, (blocks - 1) * 128);
  compress(h, last, 0, BigInt(buf.length), true);
  const out = Buffer.alloc(64);
  h.forEach((word, i) => out.writeBigUInt64LE(word, i * 8));
  return out.subarray(0, outLen).toString("hex");
}
