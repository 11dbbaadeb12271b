/**
 * Where trust roots come from: a `trusted_root.json` named in settings, the sim's own root, or the Sigstore
 * public-good root obtained through TUF (`@sigstore/tuf`, loaded lazily) and cached in a directory the caller owns.
 * With no network and no cache the answer is `undefined`: callers then report signatures as `unknown`.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { AppError } from "../errors.ts";
import type { NpmRegistryKey, TrustRoot } from "./verify.ts";

/** npm's `keys.json` TUF target (`{keys:[{keyId, keyUsage, publicKey{rawBytes, keyDetails, validFor}}]}`). */
const NpmKeysTarget = z.looseObject({
  keys: z.array(
    z.looseObject({
      keyId: z.string(),
      keyUsage: z.string(),
      publicKey: z.looseObject({
        rawBytes: z.string(),
        keyDetails: z.string(),
        validFor: z.looseObject({ start: z.string(), end: z.string().optional() }),
      }),
    }),
  ),
});

/** The registry keys usable for publish attestations (`keyUsage: "npm:attestations"`). */
export function npmAttestationKeys(keysJson: unknown): NpmRegistryKey[] {
  const parsed = NpmKeysTarget.safeParse(keysJson);
  if (!parsed.success) return [];
  return parsed.data.keys
    .filter((k) => k.keyUsage === "npm:attestations")
    .map((k) => ({ keyId: k.keyId, ...k.publicKey }));
}

/** Read a `trusted_root.json` (and optionally npm's keys.json) from disk; a bad file is an error naming it. */
export function readTrustRoot(file: string, keysFile?: string): TrustRoot {
  const read = (f: string): unknown => {
    try {
      return JSON.parse(readFileSync(f, "utf8"));
    } catch (err) {
      throw new AppError("E_CONFIG_READ", `cannot read trusted root ${f}: ${err instanceof Error ? err.message : ""}`);
    }
  };
  const root = read(file);
  return { name: path.basename(file), trustedRoot: root, keys: keysFile ? npmAttestationKeys(read(keysFile)) : [] };
}

export interface PublicGoodOptions {
  /** The TUF cache directory (in the state directory). */
  readonly cacheDir: string;
  /** Use the cache only; never touch the network. */
  readonly offline: boolean;
  /** npm's default registry as the npm config library reports it; names the keys target. */
  readonly npmDefaultRegistry?: string;
  readonly mirrorUrl?: string;
  readonly timeoutMs?: number;
}

/** The public-good trusted root through TUF, or undefined when it cannot be had (offline without a cache, errors). */
export async function loadPublicGoodRoot(opts: PublicGoodOptions): Promise<TrustRoot | undefined> {
  // Offline, only an existing cache counts: the library's embedded seed would otherwise stand in for one.
  if (opts.offline && !existsSync(path.join(opts.cacheDir, "root.json"))) return undefined;
  try {
    const tuf = (await import("@sigstore/tuf")).default; // CommonJS: module.exports (see verify.ts, loadSigstore)
    const client = await tuf.initTUF({
      cachePath: opts.cacheDir,
      forceCache: opts.offline,
      retry: 1,
      timeout: opts.timeoutMs ?? 15_000,
      ...(opts.mirrorUrl ? { mirrorURL: opts.mirrorUrl } : {}),
    });
    const trustedRoot: unknown = JSON.parse(await client.getTarget("trusted_root.json"));
    const keys = opts.npmDefaultRegistry ? await npmKeys(client, opts.npmDefaultRegistry) : [];
    return { name: "public-good", trustedRoot, keys };
  } catch {
    return undefined;
  }
}

async function npmKeys(client: { getTarget(name: string): Promise<string> }, registry: string) {
  const target = encodeURIComponent(`${new URL(registry).host}/keys.json`);
  try {
    return npmAttestationKeys(JSON.parse(await client.getTarget(target)));
  } catch {
    return [];
  }
}
