import nerfDart from "@npmcli/config/lib/nerf-dart.js";
import type { NpmrcView } from "./npmrc.ts";

/**
 * The Authorization npm would send to `url` for a package whose registry is `base`: `settings.npm.token` for URLs
 * under that registry only, else the `.npmrc` credential for that URL (`//host/path/:_authToken`, ...); null for any
 * other host. Shared by the npm probe and npm provenance so both send credentials by one rule. Apart from npm's
 * loader (src/config/npmrc.ts), which loads only when an npm channel reads npm's configuration.
 */
export function npmAuthorization(
  npmrc: NpmrcView | null,
  token: string | null,
  base: string,
  url: string,
): string | null {
  if (token && nerfDart(url).startsWith(nerfDart(base))) return `Bearer ${token}`;
  return npmrc?.authorizationFor(url) ?? null;
}
