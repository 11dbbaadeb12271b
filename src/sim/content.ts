import { createCipheriv, createHash } from "node:crypto";
import { Readable } from "node:stream";
import { blake2b256 } from "./blake2b.ts";

const CHUNK = 1 << 20;
/** Above this size bytes are never materialized: they are generated again on every read. */
const MAX_BUFFERED = 64 * 1024 * 1024;

export interface FileDigests {
  sha256: string;
  sha1: string;
  md5: string;
  sha512Base64: string;
  blake2b256: string;
}

/**
 * The bytes of one simulated file: either fixed (a checksum file, a formula) or generated on the fly from a seed
 * by AES-256-CTR over zeros, so a 1 GiB asset costs no memory and is identical on every read. The sha256 is
 * computed once by streaming and cached.
 */
export class Content {
  readonly size: number;
  readonly #seed: string | null;
  readonly #fixed: Buffer | null;
  #sha256: string | null = null;
  #small: Buffer | null = null;
  #digests: FileDigests | null = null;

  private constructor(size: number, seed: string | null, fixed: Buffer | null) {
    this.size = size;
    this.#seed = seed;
    this.#fixed = fixed;
  }

  static generated(seed: string, size: number): Content {
    if (!Number.isInteger(size) || size < 0) throw new Error(`content size must be a non-negative integer: ${size}`);
    return new Content(size, seed, null);
  }

  static fixed(data: string | Uint8Array): Content {
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
    return new Content(buf.length, null, buf);
  }

  /** The bytes in chunks of at most 1 MiB, generated lazily. */
  *chunks(): Generator<Buffer> {
    if (this.#fixed) {
      yield this.#fixed;
      return;
    }
    if (this.#small) {
      yield this.#small;
      return;
    }
    const key = createHash("sha256")
      .update(`release-monitor-sim\0${this.#seed ?? ""}`)
      .digest();
    const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
    const zeros = Buffer.alloc(Math.min(CHUNK, Math.max(this.size, 1)));
    let left = this.size;
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      yield cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
      left -= n;
    }
  }

  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false });
  }

  /** All bytes in memory (small files only). */
  bytes(): Buffer {
    if (this.#fixed) return this.#fixed;
    if (this.#small) return this.#small;
    if (this.size > MAX_BUFFERED) throw new Error(`refusing to buffer ${this.size} bytes; use stream()`);
    const buf = Buffer.concat([...this.chunks()]);
    if (this.size <= 1024 * 1024) this.#small = buf;
    return buf;
  }

  sha256(): string {
    if (this.#sha256 === null) {
      const h = createHash("sha256");
      for (const chunk of this.chunks()) h.update(chunk);
      this.#sha256 = h.digest("hex");
    }
    return this.#sha256;
  }

  /** Every digest a registry publishes (buffers the file: package files are small). */
  digests(): FileDigests {
    if (this.#digests === null) {
      const buf = this.bytes();
      this.#digests = {
        sha256: this.sha256(),
        sha1: createHash("sha1").update(buf).digest("hex"),
        md5: createHash("md5").update(buf).digest("hex"),
        sha512Base64: createHash("sha512").update(buf).digest("base64"),
        blake2b256: blake2b256(buf),
      };
    }
    return this.#digests;
  }
}

/** Short deterministic hex id derived from parts (sha1). */
export function hashId(...parts: (string | number)[]): string {
  return createHash("sha1").update(parts.join("\0")).digest("hex");
}
