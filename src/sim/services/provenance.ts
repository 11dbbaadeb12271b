/**
 * The sim's provenance endpoints, each in the real service's shape (provenance.md §3.1–3.4):
 * GitHub's attestations list (inline `bundle`, or `bundle: null` + `bundle_url` on the blob host), the blob host
 * (Snappy-compressed JSON), npm's attestations endpoint, PyPI's Integrity API, and the sim's own trusted root.
 */
import { compress } from "snappyjs";
import type { Repo } from "../model-github.ts";
import {
  githubBuildBundle,
  githubReleaseBundle,
  npmAttestationsBody,
  pypiProvenanceBody,
} from "../provenance/attest.ts";
import { simNpmKey, simTrustedRoot } from "../provenance/ca.ts";
import { tamperSignature } from "../provenance/served.ts";
import { json, type Reply, type ServiceDef, type ServiceRuntime } from "../server.ts";
import type { World } from "../world.ts";

function notFound(): Reply {
  return json(404, {
    message: "Not Found",
    documentation_url: "https://docs.github.com/rest/repos/attestations#list-attestations",
    status: "404",
  });
}

/**
 * `GET /repos/{o}/{r}/attestations/sha256:<hex>`: build provenance (initiator user) and the release attestation,
 * paged as GitHub pages it: `per_page` (default 30, max 100) and an `after` cursor named by `Link: rel="next"`.
 */
export async function githubAttestations(
  world: World,
  repo: Repo,
  digest: string,
  query: URLSearchParams,
  selfUrl: string,
): Promise<Reply> {
  const predicateType = query.get("predicate_type");
  const hex = digest.replace(/^sha256:/, "").toLowerCase();
  const entries: Record<string, unknown>[] = [];
  if (predicateType === null || predicateType === "provenance") {
    entries.push(...(await buildEntries(world, repo, hex)));
  }
  if (predicateType === null || predicateType === "release") {
    const release = await releaseEntry(world, repo, hex);
    if (release) entries.push(release);
  }
  if (entries.length === 0) return notFound();
  const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
  const start = cursorIndex(query.get("after"));
  const page = entries.slice(start, start + perPage);
  const headers: Record<string, string> = {};
  if (start + perPage < entries.length) {
    const next = new URL(selfUrl);
    next.searchParams.set("per_page", String(perPage));
    next.searchParams.set("after", Buffer.from(`cursor:${start + perPage}`).toString("base64url"));
    headers["link"] = `<${next.href}>; rel="next"`;
  }
  return json(200, { attestations: page }, headers);
}

/** The sim's opaque cursor: base64url of `cursor:<index>`. */
function cursorIndex(after: string | null): number {
  if (!after) return 0;
  const m = /^cursor:(\d+)$/.exec(Buffer.from(after, "base64url").toString("utf8"));
  return m ? Number(m[1]) : 0;
}

function entry(
  world: World,
  repo: Repo,
  key: string,
  bundle: Record<string, unknown>,
  initiator: string,
  viaUrl: boolean,
) {
  if (!viaUrl) return { bundle, repository_id: repo.id, bundle_url: null, initiator };
  const id = world.attestations.blobFor(key);
  const bundleUrl = `${world.urls.githubBlobs}/attestations/${repo.id}/${id}.json.sn?sv=2025-01-05&se=2099-01-01&sr=b&sp=r&sig=sim`;
  return { bundle: null, repository_id: repo.id, bundle_url: bundleUrl, initiator };
}

async function buildEntries(world: World, repo: Repo, hex: string): Promise<Record<string, unknown>[]> {
  for (const p of world.projects()) {
    if (p.repo !== repo.slug) continue;
    for (const version of world.versions(p.name)) {
      const art = world.artifacts(p.name, version);
      if (!art.published.has("github")) continue;
      const built = art.assets.filter((a) => a.platform !== null);
      if (!built.some((a) => a.content.sha256() === hex)) continue;
      const prov = world.provenanceOf(p.name, version).github;
      if (!prov) return [];
      const key = `github-build/${repo.slug}/${art.tag}`;
      const bundle = await world.attestations.once(key, async (signer) => {
        const subjects = built.map((a) => ({ name: a.name, digest: { sha256: a.content.sha256() } }));
        const signed = await githubBuildBundle(signer, prov, subjects);
        return prov.tamper ? tamperSignature(signed) : signed;
      });
      const own = entry(world, repo, key, bundle, "user", prov.bundleUrl);
      if (prov.earlier === 0) return [own];
      // One nightly build's attestation (same subjects), listed `earlier` times before the release workflow's.
      const nightlyKey = `github-build-nightly/${repo.slug}/${art.tag}`;
      const nightly = await world.attestations.once(nightlyKey, (signer) =>
        githubBuildBundle(
          signer,
          { ...prov, workflowPath: ".github/workflows/nightly.yml", ref: "refs/heads/main" },
          built.map((a) => ({ name: a.name, digest: { sha256: a.content.sha256() } })),
        ),
      );
      const pad = entry(world, repo, nightlyKey, nightly, "user", prov.bundleUrl);
      return [...Array.from({ length: prov.earlier }, () => pad), own];
    }
  }
  return [];
}

async function releaseEntry(world: World, repo: Repo, hex: string) {
  const release = repo.releases.find((r) => r.immutable && r.assets.some((x) => x.digest === `sha256:${hex}`));
  if (!release) return null;
  const commit = repo.tags.get(release.tagName)?.commitSha ?? repo.resolveRef(release.tagName)?.sha ?? "";
  const assets = release.assets
    .filter((x) => x.digest !== null && !repo.attestationOmits.has(x.name))
    .map((x) => ({ name: x.name, digest: { sha256: (x.digest ?? "").replace(/^sha256:/, "") } }));
  const key = `github-release/${repo.slug}/${release.tagName}/${assets.map((a) => a.name).join(",")}`;
  const bundle = await world.attestations.once(key, (signer) =>
    githubReleaseBundle(signer, { repository: repo.slug, tag: release.tagName, commit, assets }),
  );
  const viaUrl = world
    .projects()
    .some(
      (p) =>
        p.repo === repo.slug && world.versions(p.name).some((v) => world.provenanceOf(p.name, v).github?.bundleUrl),
    );
  return entry(world, repo, key, bundle, "github", viaUrl);
}

/** The attestation blob host: `GET /attestations/<repo id>/<blob>.json.sn` → Snappy-compressed bundle JSON. */
export function githubBlobsService(rt: ServiceRuntime): ServiceDef {
  return {
    service: "github-blobs",
    async handle(req) {
      const file = req.segments[0] === "attestations" && req.segments.length === 3 ? req.segments[2] : undefined;
      const id = file?.endsWith(".json.sn") ? file.slice(0, -".json.sn".length) : undefined;
      const bundle = id === undefined ? undefined : rt.world.attestations.blob(id);
      if (!bundle)
        return {
          status: 404,
          headers: { "content-type": "application/xml" },
          body: Buffer.from("<Error><Code>BlobNotFound</Code></Error>"),
        };
      const raw = Buffer.from(JSON.stringify(await bundle));
      return { status: 200, headers: { "content-type": "application/x-snappy" }, body: Buffer.from(compress(raw)) };
    },
  };
}

/** `GET /-/npm/v1/attestations/<name>@<version>` (404 when the version has none). */
export async function npmAttestationsReply(world: World, spec: string, registry: string): Promise<Reply> {
  const at = spec.lastIndexOf("@");
  const name = at > 0 ? spec.slice(0, at) : "";
  const version = at > 0 ? spec.slice(at + 1) : "";
  const found = world.findVersion("npm", name, version);
  const prov =
    found && found.art.published.has("npm") ? world.provenanceOf(found.project.name, found.art.version).npm : null;
  if (!found || !prov || prov.stripped || !found.art.npmTarball) return json(404, { error: "Not found" });
  const tarball = found.art.npmTarball;
  const body = await world.attestations.once(`npm/${name}@${version}`, async (signer) => {
    const sha512Hex = prov.wrongDigest
      ? Buffer.alloc(64, 7).toString("hex")
      : Buffer.from(tarball.digests().sha512Base64, "base64").toString("hex");
    return npmAttestationsBody(signer, { name, version, sha512Hex, registry }, prov);
  });
  return json(200, body);
}

/** `GET /integrity/<project>/<version>/<file>/provenance` (PyPI's 404 "No provenance available" when none). */
export async function pypiProvenanceReply(
  world: World,
  project: string,
  version: string,
  filename: string,
): Promise<Reply> {
  const none = json(404, { message: `No provenance available for ${filename}` });
  const found = world.findVersion("pypi", project, version);
  if (!found || !found.art.published.has("pypi")) return json(404, { message: "Not Found" });
  const file = found.art.pypiFiles.find((f) => f.filename === filename);
  const prov = world.provenanceOf(found.project.name, found.art.version).pypi;
  if (!file) return json(404, { message: "Not Found" });
  if (!prov) return none;
  const body = await world.attestations.once(`pypi/${filename}`, (signer) =>
    pypiProvenanceBody(signer, { filename, sha256: file.content.sha256() }, prov),
  );
  return json(200, body);
}

/** npm's `keys.json` TUF target form of the sim's npm registry key. */
export function simNpmKeysTarget(): Record<string, unknown> {
  const k = simNpmKey();
  return {
    keys: [
      {
        keyId: k.keyId,
        keyUsage: "npm:attestations",
        publicKey: { rawBytes: k.rawBytes, keyDetails: k.keyDetails, validFor: k.validFor },
      },
    ],
  };
}

/** The sim's Sigstore trust: `/trusted_root.json` and npm's `keys.json` target form (404 when switched off). */
export function sigstoreService(rt: ServiceRuntime): ServiceDef {
  return {
    service: "sigstore",
    handle(req) {
      if (!rt.world.attestations.serveTrustedRoot) return json(404, { message: "Not Found" });
      const path = req.segments.join("/");
      if (path === "trusted_root.json") return json(200, simTrustedRoot());
      if (path === "keys.json") return json(200, simNpmKeysTarget());
      return json(404, { message: "Not Found" });
    },
  };
}

/**
 * Makes now what the sim otherwise makes on first request: every published version's attestation bundles (GitHub
 * build provenance, npm, PyPI) and every package file's digests. A real registry has them at rest; the bench calls
 * this before its clock starts, so the imitation's signing and hashing (pure-JS BLAKE2b, certificate issuing) do
 * not compete for the CPU with the client being measured. The bundles are the ones the endpoints then serve.
 */
export async function prewarmProvenance(world: World): Promise<{ bundles: number }> {
  let bundles = 0;
  const npmRegistry = `${world.urls.npm.replace(/\/+$/, "")}/`; // as the npm service names itself
  for (const p of world.projects()) {
    const [owner = "", name = ""] = p.repo.split("/");
    const repo = world.github.repo(owner, name);
    for (const version of world.versions(p.name)) {
      const art = world.artifacts(p.name, version);
      for (const f of art.pypiFiles) f.content.digests();
      art.npmTarball?.digests();
      if (repo && art.published.has("github")) {
        const built = art.assets.find((a) => a.platform !== null);
        if (built) {
          // One bundle covers every built asset of the release; the release attestation is made alongside.
          await githubAttestations(world, repo, built.content.sha256(), new URLSearchParams(), world.urls.githubApi);
          bundles++;
        }
      }
      if (p.npm && art.published.has("npm")) {
        await npmAttestationsReply(world, `${p.npm}@${version}`, npmRegistry);
        bundles++;
      }
      if (p.pypi && art.published.has("pypi")) {
        for (const f of art.pypiFiles) await pypiProvenanceReply(world, p.pypi, version, f.filename);
        bundles += art.pypiFiles.length;
      }
    }
  }
  return { bundles };
}
