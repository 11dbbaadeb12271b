// The part of snappyjs (pure-JS Snappy raw block format, CommonJS, no bundled types) that release-monitor uses.
declare module "snappyjs" {
  /** Decompress a raw Snappy block; throws on a corrupt stream or when it would exceed `maxLength` bytes. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  /** Compress to a raw Snappy block. */
  export function compress(uncompressed: Uint8Array): Uint8Array;
}
