/**
 * The github-issue sink on its own against the simulated GitHub on loopback, through the runtime's HTTP client and
 * Octokit (as the daemon builds them): how GitHub's refusals become SinkErrors (retryable or not, the stable
 * reason, what to fix) without the token anywhere. The lifecycle through the daemon is test/daemon/github-issue.test.ts.
 */
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { inspect } from "node:util";
import { createGithubIssueSink, githubIssueSinkIssues } from "../../src/alerts/sinks/github-issue/github-issue-sink.ts";
import { SinkConfig } from "../../src/alerts/sinks/registry.ts";
import { SinkError, type Sink } from "../../src/alerts/types.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { createRuntime, type Runtime } from "../../src/runtime/runtime.ts";
import { plasmiteProject, startSim, type FaultKind, type Sim } from "../../src/sim/index.ts";
import { captureLogger, makeAlert, sinkContext } from "../fakes/alerts.ts";

const TOKEN = "ghp_issueSinkUnitToken0123456789ab";
const REPO = "sandover/plasmite";

let sim: Sim;
let runtime: Runtime;
let sink: Sink;
let logLines: string[];

before(async () => {
  sim = await startSim({ githubToken: TOKEN });
  sim.world.addProject(plasmiteProject());
  const config = {
    version: 1,
    settings: { ...sim.settingsOverlay(), http: { retries: 0, request_timeout: "5s" } },
    projects: [{ name: "plasmite", repo: REPO, channels: { npm: { package: "plasmite" } } }],
  };
  const loaded = loadConfigText(JSON.stringify(config), "/nonexistent/monitor.json", "/nonexistent", { env: {} });
  runtime = createRuntime(loaded, { logLevel: "silent" });
  const parsed = SinkConfig.parse({ type: "github-issue", min_interval: "0" });
  if (parsed.type !== "github-issue") assert.fail("not a github-issue config");
  const captured = captureLogger(loaded.secrets);
  logLines = captured.lines;
  sink = createGithubIssueSink(parsed, {
    log: captured.log,
    secrets: loaded.secrets,
    octokit: runtime.github(runtime.http),
    projectRepos: new Map([["plasmite", REPO]]),
  });
});

after(async () => {
  await runtime.close();
  await sim.close();
});

async function failWith(kind: FaultKind, extra: { resetAfterSec?: number; retryAfterSec?: number } = {}) {
  const fault = sim.world.faults.add({
    service: "github-api",
    path: `/repos/${REPO}/issues`,
    kind,
    times: 1,
    ...extra,
  });
  try {
    await sink.deliver(makeAlert("open"), sinkContext(undefined, captureLogger(runtime.loaded.secrets).log));
  } catch (err) {
    assert.ok(err instanceof SinkError, `expected a SinkError, got ${inspect(err)}`);
    assert.equal(fault.hits(), 1);
    const text = `${err.message}\n${inspect(err, { depth: 10, showHidden: true })}`;
    assert.ok(!text.includes(TOKEN), "the token is not in the error");
    return err;
  } finally {
    fault.remove();
  }
  assert.fail("deliver should have failed");
}

describe("github-issue sink errors (sim GitHub, the runtime's Octokit)", () => {
  it("401 Bad credentials: retryable, reason E_HTTP_AUTH, names the token setting", async () => {
    const err = await failWith("401");
    assert.equal(err.retryable, true);
    assert.equal(err.code, "E_SINK_RETRYABLE");
    assert.equal(err.reason, "E_HTTP_AUTH");
    assert.match(
      err.message,
      /^github-issue sink "github-issue": list issues by label: HTTP 401 Bad credentials: GitHub refused the token \(settings\.github\.token or \$GITHUB_TOKEN\)/,
    );
  });

  it("403 without the permission: retryable, reason E_HTTP_AUTH, says issues:write on which repo", async () => {
    const err = await failWith("403");
    assert.equal(err.retryable, true);
    assert.equal(err.reason, "E_HTTP_AUTH");
    assert.match(err.message, /HTTP 403 Resource not accessible by personal access token/);
    assert.match(err.message, /may not write issues on sandover\/plasmite; it needs issues:write$/);
  });

  it("403 rate limit: reason E_HTTP_RATE_LIMITED, waits for GitHub's reset", async () => {
    const err = await failWith("403-ratelimit", { resetAfterSec: 30 });
    assert.equal(err.retryable, true);
    assert.equal(err.reason, "E_HTTP_RATE_LIMITED");
    assert.ok((err.retryAfterMs ?? 0) >= 20_000, `waits for the reset (${err.retryAfterMs} ms)`);
  });

  it("429 secondary limit with Retry-After: the outbox waits that long", async () => {
    const err = await failWith("429", { retryAfterSec: 7 });
    assert.equal(err.reason, "E_HTTP_RATE_LIMITED");
    assert.equal(err.retryAfterMs, 7_000);
  });

  it("502: retryable, reason E_HTTP_STATUS, no URL in the text", async () => {
    const err = await failWith("502");
    assert.equal(err.retryable, true);
    assert.equal(err.reason, "E_HTTP_STATUS");
    assert.equal(err.message, 'github-issue sink "github-issue": list issues by label: HTTP 502 (GitHub server error)');
  });

  it("connection reset: retryable with the transport's code", async () => {
    const err = await failWith("reset");
    assert.equal(err.retryable, true);
    assert.equal(err.reason, "E_HTTP_NETWORK");
  });

  it("after the failures, a clean delivery files the issue; nothing logged the token", async () => {
    await sink.deliver(makeAlert("open"), sinkContext());
    const issues = [...(sim.world.github.repo("sandover", "plasmite")?.issues.values() ?? [])];
    assert.equal(issues.length, 1);
    assert.ok(!logLines.join("").includes(TOKEN));
  });
});

describe("github-issue start-up check", () => {
  const config = SinkConfig.parse({ type: "github-issue", repo: "acme/tracking" });
  it("no token: one issue naming the entry, the repo and the token setting", () => {
    if (config.type !== "github-issue") assert.fail("not a github-issue config");
    assert.deepEqual(githubIssueSinkIssues(config, { githubToken: false }, "settings.alerts.sinks[2]"), [
      'settings.alerts.sinks[2] (type github-issue, name "github-issue"): needs a GitHub token that can write issues on acme/tracking (issues:write); set settings.github.token or $GITHUB_TOKEN',
    ]);
  });
  it("a token: nothing to report", () => {
    if (config.type !== "github-issue") assert.fail("not a github-issue config");
    assert.deepEqual(githubIssueSinkIssues(config, { githubToken: true }, "settings.alerts.sinks[0]"), []);
  });
});
