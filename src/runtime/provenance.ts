/**
 * The provenance runtime built once per command from the loaded config: HTTP through the shared client (no evidence
 * recorded into channels), endpoints, and the trusted root, loaded on first use and kept:
 * settings.provenance.trusted_root (a file, one root or JSON Lines of several) > the sim's served root (under --sim) >
 * the public-good root and GitHub's own instance root, each via TUF and cached in <state_dir>/tuf. Each bundle is
 * verified against the root that issued it. When none can be had the verifier is undefined and signatures are
 * `unknown`; a bundle whose root is missing is `unknown` too.
 */
import path from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import { npmAuthorization } from "../config/npm-auth.ts";
import type { HttpClient } from "../http/client.ts";
import type { Logger } from "../log.ts";
import { errorMessage } from "../errors.ts";
import { fetchBuildMetadata } from "../provenance/build-metadata.ts";
import { workflowFile } from "../provenance/compare.ts";
import { provenanceExpectations } from "../provenance/expected.ts";
import type { ProvenanceHttp } from "../provenance/fetch.ts";
import type { AttestationCache } from "../provenance/gather.ts";
import type { ProvenanceRuntime } from "../provenance/run.ts";
import { loadGithubRoot, loadPublicGoodRoot, npmAttestationKeys, readTrustRoots } from "../provenance/trust.ts";
import { createBundleVerifier, type BundleVerifier, type TrustRoot } from "../provenance/verify.ts";

export function provenanceHttp(http: HttpClient, maxBytes = 8 * 1024 * 1024): ProvenanceHttp {
  return async (req) => {
    const res = await http.request({
      url: req.url,
      headers: { ...req.headers },
      maxBytes,
      conditional: false,
      ...(req.redirectHosts ? { redirectHosts: req.redirectHosts } : {}),
    });
    return { status: res.status, body: res.body, headers: res.headers };
  };
}

async function simRoot(http: ProvenanceHttp, base: string): Promise<TrustRoot | undefined> {
  const get = async (file: string): Promise<unknown> => {
    const res = await http({ url: `${base}/${file}`, headers: { accept: "application/json" } });
    if (res.status !== 200) throw new Error(`${file}: HTTP ${res.status}`);
    return JSON.parse(Buffer.from(res.body).toString("utf8"));
  };
  try {
    const trustedRoot = await get("trusted_root.json");
    return { name: "sim", trustedRoot, keys: npmAttestationKeys(await get("keys.json")) };
  } catch {
    return undefined;
  }
}

export function createProvenanceRuntime(
  loaded: LoadedConfig,
  http: HttpClient,
  log: Logger,
  options: { cache?: AttestationCache; githubApi: string } = { githubApi: "" },
): ProvenanceRuntime {
  const s = loaded.config.settings;
  const p = s.provenance;
  const phttp = provenanceHttp(http);
  // npm's default registry comes from npm's config library, loaded on first use (an npm channel's provenance, or
  // the public-good root's npm keys), so a verify without npm does not load it.
  const npmDefault = async (): Promise<string> =>
    loaded.sim?.npmDefaultRegistry ?? (await import("../config/npmrc.ts")).npmDefaultRegistry();
  let verifier: Promise<BundleVerifier | undefined> | undefined;
  /** The roots to verify against, and whether every one that should be there was had. */
  const loadRoots = async (): Promise<{ roots: TrustRoot[]; complete: boolean }> => {
    if (p.trusted_root) {
      const file = path.resolve(loaded.baseDir, p.trusted_root);
      const keys = p.npm_keys ? path.resolve(loaded.baseDir, p.npm_keys) : undefined;
      return { roots: readTrustRoots(file, keys), complete: true };
    }
    if (loaded.sim) {
      const root = await simRoot(phttp, loaded.sim.trustUrl);
      return { roots: root ? [root] : [], complete: root !== undefined };
    }
    // The defaults: the public-good root and GitHub's own instance, each through TUF, each cached in <state>/tuf.
    const cacheDir = path.resolve(loaded.baseDir, s.state_dir, "tuf");
    const [publicGood, github] = await Promise.all([
      loadPublicGoodRoot({
        cacheDir,
        offline: false,
        // npm's keys (which name npm's default registry) only when a project has an npm channel.
        ...(loaded.config.projects.some((pr) => pr.channels.npm !== undefined)
          ? { npmDefaultRegistry: await npmDefault() }
          : {}),
        ...(p.tuf_mirror ? { mirrorUrl: p.tuf_mirror } : {}),
      }),
      loadGithubRoot({ cacheDir, offline: false }),
    ]);
    if (!github) log.warn({}, "GitHub's Sigstore instance root is not available: its attestations are unknown");
    const roots = [publicGood, github].filter((r): r is TrustRoot => r !== undefined);
    return { roots, complete: roots.length === 2 };
  };
  const githubHeaders: Record<string, string> = loaded.githubToken
    ? { authorization: `Bearer ${loaded.githubToken}` }
    : {};
  return {
    http: phttp,
    endpoints: {
      githubApi: options.githubApi || s.github.api_url.replace(/\/+$/, ""),
      githubHeaders,
      bundleHosts: s.github.download_hosts,
      cratesApi: s.crates.api_url.replace(/\/+$/, ""),
      pypi: s.pypi.url.replace(/\/+$/, ""),
      npmDefaultRegistry: npmDefault,
      async npmHeadersFor(registry, url) {
        const npmrc = loaded.npmrc ? await loaded.npmrc() : null;
        const authorization = npmAuthorization(npmrc, s.npm.token ?? null, registry, url);
        return authorization ? { authorization } : {};
      },
    },
    verifier() {
      verifier ??= loadRoots().then(
        async ({ roots, complete }) => {
          if (roots.length === 0) {
            log.warn({}, "no Sigstore trusted root available: provenance signatures are unknown");
            return undefined;
          }
          return createBundleVerifier(roots, { complete });
        },
        (err: unknown) => {
          log.warn(
            { err: errorMessage(err) },
            "cannot load the Sigstore trusted root: provenance signatures are unknown",
          );
          return undefined;
        },
      );
      return verifier;
    },
    cache: options.cache,
    mirrorAbsence: p.mirror_absence,
    async buildMetadataCommit(project, tag) {
      // A build run's metadata never changes once written: a found source_sha is kept like an attestation.
      const key = `build-metadata:${project.repo}:${tag}`;
      const hit = options.cache ? await options.cache.get(key) : undefined;
      if (hit !== undefined) return hit;
      const workflow =
        project.release?.workflows.build ??
        workflowFile(provenanceExpectations(project, tag).workflows[0] ?? "release.yml");
      const got = await fetchBuildMetadata(phttp, {
        apiBase: options.githubApi || s.github.api_url.replace(/\/+$/, ""),
        repository: project.repo,
        workflow,
        artifact: project.release?.build_artifact ?? "release-metadata",
        tag,
        apiHeaders: githubHeaders,
        downloadHosts: s.github.download_hosts,
      });
      if (got.kind !== "found") {
        log.warn(
          {
            project: project.name,
            tag,
            workflow,
            reason: got.kind === "none" ? "no build run's metadata names the tag" : got.reason,
          },
          "provenance.commit build-metadata: the expected commit is unknown",
        );
        return undefined;
      }
      await options.cache?.set(key, got.value.sourceSha);
      return got.value.sourceSha;
    },
  };
}
