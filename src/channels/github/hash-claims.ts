import { sha256Hex, type HashClaim } from "../../drift/findings.ts";
import type { GithubObservation } from "./types.ts";

/** GitHub's `sha256:<hex>` digest as lowercase hex; null when absent, another algorithm or malformed. */
export function githubDigestHex(digest: string | null): string | null {
  if (digest === null) return null;
  const m = /^sha256:([0-9a-f]{64})$/i.exec(digest.trim());
  return m?.[1] ? m[1].toLowerCase() : null;
}

/** The sha256 the release's checksums give for an asset: its checksum-file line, or its sidecar's hex. */
export function checksumOf(obs: GithubObservation, assetName: string): { source: string; value: string } | null {
  const line = obs.checksums?.entries.find((e) => e.name === assetName);
  const fromLine = sha256Hex(line?.sha256);
  if (obs.checksums && fromLine) return { source: obs.checksums.name, value: fromLine };
  const sidecar = obs.sidecars?.[assetName];
  const fromSidecar = sidecar?.state === "read" ? sha256Hex(sidecar.sha256) : null;
  if (sidecar && fromSidecar) return { source: sidecar.name, value: fromSidecar };
  return null;
}

/**
 * Every usable sha256 claim GitHub makes about one release asset, in trust order:
 * the checksum file line (or the asset's sidecar), the asset's REST digest, and (deep) the hash of the downloaded
 * bytes.
 * A null or malformed digest is "not available", never a claim.
 */
export function githubHashClaims(obs: GithubObservation, assetName: string): HashClaim[] {
  const claims: HashClaim[] = [];
  const sums = checksumOf(obs, assetName);
  if (sums) claims.push(sums);
  const asset = obs.release?.assets.find((a) => a.name === assetName);
  const fromDigest = asset ? githubDigestHex(asset.digest) : null;
  if (fromDigest) claims.push({ source: "GitHub asset digest", value: fromDigest });
  const fromBytes = sha256Hex(obs.downloads?.[assetName]?.sha256);
  if (fromBytes) claims.push({ source: "downloaded bytes", value: fromBytes });
  return claims;
}
