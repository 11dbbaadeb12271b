/**
 * The simulated registries in their own process, so the measured client never shares a CPU's event loop with the
 * servers. Usage: `node bench/sim-server.ts '<SimServerOptions JSON>'`. Prints one JSON line (SimServerReady) on
 * stdout once every service listens, then serves a small control API on loopback (not counted in the sim's stats):
 *
 *   GET  /stats            -> SimStatsSnapshot
 *   POST /reset            -> zero the counters (and the request log)
 *   POST /latency?ms=N     -> per-request latency from now on
 *   POST /close            -> stop the services and exit
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { applyScenario, SERVICES, startSim, World, type ServiceName, type Sim } from "../src/sim/index.ts";
import { prewarmProvenance } from "../src/sim/services/provenance.ts";
import type { SimServerOptions, SimServerReady, SimStatsSnapshot } from "./lib/sim-protocol.ts";
import { benchProjectSpec, BENCH_VERSION } from "./lib/worlds.ts";

const HOUR = 3_600_000;

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? "{}") as SimServerOptions;
  const started = performance.now();
  const world = new World({
    ...(options.githubRateLimit ? { githubRateLimit: { authenticated: options.githubRateLimit } } : {}),
  });
  const sim = await startSim({
    world,
    latencyMs: 0,
    githubToken: options.token,
    logLimit: options.logLimit ?? 1000,
  });
  populate(sim, options);
  // Scale worlds: sign every attestation and hash every file now, before the clock (a registry has them at rest).
  const prewarmed = options.world.kind === "scale" ? await prewarmProvenance(sim.world) : { bundles: 0 };
  sim.setLatency(options.latencyMs);
  sim.stats.reset();
  cpuAtReset = cpuMs();
  const control = await startControl(sim, options);
  const ready: SimServerReady = {
    overlay: sim.settingsOverlay(),
    urls: sim.urls,
    control,
    setup_ms: Math.round(performance.now() - started),
    prewarmed_bundles: prewarmed.bundles,
    pid: process.pid,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

function populate(sim: Sim, options: SimServerOptions): void {
  const w = options.world;
  const twoDaysAgo = sim.world.now() - 48 * HOUR;
  switch (w.kind) {
    case "plasmite":
      // 0.7.2 26 h ago, 0.8.0 2 h ago, on every channel (tag annotated, checksums file, formula aligned).
      applyScenario(sim.world, "clean");
      return;
    case "deep":
      sim.world.addProject({
        name: "big",
        repo: "bench/big",
        githubPlatforms: ["linux_amd64"],
        assetBytes: w.assetBytes,
        crate: null,
        npm: null,
        pypi: null,
        tap: null,
        targetsManifest: null,
      });
      sim.world.publish("big", BENCH_VERSION, { publishedAt: twoDaysAgo });
      return;
    case "scale":
      for (let i = 0; i < w.projects; i++) {
        const spec = benchProjectSpec(i);
        sim.world.addProject(spec);
        sim.world.publish(spec.name, BENCH_VERSION, { publishedAt: twoDaysAgo - i * 1000 });
      }
      return;
  }
}

/** CPU time of this process (user + system), ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return Math.round((u.user + u.system) / 1000);
}
let cpuAtReset = 0;

function snapshot(sim: Sim): SimStatsSnapshot {
  const s = sim.stats;
  const services = {} as SimStatsSnapshot["services"];
  for (const name of SERVICES) {
    const c = s.services[name];
    services[name] = { requests: c.requests, not_modified: c.notModified, by_status: { ...c.byStatus } };
  }
  // crates.io's API policy: at most one request per second. Spacing between consecutive arrivals, from the log.
  const arrivals = s.log
    .filter((e) => e.service === "crates-api")
    .map((e) => e.at)
    .sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < arrivals.length; i++) gaps.push((arrivals[i] as number) - (arrivals[i - 1] as number));
  // The GitHub API's own time per request, arrival to the end of the answer (the latency plus the sim's timer and
  // its event loop): with 8 lanes, its sum over 8 is the floor of GitHub's requests as this sim serves them.
  const ghTimes = s.log
    .filter((e) => e.service === "github-api")
    .map((e) => e.durationMs)
    .sort((a, b) => a - b);
  const at = (q: number) => ghTimes[Math.min(ghTimes.length - 1, Math.floor(q * ghTimes.length))] ?? 0;
  const ghTotal = ghTimes.reduce((a, b) => a + b, 0);
  const rateLimited = (name: ServiceName): number =>
    (s.services[name].byStatus[403] ?? 0) + (s.services[name].byStatus[429] ?? 0);
  return {
    services,
    total: s.total(),
    github_billable: s.githubBillable,
    cpu_ms: cpuMs() - cpuAtReset,
    peak_concurrency: { ...s.peakConcurrency },
    crates_api_spacing: {
      requests: arrivals.length,
      logged: arrivals.length === s.services["crates-api"].requests,
      min_gap_ms: gaps.length ? Math.min(...gaps) : null,
      under_1s: gaps.filter((g) => g < 1000).length,
    },
    github_api_time_ms:
      ghTimes.length === s.services["github-api"].requests && ghTimes.length > 0
        ? { total: ghTotal, mean: Math.round((ghTotal / ghTimes.length) * 100) / 100, p50: at(0.5), p99: at(0.99) }
        : null,
    github_rate_limited: rateLimited("github-api"),
    sim_errors: sim.errors.length,
  };
}

function startControl(sim: Sim, options: SimServerOptions): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://control");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && url.pathname === "/stats") return reply(200, snapshot(sim));
    if (req.method === "POST" && url.pathname === "/reset") {
      sim.stats.reset();
      cpuAtReset = cpuMs();
      return reply(200, { ok: true });
    }
    if (req.method === "POST" && url.pathname === "/latency") {
      const ms = Number(url.searchParams.get("ms"));
      if (!Number.isFinite(ms) || ms < 0) return reply(400, { error: "ms must be a non-negative number" });
      sim.setLatency(ms);
      return reply(200, { ok: true, latency_ms: ms });
    }
    if (req.method === "POST" && url.pathname === "/close") {
      reply(200, { ok: true });
      void sim.close().then(() => process.exit(0));
      return;
    }
    reply(404, { error: "unknown control route", options: options.world.kind });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

process.on("SIGTERM", () => process.exit(0));
// The parent holds our stdin: when it goes away (crash, Ctrl-C), so do we.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
await main();
