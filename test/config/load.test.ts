import { strict as assert } from "node:assert";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../src/errors.ts";
import { loadConfigFile, loadConfigText } from "../../src/config/load.ts";
import { configJsonSchema } from "../../src/config/schema.ts";

const minimal = (extra = "") => `
projects:
  - name: demo
    repo: acme/demo
    channels:
      crates: { crate: demo }
${extra}`;

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}, source = "/x/monitor.yaml"): string[] {
  try {
    loadConfigText(text, source, "/x", { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.issues];
  }
  assert.fail("expected a ConfigError");
}

describe("config loading", () => {
  it("loads the shipped plasmite example", async () => {
    const home = mkdtempSync(join(tmpdir(), "rm-load-"));
    const loaded = loadConfigFile("examples/plasmite.yaml", {
      env: {
        NPM_CONFIG_REGISTRY: "http://mirror.example/npm",
        HOME: home,
        NPM_CONFIG_USERCONFIG: join(home, "npmrc"),
        NPM_CONFIG_GLOBALCONFIG: join(home, "global-npmrc"),
      },
    });
    const p = loaded.config.projects[0];
    assert.equal(p?.name, "plasmite");
    assert.deepEqual(p?.channels.homebrew?.platforms, ["darwin_arm64", "darwin_amd64", "linux_amd64"]);
    assert.equal(
      loaded.config.settings.npm.registry,
      undefined,
      "the example leaves the registry to npm's configuration",
    );
    const npmrc = await loaded.npmrc?.();
    assert.equal(npmrc?.registryFor("plasmite"), "http://mirror.example/npm/");
    assert.equal(loaded.githubToken, null);
  });

  it("names the path of an unknown key", () => {
    const issues = issuesOf(minimal().replace("crate: demo", "crate: demo, crat: x"));
    assert.deepEqual(issues, ["projects[0].channels.crates.crat: unknown key"]);
    assert.deepEqual(issuesOf(`${minimal()}\nbogus: 1\n`), ["bogus: unknown key"]);
  });

  it("github checksums: a file name, { sidecar: .sha256 } or null; a bad sidecar block names its field", () => {
    const gh = (checksums: string) =>
      minimal().replace(
        "crates: { crate: demo }",
        `github: { platforms: [darwin_arm64], assets: ["demo-{target}.tar.xz"], checksums: ${checksums} }`,
      );
    const at = "projects[0].channels.github.checksums";
    const load = (text: string) => loadConfigText(text, "/x/m.yaml", "/x", { env: {} }).config.projects[0]!;
    assert.deepEqual(load(gh('{ sidecar: ".sha256" }')).channels.github?.checksums, { sidecar: ".sha256" });
    assert.equal(load(gh("null")).channels.github?.checksums, null);
    assert.equal(load(gh("SHA256SUMS")).channels.github?.checksums, "SHA256SUMS");
    assert.deepEqual(issuesOf(gh('{ sidecar: ".sha512" }')), [
      `${at}.sidecar: must be ".sha256" (the suffix of each asset's checksum file), got ".sha512"`,
    ]);
    assert.deepEqual(issuesOf(gh('{ sidcar: ".sha256" }')), [
      `${at}.sidecar: required: the suffix of each asset's checksum file (.sha256)`,
      `${at}.sidcar: unknown key`,
    ]);
    assert.deepEqual(issuesOf(gh("3")), [`${at}: must be a checksum file name, { sidecar: ".sha256" } or null`]);
    assert.deepEqual(issuesOf(gh("[a]")), [`${at}: must be a checksum file name, { sidecar: ".sha256" } or null`]);
  });

  it("github extra_assets: file name templates with * globs; bad entries name their index", () => {
    const gh = (extra: string, assets = '["demo-{target}.tar.xz"]') =>
      minimal().replace(
        "crates: { crate: demo }",
        `github: { platforms: [darwin_arm64], assets: ${assets}, checksums: null, extra_assets: ${extra} }`,
      );
    const at = "projects[0].channels.github.extra_assets";
    const load = (text: string) => loadConfigText(text, "/x/m.yaml", "/x", { env: {} }).config.projects[0]!;
    assert.deepEqual(
      load(gh('[demo-installer.sh, "*.sbom.json", "demo-{version}.pem"]')).channels.github?.extra_assets,
      ["demo-installer.sh", "*.sbom.json", "demo-{version}.pem"],
    );
    assert.deepEqual(issuesOf(gh('[ok.txt, ""]')), [`${at}[1]: must be a file name template, got an empty string`]);
    assert.deepEqual(issuesOf(gh('["*"]')), [`${at}[0]: must name something besides * (that would accept every file)`]);
    assert.deepEqual(issuesOf(gh('["dir/x.txt"]')), [`${at}[0]: must be a file name, not a path (no / or \\)`]);
    assert.deepEqual(issuesOf(gh('["x-{target}.sig"]')), [
      `${at}[0]: must not use {platform} or {target} (extra files are not per platform; use * instead)`,
    ]);
    assert.deepEqual(issuesOf(gh("[x.sig]", "[]").replace("platforms: [darwin_arm64], ", "")), [
      `${at}: a release without assets (assets: []) judges no attached file; remove it`,
    ]);
  });

  it("{target} is {platform} for Rust-target names: it needs platforms, and renders through platform_names", () => {
    const text = minimal().replace(
      "crates: { crate: demo }",
      'github: { assets: ["demo-{target}.tar.xz"], checksums: { sidecar: ".sha256" } }',
    );
    assert.deepEqual(issuesOf(text), [
      "projects[0].channels.github.platforms: required when assets use {platform} or {target} and no targets_manifest is set",
    ]);
  });

  it("names bad values", () => {
    const issues = issuesOf(`settings:\n  http:\n    retries: many\n  grace:\n    npm: soon\n${minimal()}`);
    assert.ok(
      issues.some((i) => i.startsWith("settings.http.retries:")),
      issues.join("\n"),
    );
    assert.ok(
      issues.some((i) => i.startsWith("settings.grace.npm: must be a duration")),
      issues.join("\n"),
    );
  });

  it("interpolates ${ENV} and ${ENV:-default}, and registers secret values", () => {
    const text = `settings:\n  github:\n    token: \${GH_TOKEN}\n    api_url: \${GH_API:-https://ghe.example/api/v3}\n${minimal()}`;
    const loaded = loadConfigText(text, "/x/m.yaml", "/x", { env: { GH_TOKEN: "ghp_secretvalue123" } });
    assert.equal(loaded.githubToken, "ghp_secretvalue123");
    assert.equal(loaded.config.settings.github.api_url, "https://ghe.example/api/v3");
    assert.equal(loaded.secrets.redact("token=ghp_secretvalue123"), "token=[REDACTED]");
  });

  it("reports a missing env var with its path", () => {
    const issues = issuesOf(`settings:\n  github:\n    token: \${NOPE_TOKEN}\n${minimal()}`);
    assert.deepEqual(issues, ["settings.github.token: environment variable NOPE_TOKEN is not set"]);
  });

  it("falls back to $GITHUB_TOKEN", () => {
    const loaded = loadConfigText(minimal(), "/x/m.yaml", "/x", { env: { GITHUB_TOKEN: "tok_from_env_1" } });
    assert.equal(loaded.githubToken, "tok_from_env_1");
  });

  it("accepts JSON", () => {
    const json = JSON.stringify({ projects: [{ name: "j", repo: "a/j", channels: { npm: { package: "@a/j" } } }] });
    const loaded = loadConfigText(json, "/x/m.json", "/x", { env: {} });
    assert.equal(loaded.config.projects[0]?.channels.npm?.package, "@a/j");
  });

  it("checks cross-field rules", () => {
    const dup = `projects:\n  - {name: a, repo: o/a, channels: {}}\n  - {name: a, repo: o/b, channels: {}}\n`;
    assert.deepEqual(issuesOf(dup), ['projects[1].name: duplicate project name "a"']);
    const cron = `settings:\n  watch:\n    schedule: "61 * * * *"\n${minimal()}`;
    assert.deepEqual(issuesOf(cron), ['settings.watch.schedule: invalid cron expression "61 * * * *"']);
    const open = `settings:\n  server:\n    listen: 0.0.0.0:8080\n${minimal()}`;
    assert.ok(issuesOf(open)[0]?.startsWith("settings.server.token: required"));
    const placeholder = `projects:\n  - name: a\n    repo: o/a\n    channels:\n      github: { platforms: [linux_amd64], assets: ["a_{verison}.tgz"] }\n`;
    assert.deepEqual(issuesOf(placeholder), ["projects[0].channels.github.assets[0]: unknown placeholder {verison}"]);
  });

  it("assets: [] needs checksums: null and no platforms, each error naming its field", () => {
    const gh = (block: string) => `projects:\n  - name: a\n    repo: o/a\n    channels:\n      github: ${block}\n`;
    assert.deepEqual(issuesOf(gh("{ assets: [] }")), [
      'projects[0].channels.github.checksums: must be null when assets is [] (a release without assets has no checksum file; "sha256sums.txt" would be looked for)',
    ]);
    assert.deepEqual(issuesOf(gh("{ assets: [], checksums: null, platforms: [linux_amd64] }")), [
      "projects[0].channels.github.platforms: a release without assets (assets: []) has no platforms; remove it",
    ]);
    const loaded = loadConfigText(gh("{ assets: [], checksums: null }"), "/x/monitor.yaml", "/x", { env: {} });
    assert.deepEqual(loaded.config.projects[0]?.channels.github, { assets: [], checksums: null });
    // A release with assets and no checksum file stays valid.
    loadConfigText(gh('{ assets: ["a-{version}.zip"], checksums: null }'), "/x/monitor.yaml", "/x", { env: {} });
  });

  it("reports YAML syntax errors", () => {
    const issues = issuesOf("projects: [\n  - name: x");
    assert.ok(issues[0]?.startsWith("syntax:"));
  });

  it("generates a JSON Schema that rejects unknown keys", () => {
    const schema = configJsonSchema();
    assert.equal(schema["additionalProperties"], false);
    assert.ok(JSON.stringify(schema).includes("download_hosts"));
  });
});

describe("settings.state (PostgreSQL for HA)", () => {
  const withState = (state: string) => `settings:\n  state:\n${state}\n${minimal()}`;

  it("defaults to SQLite in state_dir, with the lease timings ready", () => {
    const { config } = loadConfigText(minimal(), "/x/monitor.yaml", "/x", { env: {} });
    assert.deepEqual(config.settings.state, { lease_renew: "10s", lease_ttl: "30s" });
    assert.equal(config.settings.state_dir, ".monitor-state");
  });

  it("takes a postgres:// or postgresql:// URL and registers it, and its password, as secrets", () => {
    for (const url of ["postgres://monitor:pa%2Fss-w0rd@db.internal:5432/monitor", "postgresql://db/monitor"]) {
      const loaded = loadConfigText(withState(`    url: ${url}\n    lease_ttl: 20s`), "/x/monitor.yaml", "/x", {
        env: {},
      });
      assert.equal(loaded.config.settings.state.url, url);
      assert.equal(loaded.config.settings.state.lease_ttl, "20s");
      assert.equal(loaded.secrets.redact(`connecting to ${url} failed`), "connecting to [REDACTED] failed");
      if (url.includes("pa%2F")) {
        const said = loaded.secrets.redact(
          "password pa/ss-w0rd, pa%2Fss-w0rd; without it postgres://db.internal:5432/monitor",
        );
        assert.equal(said, "password [REDACTED], [REDACTED]; without it [REDACTED]");
      }
    }
    // The user name of a database URL is not a secret: redacting "postgres" would mangle every postgres:// URL.
    const loaded = loadConfigText(
      withState("    url: postgres://postgres:hunter2hunter2@db/monitor"),
      "/x/monitor.yaml",
      "/x",
      { env: {} },
    );
    assert.equal(loaded.secrets.redact("postgres://other/db"), "postgres://other/db");
  });

  it("an interpolated URL is a secret too", () => {
    const loaded = loadConfigText(withState("    url: ${DATABASE_URL}"), "/x/monitor.yaml", "/x", {
      env: { DATABASE_URL: "postgres://app@db.internal/monitor?sslmode=require" },
    });
    assert.equal(loaded.secrets.redact("url postgres://app@db.internal/monitor?sslmode=require"), "url [REDACTED]");
  });

  it("names the field of a URL that is not PostgreSQL, without echoing it", () => {
    for (const url of ["mysql://u:hunter2hunter2@h/db", "https://db.example/monitor", "not a url"]) {
      const issues = issuesOf(withState(`    url: "${url}"`));
      assert.deepEqual(issues, [
        "settings.state.url: must be a postgres:// or postgresql:// URL (postgres://user:password@host:5432/db)",
      ]);
    }
  });

  it("needs lease_ttl longer than lease_renew, and rejects unknown keys", () => {
    assert.deepEqual(issuesOf(withState("    lease_renew: 30s\n    lease_ttl: 30s")), [
      "settings.state.lease_ttl: must be longer than settings.state.lease_renew",
    ]);
    assert.deepEqual(issuesOf(withState('    lease_renew: "0"')), ["settings.state.lease_renew: must be more than 0"]);
    assert.deepEqual(issuesOf(withState("    dsn: x")), ["settings.state.dsn: unknown key"]);
  });
});
