/**
 * Where trust roots come from: a `trusted_root.json` named in settings, the sim's own root, or the Sigstore
 * public-good root obtained through TUF (`@sigstore/tuf`, loaded lazily) and cached in a directory the caller owns.
 * With no network and no cache the answer is `undefined`: callers then report signatures as `unknown`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { GITHUB_TUF_MIRROR, GITHUB_TUF_ROOT_JSON } from "./roots/github-tuf-root.ts";
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
  const [first] = readTrustRoots(file, keysFile);
  return first!;
}

/**
 * Read one `trusted_root.json`, or several: `gh attestation trusted-root` prints JSON Lines, one root per instance
 * (public-good and GitHub's own). npm's keys go with the first root. A bad file is an error naming it.
 */
export function readTrustRoots(file: string, keysFile?: string): TrustRoot[] {
  const fail = (f: string, err: unknown): never => {
    throw new AppError("E_CONFIG_READ", `cannot read trusted root ${f}: ${err instanceof Error ? err.message : ""}`);
  };
  const read = (f: string): string => {
    try {
      return readFileSync(f, "utf8");
    } catch (err) {
      return fail(f, err);
    }
  };
  const text = read(file);
  let docs: unknown[];
  try {
    docs = [JSON.parse(text)];
  } catch {
    try {
      docs = text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as unknown);
    } catch (err) {
      return fail(file, err);
    }
  }
  if (docs.length === 0) fail(file, new Error("no trusted root in the file"));
  let keys: NpmRegistryKey[] = [];
  if (keysFile) {
    try {
      keys = npmAttestationKeys(JSON.parse(read(keysFile)));
    } catch (err) {
      fail(keysFile, err);
    }
  }
  const base = path.basename(file);
  return docs.map((trustedRoot, i) => ({
    name: docs.length === 1 ? base : `${base}#${i + 1}(${instanceOf(trustedRoot)})`,
    trustedRoot,
    ...(i === 0 ? { keys } : {}),
  }));
}

/** `github-instance` when a root's CAs are GitHub's own instance (`fulcio.githubapp.com`), else `other`. */
export function instanceOf(trustedRoot: unknown): "github-instance" | "other" {
  const cas = (trustedRoot as { certificateAuthorities?: { uri?: unknown }[] } | null)?.certificateAuthorities;
  return Array.isArray(cas) && cas.some((c) => typeof c.uri === "string" && c.uri.includes("githubapp.com"))
    ? "github-instance"
    : "other";
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

export interface GithubRootOptions {
  /** The TUF cache directory (in the state directory), shared with the public-good root. */
  readonly cacheDir: string;
  readonly offline: boolean;
  readonly mirrorUrl?: string;
  readonly timeoutMs?: number;
}

/**
 * GitHub's own Sigstore instance root (it signs immutable-release attestations and private-repository builds),
 * through TUF from https://tuf-repo.github.com, bootstrapped from the packaged `root.json` (roots/github-tuf-root.ts)
 * and cached beside the public-good one. Undefined when it cannot be had: bundles of that instance are then
 * `unknown`, never `verified`.
 */
export async function loadGithubRoot(opts: GithubRootOptions): Promise<TrustRoot | undefined> {
  const mirror = (opts.mirrorUrl ?? GITHUB_TUF_MIRROR).replace(/\/+$/, "");
  // @sigstore/tuf keeps each repository under cachePath/<encoded host+path>; seed root.json there once.
  const url = new URL(mirror);
  const repoDir = path.join(opts.cacheDir, encodeURIComponent(url.host + url.pathname.replace(/\/$/, "")));
  const cachedRoot = path.join(repoDir, "root.json");
  if (opts.offline && !existsSync(path.join(repoDir, "timestamp.json"))) return undefined;
  try {
    if (!existsSync(cachedRoot)) {
      mkdirSync(repoDir, { recursive: true });
      writeFileSync(cachedRoot, GITHUB_TUF_ROOT_JSON);
    }
    const tuf = (await import("@sigstore/tuf")).default; // CommonJS: module.exports (see verify.ts, loadSigstore)
    const client = await tuf.initTUF({
      cachePath: opts.cacheDir,
      mirrorURL: mirror,
      forceCache: opts.offline,
      retry: 1,
      timeout: opts.timeoutMs ?? 15_000,
    });
    const trustedRoot: unknown = JSON.parse(await client.getTarget("trusted_root.json"));
    return { name: "github-instance", trustedRoot, keys: [] };
  } catch {
    return undefined;
  }
}
