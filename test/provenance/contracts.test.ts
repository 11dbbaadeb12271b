/**
 * Contract tests on the real shapes: GitHub's attestations response (`bundle: null` + `bundle_url`, Snappy JSON on
 * another host, 404 and 422 for none), npm's attestations endpoint, PyPI's Integrity API ("No provenance
 * available"), crates.io's `trustpub_data` (null and set). HTTP is an injected function that records requests.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compress } from "snappyjs";
import {
  createBundleVerifier,
  fetchGithubAttestations,
  fetchNpmAttestations,
  fetchPypiProvenance,
  githubAttestationKind,
  parseCratesPublish,
  rebaseNpmAttestationUrl,
  toEvidence,
  type ProvenanceHttp,
  type ProvenanceHttpRequest,
} from "../../src/provenance/index.ts";
import { fixtureBytes, fixtureJson, publicGoodRoot } from "./helpers.ts";

type Route = { status: number; body: Uint8Array } | Error;

function fakeHttp(routes: Record<string, Route>): { http: ProvenanceHttp; seen: ProvenanceHttpRequest[] } {
  const seen: ProvenanceHttpRequest[] = [];
  const http: ProvenanceHttp = (req) => {
    seen.push(req);
    const key = Object.keys(routes).find((k) => req.url.startsWith(k));
    const route = key === undefined ? { status: 599, body: new Uint8Array() } : routes[key]!;
    return route instanceof Error ? Promise.reject(route) : Promise.resolve(route);
  };
  return { http, seen };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const API = "https://api.github.example";
const BLOB = "tmaproduction.blob.core.windows.net";
const DIGEST = "3b8ac6b30336802fc1a858d7c084e11cdf24ac1a761ca90b68022d7d729208de";
const LIST = `${API}/repos/cli/cli/attestations/sha256:${DIGEST}`;
const query = {
  apiBase: API,
  repository: "cli/cli",
  sha256: DIGEST,
  apiHeaders: { authorization: "Bearer ghp_secret" },
  bundleHosts: [BLOB],
};

describe("GitHub attestations response", () => {
  const response = fixtureBytes("github/tracefold_cli-cli_v2.98.0_attestations-response_bundle-url_SAS-redacted.json");
  const resolved = fixtureBytes("github/tracefold_cli-cli_v2.98.0_release-attestation_v0.2_resolved-bundle.json");

  it("resolves bundle: null through bundle_url (Snappy JSON), without the API token", async () => {
    const { http, seen } = fakeHttp({
      [LIST]: { status: 200, body: response },
      [`https://${BLOB}/`]: { status: 200, body: compress(resolved) },
    });
    const got = await fetchGithubAttestations(http, query);
    assert.equal(got.kind, "found");
    if (got.kind !== "found") return;
    assert.equal(got.value.length, 2);
    assert.deepEqual(
      got.value.map((a) => a.initiator),
      ["github", "user"],
    );
    assert.equal(githubAttestationKind(got.value[0]!.bundle), "github-release");
    assert.equal(seen[0]!.headers?.["authorization"], "Bearer ghp_secret");
    const blobRequests = seen.filter((r) => new URL(r.url).host === BLOB);
    assert.equal(blobRequests.length, 2);
    for (const r of blobRequests) assert.equal(r.headers?.["authorization"], undefined);
  });

  it("treats a bundle_url outside the allowed download hosts as unknown and never fetches it", async () => {
    const { http, seen } = fakeHttp({ [LIST]: { status: 200, body: response } });
    const got = await fetchGithubAttestations(http, { ...query, bundleHosts: ["objects.githubusercontent.com"] });
    assert.equal(got.kind, "unknown");
    assert.match(got.kind === "unknown" ? got.reason : "", /not an allowed download host/);
    assert.equal(seen.length, 1);
  });

  it("keeps the pre-signed bundle_url query out of a transport error's reason", async () => {
    const sas = "https://tmaproduction.blob.core.windows.net/attestations/1.json.sn?sv=2025&sig=SECRETSIG";
    const body = json({ attestations: [{ bundle: null, bundle_url: sas, repository_id: 1 }] });
    const { http } = fakeHttp({
      [LIST]: { status: 200, body },
      [`https://${BLOB}/`]: new Error(`connect ETIMEDOUT ${sas}`),
    });
    const got = await fetchGithubAttestations(http, query);
    assert.equal(got.kind, "unknown");
    assert.doesNotMatch(got.kind === "unknown" ? got.reason : "", /SECRETSIG/);
  });

  it("treats a bundle_url blob that is not Snappy JSON as unknown", async () => {
    const { http } = fakeHttp({
      [LIST]: { status: 200, body: response },
      [`https://${BLOB}/`]: { status: 200, body: resolved },
    });
    assert.equal((await fetchGithubAttestations(http, query)).kind, "unknown");
  });

  it("accepts the inline form (bundle next to repository_id; constructed from a real bundle)", async () => {
    const bundle = fixtureJson("github/cli-cli_custom-issuer.sigstore.json");
    const { http } = fakeHttp({
      [LIST]: { status: 200, body: json({ attestations: [{ bundle, repository_id: 1 }] }) },
    });
    const got = await fetchGithubAttestations(http, query);
    assert.equal(got.kind, "found");
    assert.equal(got.kind === "found" ? githubAttestationKind(got.value[0]!.bundle) : undefined, "github-build");
  });

  for (const status of [404, 422]) {
    it(`reads HTTP ${status} as none`, async () => {
      const { http } = fakeHttp({ [LIST]: { status, body: json({ message: "Not Found" }) } });
      assert.deepEqual(await fetchGithubAttestations(http, query), { kind: "none" });
    });
  }

  it("reads an empty list as none", async () => {
    const { http } = fakeHttp({ [LIST]: { status: 200, body: json({ attestations: [] }) } });
    assert.deepEqual(await fetchGithubAttestations(http, query), { kind: "none" });
  });

  for (const [label, route] of [
    ["HTTP 500", { status: 500, body: json({}) }],
    ["HTTP 401", { status: 401, body: json({}) }],
    ["a malformed body", { status: 200, body: Buffer.from("{not json") }],
    ["a transport error", new Error("socket hang up")],
  ] as const) {
    it(`reads ${label} as unknown, never none`, async () => {
      const { http } = fakeHttp({ [LIST]: route });
      const got = await fetchGithubAttestations(http, query);
      assert.equal(got.kind, "unknown");
      assert.doesNotMatch(got.kind === "unknown" ? got.reason : "", /ghp_secret/);
    });
  }
});

describe("npm attestations endpoint", () => {
  const url = "https://registry.mirror.example/-/npm/v1/attestations/@playwright%2fcli@0.1.1";

  it("re-bases dist.attestations.url onto the configured registry", () => {
    assert.equal(
      rebaseNpmAttestationUrl(
        "https://npm-registry.example/-/npm/v1/attestations/@playwright%2fcli@0.1.1",
        "https://registry.mirror.example/",
      ),
      url,
    );
    assert.equal(rebaseNpmAttestationUrl("https://npm-registry.example/other", "https://x.example"), undefined);
  });

  it("parses the real response: a publish and a SLSA provenance attestation", async () => {
    const { http } = fakeHttp({
      [url]: { status: 200, body: fixtureBytes("npm/sigstore-dotnet_playwright-cli@0.1.1_attestations.json") },
    });
    const got = await fetchNpmAttestations(http, url);
    assert.equal(got.kind, "found");
    assert.deepEqual(got.kind === "found" ? got.value.map((a) => a.predicateType) : [], [
      "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
      "https://slsa.dev/provenance/v1",
    ]);
  });

  it("reads 404 as none and 503 as unknown", async () => {
    assert.deepEqual(await fetchNpmAttestations(fakeHttp({ [url]: { status: 404, body: json({}) } }).http, url), {
      kind: "none",
    });
    assert.equal(
      (await fetchNpmAttestations(fakeHttp({ [url]: { status: 503, body: json({}) } }).http, url)).kind,
      "unknown",
    );
  });
});

describe("PyPI Integrity API", () => {
  const q = {
    base: "https://pypi.example",
    project: "pypi-attestations",
    version: "0.0.19",
    filename: "pypi_attestations-0.0.19.tar.gz",
  };
  const url = "https://pypi.example/integrity/pypi-attestations/0.0.19/pypi_attestations-0.0.19.tar.gz/provenance";

  it("converts the real provenance object to bundles that verify", async () => {
    const { http, seen } = fakeHttp({
      [url]: { status: 200, body: fixtureBytes("pypi/pypi-attestations_pypi_attestations-0.0.19.tar.gz.provenance") },
    });
    const got = await fetchPypiProvenance(http, q);
    assert.equal(seen[0]!.headers?.["accept"], "application/vnd.pypi.integrity.v1+json");
    assert.equal(got.kind, "found");
    if (got.kind !== "found") return;
    assert.deepEqual(got.value[0]!.publisher, {
      environment: null,
      kind: "GitHub",
      repository: "trailofbits/pypi-attestations",
      workflow: "release.yml",
    });
    const verifier = await createBundleVerifier(publicGoodRoot());
    const ev = toEvidence(got.value[0]!.bundles[0], "pypi-publish", verifier);
    assert.equal(ev.kind === "attestation" ? ev.signature : "", "verified");
  });

  it('reads 404 "No provenance available" as none', async () => {
    const body = json({ message: "No provenance available for pypi_attestations-0.0.19.tar.gz" });
    assert.deepEqual(await fetchPypiProvenance(fakeHttp({ [url]: { status: 404, body } }).http, q), { kind: "none" });
  });

  it("reads a body that is not a provenance object as unknown", async () => {
    const got = await fetchPypiProvenance(fakeHttp({ [url]: { status: 200, body: json({ version: 2 }) } }).http, q);
    assert.equal(got.kind, "unknown");
  });
});

describe("crates.io trustpub_data", () => {
  function snapBody(file: string): unknown {
    const text = fixtureBytes(file).toString("utf8");
    return JSON.parse(text.slice(text.indexOf("---", 3) + 3));
  }

  it("reads a GitHub trusted publish with published_by null", () => {
    const got = parseCratesPublish(snapBody("cratesio/integration__krate__publish__trustpub_github__full_flow-9.snap"));
    assert.deepEqual(got, {
      trustpub: { provider: "github", repository: "rust-lang/foo-rs", run_id: "example-run-id", sha: "example-sha" },
      publishedBy: null,
    });
  });

  it("reads a GitLab trusted publish", () => {
    const got = parseCratesPublish(snapBody("cratesio/integration__krate__publish__trustpub_gitlab__full_flow-9.snap"));
    assert.equal(got?.trustpub?.sha, "76719c2658b5c4423810d655a4624af1b38b7091");
    assert.equal(got?.trustpub?.provider, "gitlab");
  });

  it("reads trustpub_data: null with a user as a token publish", () => {
    const got = parseCratesPublish({
      version: { num: "1.0.0", trustpub_data: null, published_by: { id: 1, login: "alice" } },
    });
    assert.deepEqual(got, { trustpub: null, publishedBy: "alice" });
  });
});
