import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { register as globalRegistry } from "prom-client";
import { STATUSES } from "../../src/drift/types.ts";
import { get, serve, type Served } from "./fixture.ts";
import { parsePrometheusText, sample, samples, type Family } from "./prom-parse.ts";

const FAMILIES = {
  release_monitor_channel_status: "gauge",
  release_monitor_project_status: "gauge",
  release_monitor_provenance_status: "gauge",
  release_monitor_release_info: "gauge",
  release_monitor_open_incidents: "gauge",
  release_monitor_channel_propagation_seconds: "histogram",
  release_monitor_http_requests_total: "counter",
  release_monitor_http_request_duration_seconds: "histogram",
  release_monitor_http_request_errors_total: "counter",
  release_monitor_alerts_sent_total: "counter",
  release_monitor_alerts_failed_total: "counter",
  release_monitor_outbox_depth: "gauge",
  release_monitor_cycles_total: "counter",
  release_monitor_cycle_duration_seconds: "histogram",
  release_monitor_last_successful_cycle_timestamp_seconds: "gauge",
} as const;

const CHANNELS = ["github", "crates", "npm", "pypi", "homebrew"] as const;

async function scrape(s: Served): Promise<Map<string, Family>> {
  const r = await get(`${s.url}/metrics`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(r.text);
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("/metrics: a healing release, scraped and parsed strictly", () => {
  let s: Served;
  let pypiHost: string;
  before(async () => {
    s = await serve({
      scenario: "healing",
      alerts: "    sinks:\n      - type: log",
    });
    pypiHost = new URL(s.sim.urls.pypi).host;
    // The heal is a minute away, so the first cycle sees the partial release whatever the load; then heal it.
    const first = await s.daemon.runCycleNow("plasmite");
    assert.equal(first.status, "drift");
    s.scenario.heal?.();
    await s.scenario.healed;
    const second = await s.daemon.runCycleNow("plasmite");
    assert.equal(second.status, "ok");
  });
  after(async () => {
    await s?.close();
  });

  it("declares exactly the documented families, each with HELP and TYPE", async () => {
    const families = await scrape(s);
    assert.deepEqual(Object.fromEntries([...families.values()].map((f) => [f.name, f.type])), FAMILIES);
    for (const f of families.values()) assert.ok(f.help && f.help.length > 10, `${f.name} has a HELP text`);
    assert.deepEqual(await globalRegistry.getMetricsAsJSON(), [], "nothing in prom-client's global registry");
  });

  it("channel and project status are one-hot over the five statuses", async () => {
    const families = await scrape(s);
    for (const channel of CHANNELS) {
      const values = STATUSES.map((status) =>
        sample(families, "release_monitor_channel_status", { project: "plasmite", channel, status }),
      );
      assert.deepEqual(values, [1, 0, 0, 0, 0], `${channel} is ok, and only ok`);
    }
    assert.equal(sample(families, "release_monitor_project_status", { project: "plasmite", status: "ok" }), 1);
    assert.equal(
      sample(families, "release_monitor_release_info", { project: "plasmite", tag: "v0.8.0", version: "0.8.0" }),
      1,
    );
    assert.equal(sample(families, "release_monitor_open_incidents", { project: "plasmite" }), 0);
  });

  it("provenance status is one-hot per channel: the report's provenance verdict (verified with the sim's root)", async () => {
    const families = await scrape(s);
    const report = s.store.latestReport("plasmite");
    assert.ok(report?.provenance, "the daemon's report has a provenance block");
    for (const channel of CHANNELS) {
      const values = STATUSES.map((status) =>
        sample(families, "release_monitor_provenance_status", { project: "plasmite", channel, status }),
      );
      assert.deepEqual(values, [1, 0, 0, 0, 0], `${channel}: provenance ok, and only ok`);
      assert.equal(report.provenance.channels.find((c) => c.channel === channel)?.status, "ok");
    }
    assert.equal(
      report.provenance.channels.find((c) => c.channel === "github")?.signature,
      "verified",
      "signatures verify offline against the sim's trusted root",
    );
  });

  it("propagation: one observation per channel when it first went live, about an hour after publication", async () => {
    const families = await scrape(s);
    for (const channel of CHANNELS) {
      assert.equal(sample(families, "release_monitor_channel_propagation_seconds_count", { channel }), 1, channel);
      const seconds = sample(families, "release_monitor_channel_propagation_seconds_sum", { channel });
      assert.ok(seconds >= 3600 && seconds < 3600 + 120, `${channel}: ${seconds}`);
      assert.equal(sample(families, "release_monitor_channel_propagation_seconds_bucket", { channel, le: "1800" }), 0);
      assert.equal(sample(families, "release_monitor_channel_propagation_seconds_bucket", { channel, le: "7200" }), 1);
    }
    // The healed channels went live in the second cycle, later than github and crates (first cycle).
    const sum = (channel: string) => sample(families, "release_monitor_channel_propagation_seconds_sum", { channel });
    assert.ok(sum("npm") > sum("github"));
  });

  it("outbound requests by host and status (304s included), with durations consistent with the counts", async () => {
    const families = await scrape(s);
    const requests = samples(families, "release_monitor_http_requests_total");
    const statuses = new Set(requests.map((r) => r.labels["status"]));
    for (const st of ["200", "404", "304"])
      assert.ok(statuses.has(st), `a ${st} was counted (${[...statuses].join(",")})`);
    const hosts = new Set(requests.map((r) => r.labels["host"]));
    for (const url of [s.sim.urls.npm, s.sim.urls.pypi, s.sim.urls.cratesApi, s.sim.urls.githubApi]) {
      assert.ok(hosts.has(new URL(url).host), `requests to ${url}`);
    }
    for (const host of hosts) {
      const total = requests.filter((r) => r.labels["host"] === host).reduce((a, r) => a + r.value, 0);
      assert.equal(
        sample(families, "release_monitor_http_request_duration_seconds_count", { host: host! }),
        total,
        host,
      );
    }
  });

  it("cycles, cycle durations and the last successful cycle", async () => {
    const families = await scrape(s);
    assert.equal(sample(families, "release_monitor_cycles_total", { outcome: "ok" }), 2);
    assert.equal(sample(families, "release_monitor_cycles_total", { outcome: "error" }), 0);
    assert.equal(sample(families, "release_monitor_cycle_duration_seconds_count", { project: "plasmite" }), 2);
    const last = sample(families, "release_monitor_last_successful_cycle_timestamp_seconds");
    assert.ok(Math.abs(Date.now() / 1000 - last) < 60, String(last));
  });

  it("alerts sent and failed per sink, and the outbox depth", async () => {
    // Three incidents opened in the first cycle and resolved in the second: six messages for the log sink.
    await until(
      async () => sample(await scrape(s), "release_monitor_alerts_sent_total", { sink: "log" }) === 6,
      "six log-sink deliveries",
    );
    const families = await scrape(s);
    assert.equal(sample(families, "release_monitor_alerts_failed_total", { sink: "log", outcome: "retry" }), 0);
    assert.equal(sample(families, "release_monitor_alerts_failed_total", { sink: "log", outcome: "dead" }), 0);
    assert.equal(sample(families, "release_monitor_outbox_depth", { sink: "log" }), 0);
  });

  it("a registry answering 503 shows up as errors for its host and an unknown channel", async () => {
    const fault = s.sim.world.faults.add({ service: "pypi", kind: "503" });
    try {
      const report = await s.daemon.runCycleNow("plasmite");
      assert.equal(report.channels.find((c) => c.channel === "pypi")?.status, "unknown");
    } finally {
      fault.remove();
    }
    const families = await scrape(s);
    assert.ok(sample(families, "release_monitor_http_request_errors_total", { host: pypiHost, code: "http_503" }) >= 1);
    assert.ok(sample(families, "release_monitor_http_requests_total", { host: pypiHost, status: "503" }) >= 1);
    assert.equal(
      sample(families, "release_monitor_channel_status", { project: "plasmite", channel: "pypi", status: "unknown" }),
      1,
    );
    assert.equal(
      sample(families, "release_monitor_channel_status", { project: "plasmite", channel: "pypi", status: "ok" }),
      0,
    );
    assert.equal(
      samples(families, "release_monitor_http_request_errors_total", { host: new URL(s.sim.urls.npm).host }).length,
      0,
    );
  });
});
