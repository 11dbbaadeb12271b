import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BUILTIN_CHANNELS, createRegistry, probeEndpoints } from "../../src/channels/registry.ts";
import { loadConfigText } from "../../src/config/load.ts";
import { configJsonSchema } from "../../src/config/schema.ts";
import { ConfigError } from "../../src/errors.ts";
import { buildPlan } from "../../src/plan/build-plan.ts";
import { assembleReport } from "../../src/report/assemble.ts";
import { jsonReporter } from "../../src/report/json.ts";
import { markdownReporter } from "../../src/report/markdown.ts";
import { textReporter } from "../../src/report/text.ts";
import { parseChannelFlag } from "../../src/cli/channel-flag.ts";
import { UsageError } from "../../src/errors.ts";
import type { DaemonStatus } from "../../src/daemon/daemon.ts";
import { silentLogger } from "../../src/log.ts";
import type { Report } from "../../src/report/types.ts";
import { startServer, type DaemonView } from "../../src/server/index.ts";
import type { StateStore } from "../../src/state/types.ts";
import { parsePrometheusText, sample } from "../server/prom-parse.ts";
import { THROWAWAY_REGISTRY, throwaway } from "./fixtures/throwaway-channel.ts";

/** A channel registered from a test fixture, with no file under src/ edited, reaches every phase. */
const registry = createRegistry([...BUILTIN_CHANNELS, throwaway]);

const CONFIG = `
settings:
  throwaway:
    url: http://127.0.0.1:9/reg/
projects:
  - name: demo
    repo: acme/demo
    channels:
      throwaway:
        package: demo
`;

const load = (text: string) => loadConfigText(text, "<inline>.yaml", "/tmp", { registry, env: {} });

/** The config's project verified against the fixture registry (which holds only 1.1.0): one report@1. */
async function throwawayReport(): Promise<{ loaded: ReturnType<typeof load>; report: Report }> {
  const loaded = load(CONFIG);
  const project = loaded.config.projects[0];
  assert.ok(project);
  const plan = buildPlan(
    { project, settings: loaded.config.settings, tag: "v1.2.0", expectLatest: false, manifest: null },
    registry,
  );
  const endpoints = probeEndpoints(registry, loaded.config.settings, loaded);
  THROWAWAY_REGISTRY.set("demo", ["1.1.0"]);
  const observation = await throwaway.probe.observe(plan, { endpoints } as never);
  const result = { channel: "throwaway", observation, error: null, evidence: [], duration_ms: 1 };
  const report = assembleReport(plan, { throwaway: result } as never, new Date("2026-01-01T00:00:00Z"), 1, registry);
  return { loaded, report };
}

/** A daemon that has checked the project once (that report) and a store holding it: what the server reads. */
function checkedOnce(report: Report): { daemon: DaemonView; store: StateStore } {
  const status: DaemonStatus = {
    started_at: report.checked_at,
    running: true,
    last_successful_cycle_at: report.checked_at,
    degraded: [],
    outbox_depth: {},
    projects: [
      {
        project: report.project,
        repo: "acme/demo",
        schedule: "0 0 1 1 *",
        hot: false,
        running: false,
        tag: report.tag,
        status: report.status,
        last_check_at: report.checked_at,
        last_success_at: report.checked_at,
        next_check_at: null,
        last_duration_ms: 1,
        last_error: null,
        report,
        open_incidents: [],
      },
    ],
  };
  const daemon: DaemonView = {
    status: () => Promise.resolve(status),
    runCycleNow: () => Promise.resolve(report),
    metrics: () => ({ cycles: {} as never, alerts: {}, last_successful_cycle_at: report.checked_at }),
    onCycle: () => () => {},
    onExchange: () => () => {},
    onDelivery: () => () => {},
  };
  const none = () => Promise.resolve([]);
  const store = {
    latestReports: () => Promise.resolve([report]),
    latestReport: () => Promise.resolve(report),
    channelStates: none,
    channelHistory: none,
    release: () => Promise.resolve(null),
    incidents: none,
    openIncidents: none,
    cycles: none,
    projects: none,
    outboxDepth: () => Promise.resolve({}),
  };
  return { daemon, store: store as unknown as StateStore };
}

describe("a throwaway channel from a test fixture", () => {
  it("config: a config using it parses (channels.<id> and settings.<id>)", () => {
    const loaded = load(CONFIG);
    const project = loaded.config.projects[0];
    assert.deepEqual((project?.channels as Record<string, unknown>)["throwaway"], { package: "demo" });
    assert.deepEqual((loaded.config.settings as unknown as Record<string, unknown>)["throwaway"], {
      url: "http://127.0.0.1:9/reg/",
    });
  });

  it("config: a bad field in it gets an error naming the path", () => {
    const bad = (text: string): readonly string[] => {
      try {
        load(text);
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.issues;
      }
      assert.fail("the config loaded");
    };
    const issues = bad(CONFIG.replace("package: demo", "package: Demo9"));
    assert.ok(
      issues.some((i) => i.includes("projects[0].channels.throwaway.package") && i.includes("lower-case letters")),
      issues.join("\n"),
    );
    const unknownKey = bad(CONFIG.replace("url: http://127.0.0.1:9/reg/", "urll: x"));
    assert.ok(
      unknownKey.some((i) => i.includes("settings.throwaway") && i.includes("urll")),
      unknownKey.join("\n"),
    );
  });

  it("config: the JSON Schema has its channel block and settings block; the built-in one does not", () => {
    const text = JSON.stringify(configJsonSchema(registry.channels));
    assert.match(text, /"throwaway"/);
    assert.doesNotMatch(JSON.stringify(configJsonSchema()), /"throwaway"/);
  });

  it("plan, probe endpoints, and the text, JSON and Markdown reports", async () => {
    const loaded = load(CONFIG);
    const project = loaded.config.projects[0];
    assert.ok(project);
    const plan = buildPlan(
      { project, settings: loaded.config.settings, tag: "v1.2.0", expectLatest: false, manifest: null },
      registry,
    );
    assert.deepEqual((plan as unknown as Record<string, unknown>)["throwaway"], { package: "demo" });

    const endpoints = probeEndpoints(registry, loaded.config.settings, loaded);
    assert.deepEqual(endpoints["throwaway"], { base: "http://127.0.0.1:9/reg" });

    THROWAWAY_REGISTRY.set("demo", ["1.1.0"]);
    const observation = await throwaway.probe.observe(plan, { endpoints } as never);
    const result = { channel: "throwaway", observation, error: null, evidence: [], duration_ms: 1 };
    const report = assembleReport(plan, { throwaway: result } as never, new Date("2026-01-01T00:00:00Z"), 1, registry);
    const row = report.channels.find((c) => (c.channel as string) === "throwaway");
    assert.ok(row, "the report has a throwaway row");
    assert.deepEqual(row.observed, { base: "http://127.0.0.1:9/reg", versions: ["1.1.0"] });
    assert.ok(row.findings.some((f) => f.code === "version-missing"));

    const json = JSON.parse(jsonReporter.render([report], { color: false, registry })) as {
      channels: { channel: string }[];
    };
    assert.ok(json.channels.some((c) => c.channel === "throwaway"));
    assert.match(textReporter.render([report], { color: false, registry }), /throwaway.*no 1\.2\.0/);
    assert.match(markdownReporter.render([report], { color: false, registry }), /throwaway|Throwaway/);
    assert.match(markdownReporter.render([report], { color: false, registry }), /no 1\.2\.0/);
  });

  it("status page: its column and cell; project page: its card; /metrics: its status (the real server)", async () => {
    const { loaded, report } = await throwawayReport();
    const row = report.channels.find((c) => (c.channel as string) === "throwaway");
    assert.ok(row);
    const { daemon, store } = checkedOnce(report);
    const server = await startServer({ daemon, store, loaded, log: silentLogger(), listen: "127.0.0.1:0", registry });
    try {
      const page = await (await fetch(`${server.url}/`)).text();
      assert.match(page, /<th>Throwaway<\/th>/, "the status page has its column");
      assert.match(
        page,
        new RegExp(`<td data-label="Throwaway" class="cell-throwaway"><div><span class="st st-${row.status}">`),
      );
      const detail = await (await fetch(`${server.url}/projects/demo`)).text();
      assert.match(detail, /id="channel-throwaway"/);
      assert.match(detail, /no 1\.2\.0/, "the project page shows its summary line");
      const metrics = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
      const labels = { project: "demo", channel: "throwaway" };
      assert.equal(sample(metrics, "release_monitor_channel_status", { ...labels, status: row.status }), 1);
      assert.equal(sample(metrics, "release_monitor_channel_status", { ...labels, status: "ok" }), 0);
    } finally {
      await server.close();
    }
  });

  it("--channel accepts it with the registry and names it in the error of a bad value", () => {
    assert.deepEqual(parseChannelFlag(["throwaway", "npm"], registry), ["throwaway", "npm"]);
    assert.throws(
      () => parseChannelFlag(["throwawy"], registry),
      (err: unknown) => err instanceof UsageError && /one of .*throwaway/.test(err.message),
    );
    assert.throws(() => parseChannelFlag(["throwaway"], createRegistry(BUILTIN_CHANNELS)), UsageError);
  });
});
