/** Table-driven unit tests of the pure comparison: every finding code, and the per-item result. */
import { PROVENANCE_FINDING_CODES } from "../../src/drift/types.ts";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compareAttestation,
  compareDowngrade,
  compareNpmPublisher,
  compareReleaseAttestation,
  compareTrustpub,
  previousVersion,
  type Evidence,
  type ExpectedIdentity,
  type ProvenanceFindingCode,
} from "../../src/provenance/compare.ts";
import { decodeStatementBytes, PREDICATE, type DecodedStatement } from "../../src/provenance/statement.ts";
import type { SignerIdentity } from "../../src/provenance/verify.ts";

const COMMIT = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
const OTHER = "ffffffffffffffffffffffffffffffffffffffff";
const DIGEST = "ab".repeat(32);
const expected: ExpectedIdentity = {
  repository: "acme/plasmite",
  commit: COMMIT,
  workflows: [".github/workflows/release.yml", "release-publish.yml"],
  refs: ["refs/tags/v0.8.0", "refs/heads/main"],
};
const artefact = { name: "plasmite-x86_64.tar.gz", algorithm: "sha256" as const, hex: DIGEST };

function slsa(
  o: { repo?: string; path?: string; ref?: string; commit?: string; digest?: string } = {},
): DecodedStatement {
  const st = {
    _type: "https://in-toto.io/Statement/v1",
    subject: [{ name: artefact.name, digest: { sha256: o.digest ?? DIGEST } }],
    predicateType: PREDICATE.slsaV1,
    predicate: {
      buildDefinition: {
        buildType: "https://actions.github.io/buildtypes/workflow/v1",
        externalParameters: {
          workflow: {
            repository: `https://github.com/${o.repo ?? "acme/plasmite"}`,
            path: o.path ?? ".github/workflows/release.yml",
            ref: o.ref ?? "refs/tags/v0.8.0",
          },
        },
        resolvedDependencies: [
          { uri: "git+https://github.com/acme/plasmite@refs/tags/v0.8.0", digest: { gitCommit: o.commit ?? COMMIT } },
        ],
      },
    },
  };
  const d = decodeStatementBytes(Buffer.from(JSON.stringify(st)));
  if (!d.ok) throw new Error(d.reason);
  return d.statement;
}

function signer(
  san = "https://github.com/acme/plasmite/.github/workflows/release.yml@refs/tags/v0.8.0",
  issuer = "https://token.actions.githubusercontent.com",
): SignerIdentity {
  return { kind: "certificate", san, issuer, extensions: {}, keyHint: undefined };
}

function verified(statement: DecodedStatement, s: SignerIdentity = signer()): Evidence {
  return { kind: "attestation", attestation: "github-build", signature: "verified", signer: s, statement };
}

const codes = (fs: readonly { code: ProvenanceFindingCode }[]) => fs.map((f) => f.code);

describe("compareAttestation", () => {
  const table: { name: string; ev: Evidence; codes: ProvenanceFindingCode[] }[] = [
    { name: "all matching", ev: verified(slsa()), codes: [] },
    { name: "no attestation", ev: { kind: "none" }, codes: ["provenance-missing"] },
    { name: "could not tell", ev: { kind: "unknown", reason: "HTTP 503" }, codes: [] },
    {
      name: "signature does not verify",
      ev: {
        kind: "attestation",
        attestation: "github-build",
        signature: "invalid",
        reason: "signature verification failed",
        statement: slsa(),
      },
      codes: ["provenance-signature-invalid"],
    },
    {
      name: "untrusted issuer",
      ev: verified(slsa(), signer(undefined, "https://token.actions.githubusercontent.com/hammer-time")),
      codes: ["provenance-signature-invalid"],
    },
    {
      name: "another artefact's digest",
      ev: verified(slsa({ digest: "cd".repeat(32) })),
      codes: ["provenance-digest-mismatch"],
    },
    { name: "another commit", ev: verified(slsa({ commit: OTHER })), codes: ["provenance-commit-mismatch"] },
    { name: "a fork", ev: verified(slsa({ repo: "mallory/plasmite" })), codes: ["provenance-repository-mismatch"] },
    {
      name: "another workflow",
      ev: verified(
        slsa({ path: ".github/workflows/hand.yml" }),
        signer("https://github.com/acme/plasmite/.github/workflows/hand.yml@refs/tags/v0.8.0"),
      ),
      codes: ["provenance-workflow-mismatch"],
    },
    {
      name: "a ref outside the allowed refs",
      ev: verified(slsa({ ref: "refs/heads/feature" })),
      codes: ["provenance-workflow-mismatch"],
    },
    {
      name: "a dispatched publisher on main, named by file name only",
      ev: verified(slsa({ path: ".github/workflows/release-publish.yml", ref: "refs/heads/main" })),
      codes: [],
    },
    {
      name: "a reusable workflow signs; the statement names the allowed caller",
      ev: verified(
        slsa(),
        signer(
          "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d",
        ),
      ),
      codes: [],
    },
  ];
  for (const row of table) {
    it(row.name, () => assert.deepEqual(codes(compareAttestation(expected, artefact, row.ev).findings), row.codes));
  }

  it("fills the per-item result from the statement", () => {
    assert.deepEqual(compareAttestation(expected, artefact, verified(slsa())).result, {
      signature: "verified",
      repository: "acme/plasmite",
      workflow: ".github/workflows/release.yml",
      ref: "refs/tags/v0.8.0",
      commit: COMMIT,
      subjects_matched: true,
    });
  });

  it("reports signature absent, and unknown (never verified) without a trusted root", () => {
    assert.equal(compareAttestation(expected, artefact, { kind: "none" }).result.signature, "absent");
    const offline: Evidence = {
      kind: "attestation",
      attestation: "github-build",
      signature: "unknown",
      reason: "no trusted root",
      statement: slsa(),
    };
    const out = compareAttestation(expected, artefact, offline);
    assert.equal(out.result.signature, "unknown");
    assert.deepEqual(codes(out.findings), []);
  });

  it("takes the commit from the certificate's source-repository-digest when the statement has none (PyPI)", () => {
    const st = decodeStatementBytes(
      Buffer.from(
        JSON.stringify({
          _type: "https://in-toto.io/Statement/v1",
          subject: [{ name: "x.whl", digest: { sha256: DIGEST } }],
          predicateType: PREDICATE.pypiPublish,
          predicate: null,
        }),
      ),
    );
    assert.ok(st.ok);
    const s: SignerIdentity = {
      ...signer(),
      extensions: { sourceRepositoryDigest: OTHER, sourceRepositoryRef: "refs/tags/v0.8.0" },
    };
    const out = compareAttestation(expected, artefact, {
      kind: "attestation",
      attestation: "pypi-publish",
      signature: "verified",
      signer: s,
      statement: st.statement,
    });
    assert.equal(out.result.commit, OTHER);
    assert.deepEqual(codes(out.findings), ["provenance-commit-mismatch"]);
  });
});

describe("compareReleaseAttestation", () => {
  const assets = new Map([
    ["a.tar.gz", DIGEST],
    ["sha256sums.txt", "cd".repeat(32)],
  ]);
  function release(o: { tag?: string; commit?: string; subjects?: [string, string][] } = {}): Evidence {
    const subjects = [
      { uri: `pkg:github/acme/plasmite@${o.tag ?? "v0.8.0"}`, digest: { sha1: o.commit ?? COMMIT } },
      ...(o.subjects ?? [...assets]).map(([name, sha256]) => ({ name, digest: { sha256 } })),
    ];
    const st = {
      _type: "https://in-toto.io/Statement/v1",
      subject: subjects,
      predicateType: PREDICATE.releaseV02,
      predicate: { purl: `pkg:github/acme/plasmite@${o.tag ?? "v0.8.0"}`, tag: o.tag ?? "v0.8.0" },
    };
    const d = decodeStatementBytes(Buffer.from(JSON.stringify(st)));
    assert.ok(d.ok);
    const s: SignerIdentity = {
      kind: "certificate",
      san: "https://dotcom.releases.github.com",
      issuer: undefined,
      extensions: {},
      keyHint: undefined,
    };
    return {
      kind: "attestation",
      attestation: "github-release",
      signature: "verified",
      signer: s,
      statement: d.statement,
    };
  }
  const table: { name: string; ev: Evidence; codes: ProvenanceFindingCode[] }[] = [
    { name: "matching", ev: release(), codes: [] },
    { name: "another tag", ev: release({ tag: "v0.7.0" }), codes: ["release-attestation-mismatch"] },
    { name: "another commit", ev: release({ commit: OTHER }), codes: ["release-attestation-mismatch"] },
    {
      name: "an asset missing from the subjects",
      ev: release({ subjects: [["a.tar.gz", DIGEST]] }),
      codes: ["release-attestation-mismatch"],
    },
    {
      name: "an asset with other bytes",
      ev: release({
        subjects: [
          ["a.tar.gz", "00".repeat(32)],
          ["sha256sums.txt", "cd".repeat(32)],
        ],
      }),
      codes: ["release-attestation-mismatch"],
    },
    { name: "no release attestation", ev: { kind: "none" }, codes: ["provenance-missing"] },
  ];
  for (const row of table) {
    it(row.name, () =>
      assert.deepEqual(
        codes(compareReleaseAttestation(expected, { tag: "v0.8.0", assets }, row.ev).findings),
        row.codes,
      ),
    );
  }
});

describe("compareTrustpub (crates.io)", () => {
  const table = [
    { name: "matching", tp: { repository: "acme/plasmite", sha: COMMIT }, by: null, codes: [] },
    {
      name: "another commit",
      tp: { repository: "acme/plasmite", sha: OTHER },
      by: null,
      codes: ["provenance-commit-mismatch"],
    },
    {
      name: "another repository",
      tp: { repository: "mallory/plasmite", sha: COMMIT },
      by: null,
      codes: ["provenance-repository-mismatch"],
    },
    {
      name: "a token publish where trusted publishing is expected",
      tp: null,
      by: "alice",
      codes: ["provenance-missing", "publisher-not-trusted"],
    },
  ] as const;
  for (const row of table) {
    it(row.name, () => {
      const out = compareTrustpub(expected, {
        name: "plasmite",
        trustpub: row.tp,
        publishedBy: row.by,
        trustedPublishingExpected: true,
      });
      assert.deepEqual(codes(out.findings), row.codes);
      assert.equal(out.result.signature, "not-applicable");
    });
  }
});

describe("compareNpmPublisher and compareDowngrade", () => {
  it("publisher-not-trusted without _npmUser.trustedPublisher", () => {
    assert.deepEqual(codes(compareNpmPublisher({ name: "plasmite", npmUser: "alice", trustedPublisher: false })), [
      "publisher-not-trusted",
    ]);
    assert.deepEqual(compareNpmPublisher({ name: "plasmite", npmUser: "GitHub Actions", trustedPublisher: true }), []);
  });

  const table = [
    {
      name: "kept both",
      prev: { provenance: true, trustedPublisher: true },
      cur: { provenance: true, trustedPublisher: true },
      codes: [],
    },
    {
      name: "lost provenance",
      prev: { provenance: true, trustedPublisher: false },
      cur: { provenance: false, trustedPublisher: false },
      codes: ["provenance-downgrade"],
    },
    {
      name: "lost the trusted publisher",
      prev: { provenance: true, trustedPublisher: true },
      cur: { provenance: true, trustedPublisher: false },
      codes: ["provenance-downgrade"],
    },
    {
      name: "never had any",
      prev: { provenance: false, trustedPublisher: false },
      cur: { provenance: false, trustedPublisher: false },
      codes: [],
    },
  ] as const;
  for (const row of table) {
    it(row.name, () => {
      const out = compareDowngrade("npm", { version: "0.7.0", ...row.prev }, { version: "0.8.0", ...row.cur });
      assert.deepEqual(codes(out), row.codes);
    });
  }
  it("no previous version: no downgrade", () =>
    assert.deepEqual(
      compareDowngrade("npm", undefined, { version: "0.1.0", provenance: false, trustedPublisher: false }),
      [],
    ));
});

describe("previousVersion", () => {
  it("is the highest lower version, in semver order, ignoring invalid ones", () => {
    assert.equal(previousVersion(["0.7.0", "0.10.0", "0.9.1", "0.8.1", "junk", "0.8.0-rc.1"], "0.8.1"), "0.8.0-rc.1");
    assert.equal(previousVersion(["0.7.0", "0.10.0", "0.9.1"], "0.10.0"), "0.9.1");
    assert.equal(previousVersion(["0.8.0"], "0.8.0"), undefined);
  });
});

describe("finding codes", () => {
  it("are the issue's stable list", () => {
    assert.deepEqual(
      [...PROVENANCE_FINDING_CODES],
      [
        "provenance-missing",
        "provenance-signature-invalid",
        "provenance-digest-mismatch",
        "provenance-commit-mismatch",
        "provenance-repository-mismatch",
        "provenance-workflow-mismatch",
        "publisher-not-trusted",
        "release-attestation-mismatch",
        "provenance-downgrade",
      ],
    );
  });
});
