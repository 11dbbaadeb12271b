import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { loadConfigText } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { ProvenanceConfig } from "../../src/config/schema.ts";
import { PROVENANCE_DEFAULTS, provenanceExpectations } from "../../src/provenance/expected.ts";

const project = (extra = "") => `
projects:
  - name: demo
    repo: acme/demo
    channels:
      crates: { crate: demo }
${extra}`;

function issuesOf(text: string): string[] {
  try {
    loadConfigText(text, "/x/monitor.yaml", "/x", { env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.issues];
  }
  assert.fail("expected a ConfigError");
}

describe("provenance config", () => {
  it("provenance's own defaults are the schema's (provenance sits below config and keeps a copy)", () => {
    assert.deepEqual(PROVENANCE_DEFAULTS, ProvenanceConfig.parse({}));
  });

  it("defaults: the project's repo, release.yml + release-publish.yml, tag commit, tag ref + main, warn, 10m", () => {
    const loaded = loadConfigText(project(), "/x/m.yaml", "/x", { env: {} });
    const p = loaded.config.projects[0];
    assert.ok(p);
    const e = provenanceExpectations(p, "v1.2.3");
    assert.equal(e.repository, "acme/demo");
    assert.deepEqual(e.workflows, ["release.yml", "release-publish.yml"]);
    assert.deepEqual(e.refs, ["refs/tags/v1.2.3", "refs/heads/main"]);
    assert.equal(e.commitSource, "tag");
    assert.deepEqual(e.policy, { github: "warn", crates: "warn", npm: "warn", pypi: "warn", homebrew: "warn" });
    assert.deepEqual(e.trustedPublisher, { npm: "warn", crates: "warn" });
    assert.equal(e.graceMs, 600_000);
    assert.equal(loaded.config.settings.provenance.mirror_absence, "unknown");
    assert.equal(loaded.config.settings.provenance.trusted_root, undefined);
  });

  it("reads every field", () => {
    const text = `settings:
  provenance: { trusted_root: roots/trusted_root.json, mirror_absence: drift }
${project(`    provenance:
      repository: acme/fork
      workflows: [.github/workflows/build.yml]
      commit: build-metadata
      refs: ["refs/tags/{tag}"]
      policy: { npm: required, homebrew: off }
      trusted_publisher: { crates: required }
      grace: 30m`)}`;
    const loaded = loadConfigText(text, "/x/m.yaml", "/x", { env: {} });
    const p = loaded.config.projects[0];
    assert.ok(p);
    const e = provenanceExpectations(p, "v2.0.0");
    assert.equal(e.repository, "acme/fork");
    assert.deepEqual(e.workflows, [".github/workflows/build.yml"]);
    assert.deepEqual(e.refs, ["refs/tags/v2.0.0"]);
    assert.equal(e.commitSource, "build-metadata");
    assert.equal(e.policy["npm"], "required");
    assert.equal(e.policy["homebrew"], "off");
    assert.equal(e.policy["github"], "warn");
    assert.deepEqual(e.trustedPublisher, { npm: "warn", crates: "required" });
    assert.equal(e.graceMs, 1_800_000);
    assert.equal(loaded.config.settings.provenance.mirror_absence, "drift");
    assert.equal(loaded.config.settings.provenance.trusted_root, "roots/trusted_root.json");
  });

  it("takes the workflows and branch from release.workflows when provenance.workflows is unset", () => {
    const text = project(`    release:
      repo_dir: .
      workflows: { build: build.yml, publish: ship.yml, ref: trunk }`);
    const loaded = loadConfigText(text, "/x/m.yaml", "/x", { env: {} });
    const p = loaded.config.projects[0];
    assert.ok(p);
    const e = provenanceExpectations(p, "v1.0.0");
    assert.deepEqual(e.workflows, ["build.yml", "ship.yml"]);
    assert.deepEqual(e.refs, ["refs/tags/v1.0.0", "refs/heads/trunk"]);
  });

  it("is strict and names the path", () => {
    assert.deepEqual(issuesOf(project("    provenance: { workflow: release.yml }")), [
      "projects[0].provenance.workflow: unknown key",
    ]);
    const bad = issuesOf(
      project(
        "    provenance: { policy: { npm: maybe }, commit: head, refs: [main], trusted_publisher: { pypi: warn }, grace: soon }",
      ),
    );
    for (const path of [
      "projects[0].provenance.policy.npm:",
      "projects[0].provenance.commit:",
      "projects[0].provenance.refs[0]:",
      "projects[0].provenance.trusted_publisher.pypi:",
      "projects[0].provenance.grace:",
    ]) {
      assert.ok(
        bad.some((i) => i.startsWith(path)),
        `${path} in ${bad.join("\n")}`,
      );
    }
    const settings = issuesOf(`settings:\n  provenance: { mirror_absence: ok, trusted_roots: x }\n${project()}`);
    assert.ok(
      settings.some((i) => i.startsWith("settings.provenance.mirror_absence:")),
      settings.join("\n"),
    );
    assert.ok(settings.includes("settings.provenance.trusted_roots: unknown key"), settings.join("\n"));
  });
});
