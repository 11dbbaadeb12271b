import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfigText } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";

function config(release: string): string {
  return `version: 1
projects:
  - name: plasmite
    repo: sandover/plasmite
    channels:
      crates: { crate: plasmite }
    release:
${release}`;
}

function issues(text: string): string[] {
  try {
    loadConfigText(text, "/x/monitor.yaml", "/x", { env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.issues];
  }
  assert.fail("expected a config error");
}

describe("config: the release section", () => {
  it("fills documented defaults", () => {
    const loaded = loadConfigText(config("      repo_dir: ../plasmite\n"), "/x/monitor.yaml", "/x", { env: {} });
    const r = loaded.config.projects[0]?.release;
    assert.ok(r);
    assert.equal(r.remote, "origin");
    assert.equal(r.evidence_dir, ".scratch/release");
    assert.deepEqual(r.workflows, { build: "release.yml", publish: "release-publish.yml", ref: "main" });
    assert.equal(r.build_artifact, "release-metadata");
    assert.deepEqual(r.required_secrets, ["CARGO_REGISTRY_TOKEN", "PYPI_API_TOKEN", "NPM_TOKEN"]);
    assert.deepEqual(r.live_secrets, ["HOMEBREW_TAP_TOKEN"]);
    assert.deepEqual(r.steps, [
      "context",
      "preconditions",
      "gates",
      "tag",
      "build",
      "homebrew",
      "rehearsal",
      "publish",
      "verify",
    ]);
    assert.equal(r.verify_wait, "30m");
  });

  const bad: { name: string; yaml: string; want: RegExp }[] = [
    { name: "unknown key", yaml: "      repo_dir: x\n      tap: y\n", want: /projects\[0\]\.release.*tap/ },
    {
      name: "gate as a shell string",
      yaml: "      repo_dir: x\n      gates: [{ name: t, run: 'cargo test' }]\n",
      want: /gates\[0\]\.run/,
    },
    {
      name: "gate name with a slash",
      yaml: "      repo_dir: x\n      gates: [{ name: a/b, run: [true] }]\n",
      want: /gates\[0\]\.name/,
    },
    {
      name: "publish before tag",
      yaml: "      repo_dir: x\n      steps: [context, preconditions, publish, tag, build]\n",
      want: /keep the order/,
    },
    {
      name: "a step twice",
      yaml: "      repo_dir: x\n      steps: [context, preconditions, gates, gates]\n",
      want: /listed twice/,
    },
    {
      name: "no preconditions",
      yaml: "      repo_dir: x\n      steps: [context, gates]\n",
      want: /"preconditions" is required/,
    },
    {
      name: "publish without build",
      yaml: "      repo_dir: x\n      steps: [context, preconditions, tag, publish]\n",
      want: /needs "tag" and "build"/,
    },
    { name: "bad duration", yaml: "      repo_dir: x\n      verify_wait: soon\n", want: /verify_wait/ },
    {
      name: "bad secret name",
      yaml: "      repo_dir: x\n      required_secrets: [npm-token]\n",
      want: /required_secrets\[0\]/,
    },
    { name: "missing repo_dir", yaml: "      remote: origin\n", want: /repo_dir/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}, naming the path`, () => {
      const found = issues(config(c.yaml));
      assert.ok(
        found.some((i) => c.want.test(i)),
        found.join("\n"),
      );
    });
  }
});
