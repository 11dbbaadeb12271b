import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { AppError } from "../../src/errors.ts";
import { createHttpClient, DEFAULT_HTTP_SETTINGS } from "../../src/http/client.ts";
import { githubClientFactory } from "../../src/http/github.ts";
import { silentLogger } from "../../src/log.ts";
import type { HomebrewPlan } from "../../src/channels/homebrew/types.ts";
import type { ReleasePlan } from "../../src/plan/types.ts";
import { FORMULA_MAX_BYTES, homebrewProbe } from "../../src/channels/homebrew/probe.ts";
import { contentsText } from "../../src/http/github-contents.ts";

const formulaText = (data: unknown, where: string) => contentsText(data, where, FORMULA_MAX_BYTES);
import type { Evidence } from "../../src/http/evidence.ts";
import type { HomebrewObservation } from "../../src/channels/homebrew/types.ts";
import type { ProbeContext } from "../../src/probes/types.ts";
import { SecretRegistry } from "../../src/secrets.ts";
import { startFixtureServer, type FixtureResponse, type FixtureServer } from "../helpers/fixture-server.ts";

// ---------------------------------------------------------------- recorded fixtures (test/fixtures/*/README.md)

const github = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/github/${name}`, import.meta.url), "utf8"));
const formula = (name: string): string =>
  readFileSync(new URL(`../fixtures/homebrew/${name}`, import.meta.url), "utf8");

/** nock recording: `rawHeaders` is a flat [name, value, …] list. */
function recordedRawHeaders(): Record<string, string> {
  const rec = (github("get-content.raw-fixture.json") as { path: string; rawHeaders: string[] }[])[1];
  assert.ok(rec);
  assert.ok(rec.path.endsWith("/contents/README.md"));
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rec.rawHeaders.length; i += 2) {
    const k = (rec.rawHeaders[i] ?? "").toLowerCase();
    if (!["content-length", "connection", "vary"].includes(k)) out[k] = rec.rawHeaders[i + 1] ?? "";
  }
  return out;
}
/** Recorded headers of a raw contents answer (`application/vnd.github.v3.raw; charset=utf-8`, ETag, rate limit). */
const RAW_HEADERS = recordedRawHeaders();
const CONTENT_FILE = github("content-file-response-if-content-is-a-file.json") as Record<string, unknown>;
const NOT_FOUND = (github("Artifact.testGetNonexistentArtifact.json") as { response_body: unknown }[])[1]
  ?.response_body;

const PLASMITE_080 = formula("sandover-tap_plasmite_0.8.0_handwritten.rb");
const TEMPLATE = formula("sandover-plasmite-repo_homebrew-template_0.1.0_placeholder-sha.rb");
const TOKEN = "t0ken-value";
const ROUTE = "GET /repos/sandover/homebrew-tap/contents/Formula/plasmite.rb";

function homebrewPlan(overrides: Partial<HomebrewPlan> = {}): ReleasePlan {
  return {
    project: "plasmite",
    repo: "sandover/plasmite",
    tag: "v0.8.0",
    version: "0.8.0",
    expect_latest: "auto",
    grace_ms: { github: 0, crates: 0, npm: 0, pypi: 0, homebrew: 0 },
    github: null,
    crates: null,
    npm: null,
    pypi: null,
    homebrew: {
      tap_owner: "sandover",
      tap_repo: "homebrew-tap",
      path: "Formula/plasmite.rb",
      ref: "main",
      version: "0.8.0",
      artifacts: [],
      ...overrides,
    },
  };
}

async function observe(
  api: FixtureServer,
  plan: ReleasePlan,
): Promise<{ result: HomebrewObservation | null; error: unknown; evidence: Evidence[] }> {
  const secrets = new SecretRegistry();
  secrets.add(TOKEN);
  const base = createHttpClient({ settings: { ...DEFAULT_HTTP_SETTINGS, retries: 1, retry_base_ms: 1 }, secrets });
  const evidence: Evidence[] = [];
  const http = base.recording(evidence);
  const ctx: ProbeContext = {
    endpoints: {},
    http,
    octokit: githubClientFactory({ api_url: api.url, token: TOKEN, user_agent: "release-monitor-test" })(http),
    log: silentLogger(),
    signal: new AbortController().signal,
    deep: false,
  };
  try {
    return { result: await homebrewProbe.observe(plan, ctx), error: null, evidence };
  } catch (error) {
    return { result: null, error, evidence };
  } finally {
    await base.close();
  }
}

function expectAppError(error: unknown, code: string, pattern?: RegExp): void {
  assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (pattern) assert.match(error.message, pattern);
  assert.ok(!error.message.includes(TOKEN));
}

/** The contents API's base64: a newline every 60 characters. */
const base64Lines = (text: string): string =>
  (
    Buffer.from(text)
      .toString("base64")
      .match(/.{1,60}/g) ?? []
  ).join("\n") + "\n";

describe("homebrewProbe (contract, loopback fake)", () => {
  const servers: FixtureServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const serve = async (response: FixtureResponse | FixtureResponse[]): Promise<FixtureServer> => {
    const api = await startFixtureServer({ [ROUTE]: response });
    servers.push(api);
    return api;
  };

  it("reads the formula raw at the ref and parses it", async () => {
    const api = await serve({ status: 200, headers: RAW_HEADERS, body: PLASMITE_080 });
    const { result, error, evidence } = await observe(api, homebrewPlan());
    assert.equal(error, null);
    assert.ok(result?.formula);
    assert.equal(result.channel, "homebrew");
    assert.equal(result.tap, "sandover/homebrew-tap");
    assert.equal(result.path, "Formula/plasmite.rb");
    assert.equal(result.ref, "main");
    assert.equal(result.found, true);
    assert.equal(result.formula.version, "0.8.0");
    assert.deepEqual(
      result.formula.artifacts.map((a) => `${a.context.os}/${a.context.cpu} ${a.url.split("/").pop()}`),
      [
        "macos/arm plasmite_0.8.0_darwin_arm64.tar.gz",
        "macos/intel plasmite_0.8.0_darwin_amd64.tar.gz",
        "linux/intel plasmite_0.8.0_linux_amd64.tar.gz",
      ],
    );
    assert.deepEqual(result.formula.unsupported, [{ os: "linux", cpu: "arm" }]);

    const [req] = api.requests;
    assert.ok(req);
    assert.equal(req.headers.accept, "application/vnd.github.v3.raw");
    assert.equal(req.headers.authorization, `token ${TOKEN}`);
    assert.equal(req.query.get("ref"), "main");
    assert.deepEqual(api.unmatched, []);
    assert.equal(evidence.length, 1);
    assert.equal(evidence[0]?.status, 200);
    assert.equal(
      decodeURIComponent(evidence[0]?.url ?? ""),
      `${api.url}/repos/sandover/homebrew-tap/contents/Formula/plasmite.rb?ref=main`,
    );
  });

  it("reads raw bytes without a charset, and the JSON file object when the raw type is ignored", async () => {
    const cases: [string, FixtureResponse][] = [
      [
        "raw, no charset",
        { status: 200, headers: { "content-type": "application/vnd.github.raw" }, body: PLASMITE_080 },
      ],
      [
        "JSON file object",
        { status: 200, body: { ...CONTENT_FILE, size: PLASMITE_080.length, content: base64Lines(PLASMITE_080) } },
      ],
    ];
    for (const [label, response] of cases) {
      const api = await serve(response);
      const { result, error } = await observe(api, homebrewPlan());
      assert.equal(error, null, label);
      assert.equal(result?.formula?.artifacts.length, 3, label);
      assert.equal(result?.formula?.class_name, "Plasmite", label);
    }
  });

  it("a missing formula or ref (404) is found: false", async () => {
    const api = await serve({ status: 404, body: NOT_FOUND });
    const { result, error, evidence } = await observe(api, homebrewPlan({ ref: "no-such-branch" }));
    assert.equal(error, null);
    assert.deepEqual(result, {
      channel: "homebrew",
      tap: "sandover/homebrew-tap",
      path: "Formula/plasmite.rb",
      ref: "no-such-branch",
      found: false,
      formula: null,
    });
    assert.deepEqual(
      evidence.map((e) => e.status),
      [404],
    );
  });

  it("a formula with placeholders is data: parsed with warnings, never an error", async () => {
    const api = await serve({ status: 200, headers: RAW_HEADERS, body: TEMPLATE });
    const { result, error } = await observe(api, homebrewPlan());
    assert.equal(error, null);
    assert.equal(result?.formula?.version, "0.1.0");
    assert.ok(result?.formula?.artifacts.some((a) => a.sha256 === "PLACEHOLDER_LINUX_ARM64_SHA256"));
    assert.equal(result?.formula?.warnings.length, 1);
  });

  it("failures we cannot interpret throw an AppError (channel unknown)", async () => {
    const cases: [string, FixtureResponse | FixtureResponse[], string, RegExp][] = [
      ["500 after a retry", { status: 500, body: { message: "Server Error" } }, "E_HTTP_STATUS", /HTTP 500/],
      [
        "403 without rate limiting",
        { status: 403, body: { message: "Resource not accessible by integration" } },
        "E_PROBE_FAILED",
        /HTTP 403/,
      ],
      [
        "a directory instead of a file",
        {
          status: 200,
          body: [
            { ...CONTENT_FILE, type: "file" },
            { ...CONTENT_FILE, type: "dir" },
          ],
        },
        "E_UPSTREAM_MALFORMED",
        /is a directory/,
      ],
      [
        "a symlink object",
        { status: 200, body: { ...CONTENT_FILE, type: "symlink" } },
        "E_UPSTREAM_MALFORMED",
        /is a symlink/,
      ],
      [
        "a file object without inline content (1–100 MB files)",
        { status: 200, body: { ...CONTENT_FILE, encoding: "none", content: "" } },
        "E_UPSTREAM_MALFORMED",
        /encoding none/,
      ],
      [
        "over the formula size cap",
        { status: 200, headers: RAW_HEADERS, body: `# ${"x".repeat(FORMULA_MAX_BYTES)}\n` },
        "E_HTTP_TOO_LARGE",
        /byte cap/,
      ],
      [
        "a JSON answer of another shape",
        { status: 200, body: { message: "hello" } },
        "E_UPSTREAM_MALFORMED",
        /neither raw text nor a file/,
      ],
    ];
    for (const [label, response, code, pattern] of cases) {
      const api = await serve(response);
      const { error, evidence } = await observe(api, homebrewPlan());
      expectAppError(error, code, pattern);
      assert.ok(evidence.length > 0, label);
      if (code === "E_HTTP_STATUS") assert.equal(api.requests.length, 2, `${label}: one retry`);
    }
  });

  it("without a homebrew plan the probe refuses instead of guessing", async () => {
    const api = await serve({ status: 200, body: PLASMITE_080 });
    const { error } = await observe(api, { ...homebrewPlan(), homebrew: null });
    expectAppError(error, "E_PROBE_FAILED", /no homebrew channel/);
    assert.equal(api.requests.length, 0);
  });
});

describe("formulaText", () => {
  const where = "sandover/homebrew-tap:Formula/plasmite.rb@main";
  const bytes = Buffer.from(PLASMITE_080);

  it("accepts every shape Octokit hands back for a file", () => {
    const shapes: [string, unknown][] = [
      ["string", PLASMITE_080],
      ["ArrayBuffer", bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)],
      ["Uint8Array view", new Uint8Array(bytes)],
      ["JSON file object", { ...CONTENT_FILE, content: base64Lines(PLASMITE_080) }],
    ];
    for (const [label, data] of shapes) assert.equal(formulaText(data, where), PLASMITE_080, label);
  });

  it("refuses anything else with a message naming the file", () => {
    for (const data of [null, 42, [], { ...CONTENT_FILE, type: "submodule" }]) {
      assert.throws(
        () => formulaText(data, where),
        (err: unknown) => err instanceof AppError && err.code === "E_UPSTREAM_MALFORMED" && err.message.includes(where),
      );
    }
    assert.throws(
      () => formulaText({ ...CONTENT_FILE, size: FORMULA_MAX_BYTES + 1 }, where),
      (err: unknown) => err instanceof AppError && err.code === "E_HTTP_TOO_LARGE",
    );
  });
});
