/**
 * HA scene: a real PostgreSQL cluster (test/helpers/postgres.ts), the simulated registries in this process, a
 * fake Slack receiver on loopback, and `monitor watch` replicas as REAL child processes sharing one
 * settings.state.url. Each replica posts to its own webhook path (`${MONITOR_REPLICA_ID}` in the config), so the
 * receiver knows who delivered what. Everything waits on conditions with deadlines, never on fixed sleeps.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import pg from "pg";
import { stringify } from "yaml";
import { KIND_HEADER } from "../../src/alerts/sinks/slack/message.ts";
import type { AlertKind } from "../../src/alerts/types.ts";
import { startSim, type Sim } from "../../src/sim/index.ts";
import { startPostgres, type PostgresCluster } from "../helpers/postgres.ts";

const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
const MAIN = join(REPO_ROOT, "src", "cli", "main.ts");
const NODE_BIN_DIR = dirname(process.execPath);
const TOKEN = "ghp_haSceneToken0123456789";
const LABEL_TO_KIND = new Map(Object.entries(KIND_HEADER).map(([kind, h]) => [h.label, kind as AlertKind]));

export interface Delivery {
  /** The replica that posted it (from the webhook path). */
  replica: string;
  project: string;
  kind: AlertKind;
  /** Arrival (epoch ms, this host's clock, the same the database uses). */
  at: number;
}

/** A loopback Slack webhook receiver; `holdMs` delays each answer (deliveries in flight, to kill into). */
export class SlackReceiver {
  readonly deliveries: Delivery[] = [];
  /** Requests received and not answered yet. */
  inFlight: Delivery[] = [];
  holdMs = 0;
  url = "";
  readonly #server: Server;
  readonly #projects: readonly string[];

  constructor(projects: readonly string[]) {
    this.#projects = projects;
    this.#server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString("utf8")));
      req.on("end", () => {
        const replica = decodeURIComponent(req.url?.split("/").at(-1) ?? "");
        const d = this.#parse(replica, body);
        if (!d) {
          res.writeHead(400, { "content-type": "text/html" }).end("invalid_payload");
          return;
        }
        this.inFlight.push(d);
        const answer = () => {
          this.inFlight = this.inFlight.filter((x) => x !== d);
          this.deliveries.push(d);
          res.writeHead(200, { "content-type": "text/plain" }).end("ok");
        };
        if (this.holdMs > 0) setTimeout(answer, this.holdMs);
        else answer();
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/services/T0HA/B0HA`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  /** Deliveries of `kind` per project. */
  counts(kind: AlertKind): Map<string, number> {
    const m = new Map<string, number>();
    for (const d of this.deliveries) if (d.kind === kind) m.set(d.project, (m.get(d.project) ?? 0) + 1);
    return m;
  }

  #parse(replica: string, body: string): Delivery | null {
    let text = "";
    try {
      const raw = (JSON.parse(body) as { text?: unknown }).text;
      text = typeof raw === "string" ? raw : "";
    } catch {
      return null;
    }
    const kind = LABEL_TO_KIND.get(/^\S+ ([^:]+):/.exec(text)?.[1] ?? "");
    const project = this.#projects.find((p) => new RegExp(`\\b${p}\\b`).test(text));
    if (!kind || !project) return null;
    return { replica, project, kind, at: Date.now() };
  }
}

export interface Replica {
  readonly id: string;
  proc: ChildProcess;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
  /** The status server's base URL once it listens. */
  url(): string | null;
}

export interface HaOptions {
  projects: number;
  ttl: string;
  renew: string;
  schedule?: string;
  /** settings.alerts.sinks (default: one Slack sink posting to the receiver, per replica path). */
  sinks?: Record<string, unknown>[];
}

export class HaScene {
  readonly dir: string;
  readonly pg: PostgresCluster;
  readonly dbUrl: string;
  readonly db: pg.Pool;
  readonly sim: Sim;
  readonly slack: SlackReceiver;
  readonly projects: string[];
  readonly configPath: string;
  readonly replicas = new Map<string, Replica>();
  readonly #all: Replica[] = [];

  private constructor(o: {
    dir: string;
    pg: PostgresCluster;
    dbUrl: string;
    sim: Sim;
    slack: SlackReceiver;
    projects: string[];
  }) {
    this.dir = o.dir;
    this.pg = o.pg;
    this.dbUrl = o.dbUrl;
    this.db = new pg.Pool({ connectionString: o.dbUrl, max: 2 });
    this.db.on("error", () => undefined);
    this.sim = o.sim;
    this.slack = o.slack;
    this.projects = o.projects;
    this.configPath = join(o.dir, "monitor.yaml");
  }

  /** `n` projects (npm channel), each with 1.0.0 published everywhere; drift() hides it on npm. */
  static async start(o: HaOptions): Promise<HaScene> {
    const dir = mkdtempSync(join(tmpdir(), "monitor-ha-"));
    const cluster = await startPostgres();
    const dbUrl = cluster.createDatabase("ha");
    const sim = await startSim({ githubToken: TOKEN });
    const projects = Array.from({ length: o.projects }, (_, i) => `ha-p${String(i + 1).padStart(2, "0")}`);
    const slack = new SlackReceiver(projects);
    await slack.start();
    const published = Date.now() - 48 * 3_600_000;
    for (const name of projects) {
      sim.world.addProject({
        name,
        repo: `acme/${name}`,
        npm: name,
        crate: null,
        pypi: null,
        tap: null,
        targetsManifest: null,
      });
      sim.world.publish(name, "1.0.0", { publishedAt: published });
    }
    const scene = new HaScene({ dir, pg: cluster, dbUrl, sim, slack, projects });
    scene.#writeConfig(o);
    return scene;
  }

  #writeConfig(o: HaOptions): void {
    const config = {
      version: 1,
      settings: {
        ...this.sim.settingsOverlay(),
        http: { retries: 0, request_timeout: "5s" },
        grace: { github: "0", crates: "0", npm: "0", pypi: "0", homebrew: "0" },
        state_dir: "state",
        state: { url: this.dbUrl, lease_renew: o.renew, lease_ttl: o.ttl },
        watch: {
          schedule: o.schedule ?? "*/2 * * * * *",
          jitter: "0",
          hot_interval: "0",
          hot_for: "0",
          cycle_timeout: "20s",
          max_concurrent_cycles: 4,
        },
        alerts: {
          flap_cycles: 1,
          remind_every: "1h",
          retry_base: "200ms",
          retry_max: "1s",
          sinks: o.sinks ?? [
            { type: "slack", webhook_url: `${this.slack.url}/\${MONITOR_REPLICA_ID}`, min_interval: "0" },
          ],
        },
      },
      projects: this.projects.map((name) => ({
        name,
        repo: `acme/${name}`,
        tag_prefix: "v",
        channels: { npm: { package: name } },
      })),
    };
    writeFileSync(this.configPath, stringify(config));
  }

  /** Hides 1.0.0 on npm for `projects`: one drift incident each. */
  drift(projects: readonly string[]): void {
    for (const p of projects) this.sim.world.setHidden("npm", p, "1.0.0", true);
  }

  /** Starts (or restarts) replica `id` as a child process. */
  startReplica(id: string): Replica {
    const proc = spawn(
      process.execPath,
      [MAIN, "watch", "--config", this.configPath, "--drain-timeout", "3s", "--listen", "127.0.0.1:0"],
      {
        cwd: this.dir,
        env: {
          ...process.env,
          PATH: `${NODE_BIN_DIR}${delimiter}${process.env["PATH"] ?? ""}`,
          MONITOR_LOG_LEVEL: "info",
          MONITOR_REPLICA_ID: id,
          GITHUB_TOKEN: "",
          NO_COLOR: "1",
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    const logs: Record<string, unknown>[] = [];
    let partial = "";
    proc.stderr?.on("data", (d: Buffer) => {
      partial += d.toString("utf8");
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          logs.push({ msg: line, raw: true });
        }
      }
    });
    const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
    const replica: Replica = {
      id,
      proc,
      logs,
      exited,
      url: () => {
        const line = logs.find((l) => l["msg"] === "serving the status page, API and metrics");
        return typeof line?.["url"] === "string" ? line["url"] : null;
      },
    };
    this.replicas.set(id, replica);
    this.#all.push(replica);
    return replica;
  }

  async kill9(id: string): Promise<number> {
    const r = this.replicas.get(id);
    if (!r) throw new Error(`no replica ${id}`);
    const at = Date.now();
    r.proc.kill("SIGKILL");
    await r.exited;
    return at;
  }

  /** Lease rows: project -> owner (null when expired by the database's clock). */
  async owners(): Promise<Map<string, string | null>> {
    const { rows } = await this.db.query<{ project: string; owner: string | null }>(
      "SELECT project, CASE WHEN expires_at > now() THEN owner END AS owner FROM leases",
    );
    return new Map(rows.map((r) => [r.project, r.owner]));
  }

  async pendingOutbox(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE state = 'pending'");
    return Number(rows[0]?.n ?? 0);
  }

  async openIncidents(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM incidents WHERE state = 'open' AND project <> '*'",
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Lease takeovers (lease_events with a previous owner) after `sinceMs`, with the DB-clock delay figures. */
  async takeovers(from: string, sinceMs: number, ttlMs: number) {
    const { rows } = await this.db.query<{ project: string; owner: string; at: Date; prev: Date | null }>(
      `SELECT project, owner, at, previous_expired_at AS prev FROM lease_events
       WHERE previous_owner = $1 AND at >= to_timestamp($2 / 1000.0) ORDER BY id`,
      [from, sinceMs],
    );
    return rows.map((r) => ({
      project: r.project,
      owner: r.owner,
      at: r.at.getTime(),
      /** From the previous owner's last renewal (expiry − TTL, DB clock) to the takeover (DB clock). */
      sinceLastRenewalMs: r.prev ? r.at.getTime() - (r.prev.getTime() - ttlMs) : null,
    }));
  }

  /** Polls `cond` every 100 ms until it holds or `timeoutMs` passes (then fails with the replicas' log tails). */
  async until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let ok: boolean;
      try {
        ok = await cond();
      } catch {
        ok = false;
      }
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  tail(n = 12): string {
    return [...this.replicas.values()]
      .map(
        (r) =>
          `--- ${r.id}\n${r.logs
            .slice(-n)
            .map((l) => JSON.stringify(l))
            .join("\n")}`,
      )
      .join("\n");
  }

  async close(): Promise<void> {
    for (const r of this.#all) {
      if (r.proc.exitCode === null && r.proc.signalCode === null) {
        r.proc.kill("SIGCONT");
        r.proc.kill("SIGKILL");
      }
    }
    await Promise.all(this.#all.map((r) => r.exited));
    await this.db.end().catch(() => undefined);
    await this.slack.close();
    await this.sim.close();
    this.pg.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
